"""CoinDCX (https://api.coindcx.com, market data at https://public.coindcx.com)."""

from connectors.coindcx.client import CoinDCX

__all__ = ["CoinDCX"]
