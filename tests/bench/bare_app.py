"""The reference point for cache hits: a bare FastAPI endpoint that returns a stored answer."""

from fastapi import FastAPI, Response

STORED = b'{"answer_id":"x","answer":"stored","sources":[],"model":"bare","cached":true}'

app = FastAPI()


@app.post("/api/ask")
async def ask() -> Response:
    return Response(content=STORED, media_type="application/json")


@app.get("/readyz")
async def ready() -> dict[str, str]:
    return {"status": "ready"}
