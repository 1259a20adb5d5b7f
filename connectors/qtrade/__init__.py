"""qTrade (https://api.qtrade.io/v1)."""

from connectors.qtrade.client import QTrade

__all__ = ["QTrade"]
