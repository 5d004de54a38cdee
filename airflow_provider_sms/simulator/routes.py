"""Small building blocks for the simulator's HTTP routes, shared by every gateway."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = ["Endpoint", "json_body"]

Endpoint = Callable[[Request], Awaitable[Response]]


def json_body(action: Callable[[dict[str, Any]], Any]) -> Endpoint:
    """A POST endpoint taking a JSON object; malformed input is a 400, not a server error."""

    async def endpoint(request: Request) -> Response:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("expected a JSON object")
            return JSONResponse(action(body))
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": f"{type(exc).__name__}: {exc}"}, status_code=400)

    return endpoint
