"""Fakes for testing evals and evalkit itself; users may use them too."""

__all__: list[str] = []
