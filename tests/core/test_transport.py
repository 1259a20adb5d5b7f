"""Transport behaviour against a real aiohttp server on loopback."""

import asyncio
import logging
import socket
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from core.errors import (
    BadRequest,
    ExchangeUnavailable,
    InsufficientFunds,
    InvalidNonce,
    OutcomeUnknown,
    RateLimited,
    RequestTimeout,
)
from core.transport import Prepared, RetryPolicy, Timeouts, Transport, parse_retry_after


class Script:
    """A server whose answers follow a list: each entry is (status, body, headers, delay)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.hits: list[web.Request] = []
        self.bodies: list[bytes] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.hits.append(request)
        self.bodies.append(await request.read())
        status, body, headers, delay = self.answers[min(len(self.hits), len(self.answers)) - 1]
        if delay:
            await asyncio.sleep(delay)
        return web.Response(status=status, body=body, headers=headers, content_type="application/json")


@asynccontextmanager
async def serve(script: Script):
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", script.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        await server.close()


def ok(body=b'{"ok": true}', status=200, headers=None, delay=0.0):
    return (status, body, headers or {}, delay)


class Attempts:
    """An attempt() factory that counts how often a request was (re)built."""

    def __init__(self, method: str, url: str, body: bytes | None = None):
        self.method, self.url, self.body = method, url, body
        self.count = 0

    def __call__(self):
        outer = self

        @asynccontextmanager
        async def attempt():
            outer.count += 1
            yield Prepared(outer.method, outer.url, "/path", {"X-SIGN": "s3cr3tsig"}, outer.body)

        return attempt()


def transport(**kw) -> tuple[Transport, list[float]]:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    kw.setdefault("retry", RetryPolicy(max_retries=3, base_delay=0.1, max_delay=1.0))
    return Transport("testex", sleep=fake_sleep, **kw), slept


async def test_successful_get_returns_status_and_body():
    script = Script(ok(b'{"price": "1.5"}'))
    async with serve(script) as url:
        t, _ = transport()
        try:
            resp = await t.request(Attempts("GET", url + "/x"), idempotent=True)
        finally:
            await t.close()
    assert resp.status == 200 and resp.body == b'{"price": "1.5"}'
    assert resp.latency_ms > 0


async def test_idempotent_get_is_retried_on_5xx_with_capped_backoff():
    script = Script(ok(status=503), ok(status=502), ok(b"[1]"))
    async with serve(script) as url:
        t, slept = transport()
        try:
            resp = await t.request(Attempts("GET", url), idempotent=True)
        finally:
            await t.close()
    assert resp.body == b"[1]" and len(script.hits) == 3
    assert len(slept) == 2 and all(0 <= s <= 1.0 for s in slept)


async def test_idempotent_get_gives_up_after_max_retries_with_exchange_unavailable():
    script = Script(ok(status=500))
    async with serve(script) as url:
        t, _ = transport()
        try:
            with pytest.raises(ExchangeUnavailable) as info:
                await t.request(Attempts("GET", url), idempotent=True)
        finally:
            await t.close()
    assert len(script.hits) == 4  # first try + 3 retries
    assert info.value.status == 500 and info.value.exchange == "testex"


async def test_mutating_post_answered_5xx_raises_outcome_unknown_without_retry():
    script = Script(ok(status=502))
    async with serve(script) as url:
        t, _ = transport()
        try:
            with pytest.raises(OutcomeUnknown) as info:
                await t.request(Attempts("POST", url, b"a=1"), idempotent=False)
        finally:
            await t.close()
    assert len(script.hits) == 1
    assert info.value.method == "POST" and info.value.status == 502


async def test_read_timeout_on_get_retries_then_raises_request_timeout():
    script = Script(ok(delay=0.5))
    async with serve(script) as url:
        t, _ = transport(timeouts=Timeouts(connect=1, read=0.05, total=2), retry=RetryPolicy(max_retries=1))
        try:
            with pytest.raises(RequestTimeout):
                await t.request(Attempts("GET", url), idempotent=True)
        finally:
            await t.close()
    assert len(script.hits) == 2


async def test_read_timeout_on_post_is_outcome_unknown_after_one_send():
    script = Script(ok(delay=0.5))
    async with serve(script) as url:
        t, _ = transport(timeouts=Timeouts(connect=1, read=0.05, total=2))
        try:
            with pytest.raises(OutcomeUnknown) as info:
                await t.request(Attempts("POST", url, b"x=1"), idempotent=False)
        finally:
            await t.close()
    assert len(script.hits) == 1
    assert isinstance(info.value.cause, RequestTimeout)


async def test_connection_refused_is_retried_even_for_post_then_exchange_unavailable():
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    attempts = Attempts("POST", f"http://127.0.0.1:{port}/order", b"a=1")
    t, slept = transport()
    try:
        with pytest.raises(ExchangeUnavailable):
            await t.request(attempts, idempotent=False)
    finally:
        await t.close()
    assert attempts.count == 4 and len(slept) == 3


async def test_429_honours_retry_after_and_recovers():
    script = Script(ok(status=429, headers={"Retry-After": "2"}), ok(b"{}"))
    told: list[float] = []
    async with serve(script) as url:
        t, _ = transport()
        try:
            resp = await t.request(Attempts("POST", url), idempotent=False, on_rate_limited=told.append)
        finally:
            await t.close()
    assert resp.status == 200 and told == [2.0] and len(script.hits) == 2


async def test_429_storm_ends_in_rate_limited_with_retry_after():
    script = Script(ok(status=429, headers={"Retry-After": "7"}))
    async with serve(script) as url:
        t, slept = transport(retry=RetryPolicy(max_rate_limited_retries=2))
        try:
            with pytest.raises(RateLimited) as info:
                await t.request(Attempts("GET", url), idempotent=True)
        finally:
            await t.close()
    assert info.value.retry_after == 7.0 and len(script.hits) == 3 and slept == [7.0, 7.0]


async def test_error_mapper_decides_the_exception_and_keeps_exchange_code():
    script = Script(ok(b'{"error": {"code": 2002, "message": "no money"}}', status=400))

    def mapper(resp):
        return InsufficientFunds("no money", code=2002)

    async with serve(script) as url:
        t, _ = transport(error_mapper=mapper)
        try:
            with pytest.raises(InsufficientFunds) as info:
                await t.request(Attempts("POST", url), idempotent=False)
        finally:
            await t.close()
    err = info.value
    assert (err.exchange, err.status, err.code) == ("testex", 400, "2002")
    assert str(err) == "[testex] HTTP 400 code=2002: no money"


async def test_invalid_nonce_is_retried_once_with_a_fresh_attempt():
    script = Script(ok(b'{"error": "nonce"}', status=401), ok(b"{}"))
    attempts = Attempts("POST", "")

    def mapper(resp):
        return InvalidNonce("nonce too low") if resp.status == 401 else None

    async with serve(script) as url:
        attempts.url = url
        t, _ = transport(error_mapper=mapper)
        try:
            resp = await t.request(attempts, idempotent=False)
        finally:
            await t.close()
    assert resp.status == 200 and attempts.count == 2


async def test_unmapped_4xx_falls_back_to_status_based_error_with_body_excerpt():
    script = Script(ok(b'{"weird": 1}', status=418))
    async with serve(script) as url:
        t, _ = transport()
        try:
            with pytest.raises(BadRequest, match="weird"):
                await t.request(Attempts("GET", url), idempotent=True)
        finally:
            await t.close()


async def test_request_log_has_method_path_status_latency_and_no_secret(caplog):
    script = Script(ok())
    caplog.set_level(logging.DEBUG, logger="exconn")
    async with serve(script) as url:
        t, _ = transport()
        try:
            await t.request(Attempts("GET", url + "/v1/x?signature=s3cr3tsig"), idempotent=True)
        finally:
            await t.close()
    text = caplog.text
    assert "event='http'" in text and "method='GET'" in text and "path='/path'" in text
    assert "status=200" in text and "latency_ms=" in text
    assert "s3cr3tsig" not in text


async def test_injected_session_is_used_and_not_closed():
    script = Script(ok())
    async with serve(script) as url:
        async with aiohttp.ClientSession() as session:
            t = Transport("testex", session=session)
            await t.request(Attempts("GET", url), idempotent=True)
            await t.close()
            assert not session.closed


def test_parse_retry_after_reads_seconds_and_http_dates():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
