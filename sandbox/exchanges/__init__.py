"""One aiohttp app per exchange, each written from its spec in ``../shared/specs/``."""
