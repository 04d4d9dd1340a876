"""The built-in model providers and ``get_model``.

A fixed table, imported lazily so that ``evalkit eval --model mockllm/model``
never imports HTTP provider code it does not use.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import MutableMapping
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import Any

from .._util._context import bound
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
    memoize: bool = True,
    **model_args: Any,
) -> Model:
    """The model named ``provider/name`` (a ``Model`` is returned as is).

    With ``role`` ("grader", ...): the model the eval binds to that role, else
    ``model``, else ``default``, else the evaluated model. With no name at all:
    the model being evaluated, in a running sample or scorer and, as in Inspect,
    while ``eval()`` or ``eval_retry()`` builds a ``@task`` function's Task.

    During an eval, a model named the same way (name, config, base URL, args) is
    made once and shared (``memoize=False``: a new one each call), as in Inspect;
    the eval releases it when it ends. ``mockllm`` models are never shared (their
    ``custom_outputs`` are consumed as they answer).
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
    effective = config or GenerateConfig()
    cache = _models.get()
    key = (None if cache is None or not memoize or provider == "mockllm"
           else _memo_key(model, effective, base_url, model_args))
    if cache is None or key is None:
        return _make(model, provider, name, effective, base_url, model_args)
    if key not in cache:
        cache[key] = _make(model, provider, name, effective, base_url, model_args)
    return cache[key]


def _make(model: str, provider: str, name: str, effective: GenerateConfig,
          base_url: str | None, model_args: dict[str, Any]) -> Model:
    module_name, _, class_name = PROVIDERS[provider].partition(":")
    api_class: type[ModelAPI] = getattr(importlib.import_module(module_name), class_name)
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


_models: ContextVar[MutableMapping[str, Model] | None] = ContextVar("evalkit_eval_models",
                                                                   default=None)


def eval_models() -> MutableMapping[str, Model] | None:
    """The models ``get_model`` made during the running eval, by how they were named."""
    return _models.get()


def bind_eval_models(models: MutableMapping[str, Model],
                     ) -> AbstractContextManager[MutableMapping[str, Model]]:
    """Share the models ``get_model`` makes inside the ``with`` block through ``models``."""
    return bound(_models, models)


def _memo_key(model: str, config: GenerateConfig, base_url: str | None,
              model_args: dict[str, Any]) -> str | None:
    """What makes two ``get_model`` calls the same model; None when an argument is not
    plain data (a callable), so such a model is never shared."""
    try:
        return json.dumps([model, config.model_dump(mode="json", exclude_none=True),
                           base_url, model_args], sort_keys=True)
    except (TypeError, ValueError):
        return None
