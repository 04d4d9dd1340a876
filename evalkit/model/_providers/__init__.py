"""HTTP model providers (httpx, no vendor SDKs)."""
