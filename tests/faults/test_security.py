"""Secrets: where they come from (arguments, environment, a private file), where they never
go (logs, reprs, exception texts, another host), and TLS checks that are never turned off."""

from __future__ import annotations

import io
import logging
import os
import re
import ssl
import traceback
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import pytest
import trustme
from aiohttp import web

import connectors
from core.config import load_credentials
from core.errors import AuthenticationError, ExchangeUnavailable, ExconnError
from core.logging import is_secret_name
from core.transport import RetryPolicy
from streams.engineio import ConnectionLost, EngineIOConnection
from tests.faults.conftest import EXCHANGES, FAST_POOLS, Exchange, open_exchange

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ("core", "connectors", "streams")

# -- where credentials come from ----------------------------------------------------------------


FILE_TEXT = '[peatio]\nkey = "file-key"\nsecret = "file-secret"\n'


def write_credentials(path: Path, mode: int, text: str = FILE_TEXT) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def test_credentials_come_from_arguments_then_environment_then_the_file(tmp_path):
    file = write_credentials(tmp_path / "credentials.toml", 0o600)
    env = {"EXCONN_PEATIO_KEY": "env-key", "EXCONN_PEATIO_SECRET": "env-secret"}
    from_arguments = load_credentials("peatio", file, key="arg-key", secret="arg-secret", environ=env)
    assert from_arguments == ("arg-key", "arg-secret")
    assert load_credentials("peatio", file, environ=env) == ("env-key", "env-secret")
    assert load_credentials("peatio", file, environ={}) == ("file-key", "file-secret")
    assert load_credentials("peatio", environ={"EXCONN_CREDENTIALS": str(file)}) == ("file-key", "file-secret")


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o602, 0o660])
def test_a_credentials_file_others_can_read_or_change_is_refused(tmp_path, mode):
    file = write_credentials(tmp_path / "credentials.toml", mode)
    with pytest.raises(AuthenticationError, match="chmod 600") as refused:
        load_credentials("peatio", file, environ={})
    assert "file-secret" not in str(refused.value) and "file-key" not in str(refused.value)


def test_a_credentials_file_of_another_user_is_refused(tmp_path, monkeypatch):
    file = write_credentials(tmp_path / "credentials.toml", 0o600)
    monkeypatch.setattr(os, "getuid", lambda: file.stat().st_uid + 1)  # as if someone else ran it
    with pytest.raises(AuthenticationError, match="belongs to uid"):
        load_credentials("peatio", file, environ={})


@pytest.mark.parametrize(("text", "environ", "message"), [
    ('[peatio]\nkey = "file-key"\n', {}, "both a key and a secret"),
    ('[qtrade]\nkey = "k"\nsecret = "s"\n', {}, r"no \[peatio\] table"),
    ('[peatio]\nkey = "file-key"\nsecret = file-secret\n', {}, "not valid TOML"),
    ("", {"EXCONN_PEATIO_KEY": "env-key"}, "EXCONN_PEATIO_SECRET"),
])
def test_incomplete_credentials_are_refused_without_showing_what_was_there(tmp_path, text, environ, message):
    file = write_credentials(tmp_path / "credentials.toml", 0o600, text)
    with pytest.raises(AuthenticationError, match=message) as refused:
        load_credentials("peatio", file, environ=environ)
    assert not {"file-key", "file-secret", "env-key"} & set(re.findall(r"[\w-]+", str(refused.value)))


def test_no_credentials_anywhere_says_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.config/exconn/credentials.toml
    with pytest.raises(AuthenticationError, match="EXCONN_PEATIO_KEY"):
        load_credentials("peatio", environ={})


def test_the_library_reads_credentials_from_no_other_place():
    """Nothing outside core/config.py looks at the environment or a file for a key or secret."""
    readers = re.compile(r"os\.environ|os\.getenv|getenv\(|dotenv|keyring|netrc|\.aws|credentials\.toml")
    found = [f"{path.relative_to(ROOT)}:{n}" for path in library_files() if path.name != "config.py"
             for n, line in enumerate(path.read_text().splitlines(), 1) if readers.search(line)]
    assert found == []


# -- where they never go: logs, reprs, exception texts ------------------------------------------------


class Captured:
    """Every credential-bearing value a session sent: headers, query and form fields whose
    names carry credentials (API keys, signatures, bearer tokens), split into their parts."""

    def __init__(self) -> None:
        self.values: set[str] = set()
        self.config = aiohttp.TraceConfig()
        self.config.on_request_start.append(self._request)
        self.config.on_request_chunk_sent.append(self._chunk)

    def session(self) -> aiohttp.ClientSession:
        """A session whose requests are captured."""
        return aiohttp.ClientSession(trace_configs=[self.config])

    def _note(self, name: str, value: str) -> None:
        if is_secret_name(name):
            self.values.update(part for part in re.split(r"[\s:,]+", value) if len(part) >= 12)

    async def _request(self, _session, _ctx, params: aiohttp.TraceRequestStartParams) -> None:
        for name, value in params.headers.items():
            self._note(name, value)
        for name, value in parse_qsl(urlsplit(str(params.url)).query):
            self._note(name, value)

    async def _chunk(self, _session, _ctx, params: aiohttp.TraceRequestChunkSentParams) -> None:
        for name, value in parse_qsl(params.chunk.decode("utf-8", "replace")):
            self._note(name, value)


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """Everything the library (not the sandbox) logs, at DEBUG."""
    logger = logging.getLogger("exconn")
    text = io.StringIO()
    handler = logging.StreamHandler(text)
    handler.addFilter(lambda record: not record.name.startswith("exconn.sandbox"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield text
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def full_private_round(exchange: Exchange, session: aiohttp.ClientSession) -> None:
    """Balances, an order placed, read, listed and canceled, an unknown order: every kind of
    signed request, GET and POST, and an error answer."""
    async with exchange.connector(session=session) as ex:
        await ex.fetch_balances()
        amount, price = await exchange.quiet_order("sell")
        order = await ex.create_order(exchange.symbol, "sell", amount, price)
        await ex.fetch_order(order.id, exchange.symbol)
        await ex.fetch_open_orders(exchange.symbol)
        await ex.cancel_order(order.id, exchange.symbol)
        with pytest.raises(ExconnError):
            await ex.fetch_order("987654321", exchange.symbol)  # an error answer


@pytest.mark.parametrize("exchange_id", EXCHANGES)
async def test_debug_logs_of_a_full_private_round_show_no_key_secret_or_signature(exchange_id, debug_log):
    captured = Captured()
    async with open_exchange(exchange_id) as exchange, captured.session() as session:
        await full_private_round(exchange, session)
    key, secret = exchange.sb.credentials(exchange_id)
    logged = debug_log.getvalue()
    assert "/" in logged and "status=" in logged  # the calls were logged, at DEBUG
    assert captured.values - {key}, "the requests carried a signature or token"
    leaked = [value for value in captured.values | {key, secret} if value in logged]
    assert leaked == []


@pytest.mark.parametrize("exchange_id", EXCHANGES)
async def test_errors_and_reprs_show_no_key_secret_or_signature(exchange_id):
    captured = Captured()
    async with open_exchange(exchange_id) as exchange, captured.session() as session:
        key, secret = exchange.sb.credentials(exchange_id)
        shown = [repr(exchange.ex), str(exchange.ex), repr(exchange.ex.credentials)]
        async with connectors.open(exchange_id, key=key, secret=secret[::-1], base_url=exchange.sb.url(exchange_id),
                                   session=session, retry=RetryPolicy(max_retries=0)) as wrong:
            with pytest.raises(AuthenticationError) as refused:  # a wrong secret: a refused signature
                await wrong.fetch_balances()
            shown += [repr(wrong), str(refused.value), repr(refused.value),
                      "".join(traceback.format_exception(refused.value))]
    assert captured.values - {key}
    leaked = [value for value in captured.values | {key, secret, secret[::-1]} if any(value in s for s in shown)]
    assert leaked == []


# -- TLS ------------------------------------------------------------------------------------------------


def library_files() -> list[Path]:
    return [path for package in LIBRARY for path in sorted((ROOT / package).rglob("*.py"))]


def test_no_code_path_turns_certificate_checks_off():
    unsafe = re.compile(r"ssl\s*=\s*False|verify_ssl|CERT_NONE|check_hostname\s*=\s*False|_create_unverified_context"
                        r"|PYTHONHTTPSVERIFY|ssl\s*=\s*None")
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}" for path in library_files()
             for n, line in enumerate(path.read_text().splitlines(), 1) if unsafe.search(line)]
    assert found == []


@pytest.fixture(scope="module")
def untrusted_ca() -> trustme.CA:
    """A certificate authority no system trusts: a server with its certificate is an impostor."""
    return trustme.CA()


@pytest.fixture
async def impostor(untrusted_ca) -> AsyncIterator[tuple[str, list[web.Request]]]:
    """An HTTPS server on loopback with a certificate for 127.0.0.1 from the untrusted CA:
    (base URL, the requests that got through to it)."""
    seen: list[web.Request] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request)
        return web.json_response({})

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    untrusted_ca.issue_cert("127.0.0.1").configure_cert(context)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    yield f"https://127.0.0.1:{runner.addresses[0][1]}", seen
    await runner.cleanup()


@pytest.mark.parametrize("exchange_id", EXCHANGES)
async def test_a_server_without_a_trusted_certificate_gets_no_request(exchange_id, impostor, untrusted_ca):
    url, seen = impostor
    async with connectors.open(exchange_id, key="k" * 16, secret="s" * 32, base_url=url, sync_clock=False,
                               retry=RetryPolicy(max_retries=0), rate_limits=FAST_POOLS.get(exchange_id)) as ex:
        with pytest.raises(ExchangeUnavailable, match="certificate"):
            await ex.fetch_balances()
    assert seen == []
    # the same server, once its CA is trusted, answers: the refusal was the certificate check
    trusted = ssl.create_default_context()
    untrusted_ca.configure_trust(trusted)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trusted)) as session:
        async with session.get(url + "/") as response:
            assert response.status == 200 and len(seen) == 1


async def test_the_book_feed_socket_refuses_a_server_without_a_trusted_certificate(impostor):
    url, seen = impostor
    with pytest.raises(ConnectionLost, match="certificate"):
        await EngineIOConnection("wss" + url[5:], connect_timeout=2.0).connect()
    assert seen == []


# -- no credentials to another host --------------------------------------------------------------------


@pytest.fixture
async def thief() -> AsyncIterator[tuple[str, list[web.Request]]]:
    """A host that is not the exchange, noting what reaches it: (base URL, requests)."""
    seen: list[web.Request] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request)
        return web.json_response([])

    async with served(handle) as url:
        yield url, seen


class served:
    """An aiohttp app answering every path with ``handle``, on a free loopback port."""

    def __init__(self, handle) -> None:
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", handle)
        self.runner = web.AppRunner(self.app, handle_signals=False, access_log=None)

    async def __aenter__(self) -> str:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        return f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    async def __aexit__(self, *exc_info: object) -> None:
        await self.runner.cleanup()


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("exchange_id", EXCHANGES)
async def test_a_redirect_to_another_host_is_not_followed_with_the_credentials(exchange_id, status, thief):
    thief_url, stolen = thief
    asked: list[dict[str, str]] = []

    async def redirect(request: web.Request) -> web.Response:
        asked.append(dict(request.headers))
        return web.Response(status=status, headers={"Location": thief_url + "/collect"})

    async with served(redirect) as exchange_url:
        async with connectors.open(exchange_id, key="k" * 16, secret="s" * 32, base_url=exchange_url,
                                   sync_clock=False, retry=RetryPolicy(max_retries=0),
                                   rate_limits=FAST_POOLS.get(exchange_id)) as ex:
            with pytest.raises(ExconnError):
                await ex.fetch_balances()
    assert len(asked) == 1  # the signed request reached the exchange's host, once
    assert stolen == []  # and nothing went on to the other host


async def test_a_raw_request_path_cannot_send_the_credentials_to_another_host(thief):
    thief_url, stolen = thief
    async with open_exchange("btcalpha") as exchange:
        try:
            await exchange.ex.request("GET", "@" + thief_url.removeprefix("http://") + "/collect", auth=True)
        except ExconnError:
            pass  # refused: fine
    assert [request.headers.get("X-KEY") for request in stolen] == []
