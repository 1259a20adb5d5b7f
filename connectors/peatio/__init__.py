"""Peatio / OpenDAX (https://exchange.intercore.trade/api/v2/peatio)."""

from connectors.peatio.client import Peatio

__all__ = ["Peatio"]
