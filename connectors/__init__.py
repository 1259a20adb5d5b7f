"""Exchange connectors behind one async API.

    async with connectors.open("btcalpha", key=..., secret=...) as ex:
        book = await ex.fetch_order_book("BTC/USD")

Connector modules are imported on first use, so ``import connectors`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from core.connector import Connector
from core.errors import NotSupported

# exchange id -> (module, class name)
_REGISTRY: dict[str, tuple[str, str]] = {
    "btcalpha": ("connectors.btcalpha", "BtcAlpha"),
    "coindcx": ("connectors.coindcx", "CoinDCX"),
    "peatio": ("connectors.peatio", "Peatio"),
    "qtrade": ("connectors.qtrade", "QTrade"),
    "quidax": ("connectors.quidax", "Quidax"),
}

EXCHANGES: tuple[str, ...] = tuple(sorted(_REGISTRY))

_CLASS_TO_ID = {cls: ex_id for ex_id, (_, cls) in _REGISTRY.items()}

__all__ = ["open", "connector_class", "EXCHANGES", "Connector", *sorted(_CLASS_TO_ID)]


def connector_class(exchange_id: str) -> type[Connector]:
    """The connector class for an exchange id; NotSupported for an unknown id."""
    try:
        module, name = _REGISTRY[exchange_id]
    except (KeyError, TypeError):
        raise NotSupported(
            f"unknown exchange {exchange_id!r}", reason=f"supported: {', '.join(EXCHANGES) or 'none yet'}"
        ) from None
    return getattr(importlib.import_module(module), name)


def open(exchange_id: str, *, key: str | None = None, secret: str | None = None,
         base_url: str | None = None, session: Any = None, **options: Any) -> Connector:
    """A connector for ``exchange_id`` (use it with ``async with``); no I/O happens here.
    ``base_url`` replaces scheme, host and port of every host the exchange uses."""
    return connector_class(exchange_id)(key=key, secret=secret, base_url=base_url, session=session, **options)


def __getattr__(name: str) -> Any:
    if name in _CLASS_TO_ID:
        return connector_class(_CLASS_TO_ID[name])
    if name in ("BtcAlpha", "CoinDCX", "Peatio", "QTrade", "Quidax"):
        raise AttributeError(f"connectors.{name} is not available yet")
    raise AttributeError(f"module 'connectors' has no attribute {name!r}")
