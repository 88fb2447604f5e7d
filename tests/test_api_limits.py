"""The body limit middleware alone (api/limits.py), with hand-made ASGI messages; its 413s
through the app are in test_api_units.py."""

from __future__ import annotations

import asyncio
from typing import Any

from api.limits import BodyLimit


def run(messages: list[dict[str, Any]], limit: int) -> tuple[list[bytes], list[dict[str, Any]]]:
    """What the app received as its body (one entry per call of the app) and what was sent."""
    seen: list[bytes] = []
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        seen.append(message["body"])

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "path": "/v1/units/import", "headers": []}
    asyncio.run(BodyLimit(app, default_bytes=limit, import_bytes=limit)(scope, receive, send))
    return seen, sent


def test_a_body_in_chunks_reaches_the_app_whole() -> None:
    chunks = [
        {"type": "http.request", "body": b"ref", "more_body": True},
        {"type": "http.request", "body": b"erence\n", "more_body": False},
    ]
    seen, sent = run(chunks, limit=100)
    assert (seen, sent) == ([b"reference\n"], [])


def test_a_client_gone_mid_body_reaches_no_app() -> None:
    """A truncated file must not be imported as if it were whole."""
    messages = [
        {"type": "http.request", "body": b"reference\nLOT-1\n", "more_body": True},
        {"type": "http.disconnect"},
    ]
    assert run(messages, limit=100) == ([], [])


def test_past_the_limit_the_app_is_not_called_and_413_is_sent() -> None:
    chunks = [{"type": "http.request", "body": b"x" * 60, "more_body": True}] * 2
    seen, sent = run(list(chunks), limit=100)
    assert seen == []
    assert sent[0]["status"] == 413
