"""The built-in model providers and ``get_model``.

A fixed table, imported lazily so that ``evalkit eval --model mockllm/model``
never imports HTTP provider code it does not use.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..errors import UnknownProviderError, UsageError
from ._api import ModelAPI
from ._config import GenerateConfig
from ._model import Model, active_model, model_for_role

PROVIDERS: dict[str, str] = {
    "mockllm": "evalkit.model._mock:MockLLM",
    "openai": "evalkit.model._providers.openai:OpenAIAPI",
    "anthropic": "evalkit.model._providers.anthropic:AnthropicAPI",
    "vllm": "evalkit.model._providers.openai_compatible:VLLMAPI",
    "ollama": "evalkit.model._providers.openai_compatible:OllamaAPI",
    "openrouter": "evalkit.model._providers.openai_compatible:OpenRouterAPI",
    "together": "evalkit.model._providers.openai_compatible:TogetherAPI",
    "groq": "evalkit.model._providers.openai_compatible:GroqAPI",
    "fireworks": "evalkit.model._providers.openai_compatible:FireworksAPI",
}


def get_model(
    model: str | Model | None = None,
    *,
    role: str | None = None,
    default: str | Model | None = None,
    base_url: str | None = None,
    config: GenerateConfig | None = None,
    **model_args: Any,
) -> Model:
    """The model named ``provider/name`` (a ``Model`` is returned as is).

    With ``role`` ("grader", ...): the model the eval binds to that role, else
    ``model``, else ``default``, else the evaluated model. With no name at all:
    the model being evaluated, in a running sample or scorer and, as in Inspect,
    while ``eval()`` or ``eval_retry()`` builds a ``@task`` function's Task.
    """
    if role is not None:
        bound_model = model_for_role(role)
        if bound_model is not None:
            return bound_model
        model = model if model is not None else default
    if model is None:
        return _evaluated_model()
    if isinstance(model, Model):
        return model
    provider, _, name = model.partition("/")
    if not name:
        raise UsageError(
            f"model {model!r} is not of the form provider/name; e.g. --model mockllm/model"
        )
    if provider not in PROVIDERS:
        known = ", ".join(sorted(PROVIDERS))
        raise UnknownProviderError(
            f"unknown model provider {provider!r} in {model!r}; known providers: {known}"
        )
    module_name, _, class_name = PROVIDERS[provider].partition(":")
    api_class: type[ModelAPI] = getattr(importlib.import_module(module_name), class_name)
    effective = config or GenerateConfig()
    try:
        api = api_class(name, base_url=base_url, config=effective, **model_args)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"bad model argument for {model!r}: {exc}; check your -M values") from exc
    return Model(model, api, effective, args=model_args, base_url=base_url)


def _evaluated_model() -> Model:
    evaluated = active_model()
    if evaluated is None:
        raise UsageError(
            "get_model() with no name means the model being evaluated, and no eval is "
            "running here (it works while eval() builds a task and in samples and scorers); "
            "name a model instead, e.g. get_model('openai/gpt-4o-mini')")
    return evaluated
