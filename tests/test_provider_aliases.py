"""vllm/, ollama/, openrouter/, together/, groq/, fireworks/: OpenAI-compatible hosts by name."""

from __future__ import annotations

import pytest

from evalkit.errors import UsageError
from evalkit.model import GenerateConfig, get_model
from evalkit.model._providers.openai import OpenAIAPI
from evalkit.testing import ProviderServer

pytest_plugins = ["provider_fixtures"]

# provider: (environment prefix, documented default base URL, needs a key)
ALIASES = {
    "vllm": ("VLLM", "http://localhost:8000/v1", False),
    "ollama": ("OLLAMA", "http://localhost:11434/v1", False),
    "openrouter": ("OPENROUTER", "https://openrouter.ai/api/v1", True),
    "together": ("TOGETHER", "https://api.together.xyz/v1", True),
    "groq": ("GROQ", "https://api.groq.com/openai/v1", True),
    "fireworks": ("FIREWORKS", "https://api.fireworks.ai/inference/v1", True),
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for prefix, _, _ in ALIASES.values():
        monkeypatch.delenv(f"{prefix}_BASE_URL", raising=False)
        monkeypatch.delenv(f"{prefix}_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "not-for-aliases")


@pytest.mark.anyio
@pytest.mark.parametrize("alias", sorted(ALIASES))
async def test_alias_reads_its_own_base_url_and_key(
    alias: str, provider_server: ProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """{PREFIX}_BASE_URL and {PREFIX}_API_KEY point the alias at a server, which gets a
    Chat Completions request with that key and the model name after the slash."""
    prefix = ALIASES[alias][0]
    monkeypatch.setenv(f"{prefix}_BASE_URL", provider_server.openai_base_url)
    monkeypatch.setenv(f"{prefix}_API_KEY", f"key-for-{alias}")
    model = get_model(f"{alias}/some-model")
    try:
        output = await model.generate("hello")
    finally:
        await model.aclose()
    assert output.completion == "HELLO"
    [request] = provider_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer key-for-{alias}"
    assert request.json["model"] == "some-model"


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_alias_default_base_url(alias: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no base URL set, each alias uses its documented default; hosted ones need
    their own key variable, local ones none."""
    prefix, default, needs_key = ALIASES[alias]
    if needs_key:
        with pytest.raises(UsageError, match=f"{prefix}_API_KEY is not set"):
            get_model(f"{alias}/m")
        monkeypatch.setenv(f"{prefix}_API_KEY", "k")
    api = get_model(f"{alias}/m").api
    assert isinstance(api, OpenAIAPI)
    assert api.base_url == default


@pytest.mark.anyio
async def test_vllm_sends_top_k(provider_server: ProviderServer,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    """vLLM takes top_k, which OpenAI itself does not: it is sent."""
    monkeypatch.setenv("VLLM_BASE_URL", provider_server.openai_base_url)
    model = get_model("vllm/m", config=GenerateConfig(top_k=20))
    try:
        await model.generate("hi")
    finally:
        await model.aclose()
    assert provider_server.requests[-1].json["top_k"] == 20
