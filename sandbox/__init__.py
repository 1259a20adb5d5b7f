"""The offline sandbox exchange: a matching engine and one aiohttp app per exchange."""
