"""HTTP model providers (plain HTTP/1.1 via h11, httpx's TLS defaults; no vendor SDKs)."""
