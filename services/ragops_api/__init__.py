"""The query API: FastAPI app, routes and schemas."""
