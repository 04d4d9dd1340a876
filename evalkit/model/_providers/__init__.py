"""HTTP model providers: no vendor SDKs; requests go through a ``Transport`` (aiohttp by default)."""
