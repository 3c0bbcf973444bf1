"""422 bodies that name the problem without echoing the request back.

FastAPI's default handler copies each invalid value into `input`: a 20,000-character
question came back whole in its own error, in logs and in the user's browser.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def without_input(errors: list[Any]) -> list[dict[str, Any]]:
    """The validation errors as FastAPI lists them, minus the offending values (pure)."""
    return [
        {key: value for key, value in error.items() if key != "input"}
        for error in errors
        if isinstance(error, dict)
    ]


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": jsonable_encoder(without_input(list(errors)))}, status_code=422)
