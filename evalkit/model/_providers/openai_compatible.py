"""OpenAI-compatible hosts by name: ``vllm/``, ``ollama/``, ``openrouter/``, ``together/``,
``groq/``, ``fireworks/``.

Each is the Chat Completions protocol of ``openai/`` with its own default base
URL and environment variables (``{PREFIX}_BASE_URL``, ``{PREFIX}_API_KEY``),
so ``--model groq/llama-3.1-8b-instant`` needs only ``GROQ_API_KEY``.
"""

from __future__ import annotations

from .openai import OpenAIAPI


class VLLMAPI(OpenAIAPI):
    """A vLLM server (``vllm serve``); local, so no key is needed."""

    provider = "vLLM"
    env_prefix = "VLLM"
    default_base_url = "http://localhost:8000/v1"
    needs_key = False
    sends_top_k = True


class OllamaAPI(OpenAIAPI):
    """A local Ollama server's OpenAI-compatible endpoint; no key is needed."""

    provider = "Ollama"
    env_prefix = "OLLAMA"
    default_base_url = "http://localhost:11434/v1"
    needs_key = False


class OpenRouterAPI(OpenAIAPI):
    provider = "OpenRouter"
    env_prefix = "OPENROUTER"
    default_base_url = "https://openrouter.ai/api/v1"
    sends_top_k = True


class TogetherAPI(OpenAIAPI):
    provider = "Together"
    env_prefix = "TOGETHER"
    default_base_url = "https://api.together.xyz/v1"
    sends_top_k = True


class GroqAPI(OpenAIAPI):
    provider = "Groq"
    env_prefix = "GROQ"
    default_base_url = "https://api.groq.com/openai/v1"


class FireworksAPI(OpenAIAPI):
    provider = "Fireworks"
    env_prefix = "FIREWORKS"
    default_base_url = "https://api.fireworks.ai/inference/v1"
    sends_top_k = True
