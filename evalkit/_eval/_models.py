"""What ``eval()``'s ``model`` argument names: model names and ``Model`` objects.

One log is written per task x model. A ``Model`` object (from ``get_model``)
runs as given, its custom args (``custom_outputs``...) kept, and is recorded in
the log header by name and args; a name is built by the runner with the eval's
``model_args`` and ``model_base_url``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import UsageError
from ..model import GenerateConfig, Model, get_model
from ._config import EvalConfig

ModelChoice = str | Model
Models = ModelChoice | Sequence[ModelChoice] | None


def model_choices(model: Models, default: str | None = None) -> list[ModelChoice]:
    """``model`` as a list; ``default`` (a config's model name) when it is None."""
    if model is None:
        return [default] if default else []
    items: list[Any] = [model] if isinstance(model, (str, Model)) else list(model)
    for item in items:
        if not isinstance(item, (str, Model)):
            raise UsageError(f"model {item!r} is neither a model name (provider/name, e.g. "
                             "mockllm/model) nor a Model from get_model()")
    names = [item for item in items if isinstance(item, str)]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise UsageError(f"model {', '.join(repeated)} given more than once; name each "
                         "model once (one log is written per task and model)")
    return items


def config_for(config: EvalConfig, model: ModelChoice) -> EvalConfig:
    """``config`` for a run with ``model``: a Model object brings its own args, base
    URL and generate config (the eval's options override the latter)."""
    if isinstance(model, str):
        return config.model_copy(update={"model": model})
    return config.model_copy(update={
        "model": model.name, "model_args": model.args, "model_base_url": model.base_url,
        "generate_config": model.config.merge(config.generate_config),
    })


def bound_model(model: ModelChoice | None, config: EvalConfig) -> Model | None:
    """A run's copy of a given Model object, with the eval's connection and retry
    options applied; None for a model name (the runner builds it).

    A copy, so the caller's object is not changed; it shares the provider API, so a
    ``custom_outputs`` iterator goes on where it was.
    """
    if model is None or isinstance(model, str):
        return None
    return Model(model.name, model.api, config.effective_generate_config(),
                 args=model.args, base_url=model.base_url)


def role_models(config: EvalConfig, built: dict[str, Model]) -> dict[str, Model]:
    """One ``Model`` per role of ``config.model_roles``, made once for the whole eval.

    A role naming a model the eval already built (the evaluated model) gets that
    object; roles naming the same model share one: one connection pool each. Role
    models take the eval's connection and retry options, not its sampling ones.
    """
    connection = GenerateConfig(max_connections=config.max_connections,
                                max_retries=config.max_retries, timeout=config.timeout,
                                attempt_timeout=config.attempt_timeout)
    made = dict(built)
    roles: dict[str, Model] = {}
    for role, name in config.model_roles.items():
        if name not in made:
            made[name] = get_model(name, config=connection)
        roles[role] = made[name]
    return roles
