"""The reference point for cache hits through Redis: FastAPI + one Redis GET, returning the
bytes."""

import os

from fastapi import FastAPI, Response
from redis.asyncio import Redis

KEY = "ragops:bench:bare"
redis = Redis.from_url(os.environ["RAGOPS_REDIS_URL"])
app = FastAPI()


@app.post("/api/ask")
async def ask() -> Response:
    return Response(content=await redis.get(KEY) or b"{}", media_type="application/json")


@app.get("/readyz")
async def ready() -> dict[str, str]:
    await redis.set(
        KEY, b'{"answer_id":"x","answer":"stored","sources":[],"model":"bare","cached":true}'
    )
    return {"status": "ready"}
