"""The middlewares of api/limits.py alone, with hand-made ASGI messages: the body limit (its
413s through the app are in test_api_units.py) and admission (a real server under many
clients is in test_served.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from api.errors import ReaderStalled
from api.limits import Admission, BodyLimit, Message, is_long


def run(messages: list[dict[str, Any]], limit: int) -> tuple[list[bytes], list[Message]]:
    """What the app received as its body (one entry per call of the app) and what was sent."""
    seen: list[bytes] = []
    sent: list[Message] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        seen.append(message["body"])

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: Message) -> None:
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
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b"reference\nLOT-1\n", "more_body": True},
        {"type": "http.disconnect"},
    ]
    assert run(messages, limit=100) == ([], [])


def test_past_the_limit_the_app_is_not_called_and_413_is_sent() -> None:
    chunks = [{"type": "http.request", "body": b"x" * 60, "more_body": True}] * 2
    seen, sent = run(list(chunks), limit=100)
    assert seen == []
    assert sent[0]["status"] == 413


def test_admission_lets_in_at_most_its_number_and_each_in_turn() -> None:
    """30 requests at once through Admission(3): never more than 3 in the app, every one
    answered, each turn given back when its response starts, in arrival order."""
    inside, most_inside, entered = 0, 0, []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal inside, most_inside
        inside += 1
        most_inside = max(most_inside, inside)
        entered.append(scope["path"])
        await asyncio.sleep(0.001)
        inside -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(0.001)  # the body of a slow reader: the turn is already given
        await send({"type": "http.response.body", "body": b"ok"})

    async def main() -> list[list[Message]]:
        admission = Admission(app, most=3, most_long=1)
        sent: list[list[Message]] = [[] for _ in range(30)]

        async def one(i: int) -> None:
            async def send(message: Message) -> None:
                sent[i].append(message)

            scope = {"type": "http", "method": "GET", "path": str(i)}
            await admission(scope, receive_nothing, send)

        await asyncio.gather(*(one(i) for i in range(30)))
        return sent

    async def receive_nothing() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    sent = asyncio.run(main())
    assert most_inside == 3
    assert entered == [str(i) for i in range(30)]
    assert all(
        [m["type"] for m in messages] == ["http.response.start", "http.response.body"]
        for messages in sent
    )


def test_admission_gives_the_turn_back_when_the_app_fails() -> None:
    async def failing(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    async def main() -> int:
        admission = Admission(failing, most=1, most_long=1)
        failures = 0
        for _ in range(3):  # with the turn kept, the second call would wait for ever
            try:
                scope = {"type": "http", "method": "GET", "path": "/v1/units"}
                await asyncio.wait_for(admission(scope, None, None), 5)  # type: ignore[arg-type]
            except RuntimeError:
                failures += 1
        return failures

    assert asyncio.run(main()) == 3


@pytest.mark.parametrize(
    ("method", "path", "long"),
    [
        ("POST", "/v1/units/import", True),
        ("POST", "/ui/households/import/", True),
        ("POST", "/v1/rounds/7/publish", True),
        ("GET", "/v1/rounds/7/result", True),
        ("GET", "/ui/rounds/7/report", True),
        ("GET", "/ui/rounds/7/export.xlsx", True),
        ("GET", "/ui/units/import", False),  # the form, not the import
        ("GET", "/v1/units", False),
        ("POST", "/v1/units", False),
        ("POST", "/v1/rounds", False),  # queued, solved by a worker
    ],
)
def test_long_requests_are_imports_publications_and_whole_results(
    method: str, path: str, long: bool
) -> None:
    assert is_long(method, path) is long


async def receive_nothing() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def test_long_requests_never_hold_the_turns_of_short_ones() -> None:
    """Admission(1, 1): an import holding the long turn does not keep a page out; a second
    import waits for the first."""
    release_import = asyncio.Event()
    done: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["path"].endswith("/import"):
            await release_import.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        done.append(scope["path"])

    async def request(admission: Admission, method: str, path: str) -> None:
        async def send(message: Message) -> None:
            pass

        scope = {"type": "http", "method": method, "path": path}
        await admission(scope, receive_nothing, send)

    async def main() -> None:
        admission = Admission(app, most=1, most_long=1)
        first = asyncio.create_task(request(admission, "POST", "/v1/units/import"))
        second = asyncio.create_task(request(admission, "POST", "/v1/households/import"))
        await asyncio.wait_for(request(admission, "GET", "/v1/units"), 5)
        assert done == ["/v1/units"]  # both imports still waiting
        release_import.set()
        await asyncio.wait_for(asyncio.gather(first, second), 5)
        assert done == ["/v1/units", "/v1/units/import", "/v1/households/import"]

    asyncio.run(main())


def test_a_long_request_keeps_its_turn_until_its_response_ends() -> None:
    """A result streamed to a slow reader holds a database connection: its turn is given
    back with the last chunk, so that slow readers never hold more than the long turns.
    A short request's turn is given back when its response starts."""
    reader_done = asyncio.Event()
    entered: list[str] = []
    done: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        entered.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{", "more_body": True})
        if scope["path"].endswith("/result"):
            await reader_done.wait()  # the client reads slowly
        await send({"type": "http.response.body", "body": b"}"})
        done.append(scope["path"])

    async def request(admission: Admission, path: str) -> None:
        async def send(message: Message) -> None:
            pass

        await admission({"type": "http", "method": "GET", "path": path}, receive_nothing, send)

    async def main() -> None:
        admission = Admission(app, most=1, most_long=1)
        first = asyncio.create_task(request(admission, "/v1/rounds/1/result"))
        await asyncio.sleep(0.01)  # the first result is streaming
        second = asyncio.create_task(request(admission, "/v1/rounds/2/result"))
        await asyncio.wait_for(request(admission, "/v1/units"), 5)
        await asyncio.sleep(0.01)
        assert done == ["/v1/units"]
        # the second result waits for the long turn, though the first's response started
        assert entered == ["/v1/rounds/1/result", "/v1/units"]
        reader_done.set()
        await asyncio.wait_for(asyncio.gather(first, second), 5)
        assert done == ["/v1/units", "/v1/rounds/1/result", "/v1/rounds/2/result"]

    asyncio.run(main())


def test_a_long_response_nobody_reads_is_abandoned_and_its_turn_given_back() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{", "more_body": True})
        await send({"type": "http.response.body", "body": b"}"})

    async def main() -> list[str]:
        admission = Admission(app, most=1, most_long=1, stalled_after_s=0.05)
        sent: list[str] = []

        async def stalled(message: Message) -> None:
            if message["type"] == "http.response.body":
                await asyncio.Event().wait()  # the client's window stays shut

        async def reading(message: Message) -> None:
            sent.append(message["type"])

        scope = {"type": "http", "method": "GET", "path": "/v1/rounds/1/result"}
        with pytest.raises(ReaderStalled):  # for UnexpectedErrors to log (tests/test_api_errors)
            await asyncio.wait_for(admission(scope, receive_nothing, stalled), 5)
        await asyncio.wait_for(admission(scope, receive_nothing, reading), 5)  # the turn is free
        return sent

    assert asyncio.run(main()) == ["http.response.start", *["http.response.body"] * 2]
