"""qTrade connector tests: an aioresponses mock that works with this aiohttp."""

from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import ClientResponse
from aioresponses import aioresponses


class _Response(ClientResponse):
    """aioresponses 0.7.9 builds responses without the ``stream_writer`` that aiohttp >= 3.12
    requires; a mocked response only reads its ``output_size``."""

    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


class _Mock(aioresponses):
    def add(self, url: Any, method: str = "GET", **kwargs: Any) -> None:
        kwargs.setdefault("response_class", _Response)
        super().add(url, method, **kwargs)


@pytest.fixture
def mock_http():
    """aioresponses, recording every request aiohttp is asked to send."""
    with _Mock() as mocked:
        yield mocked
