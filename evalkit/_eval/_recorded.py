"""What the log header records of a run's inputs, and how a retry gets them back.

Two promises meet here. The values a retry rebuilds from are the values the run
used, exactly (``-T x=inf`` comes back as ``inf``, not ``None``): task args,
model args, the generate config and the options go through ``_util._exact``,
and a value that cannot is refused before the run starts. And no credential is
written: model args named like one (``api_key``), URL userinfo and the same
values in the recorded command line are masked as ``***``. A retry takes a
masked value again from what it is given (``-M``, ``--model-base-url``) or from
the provider's environment variable, says which, and otherwise stops with what
to pass.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .._util._exact import NotRecordable, decode, encode
from .._util._secrets import (
    REDACTED,
    is_redacted,
    is_secret_name,
    redact_data,
    redact_url,
    secret_values,
)
from ..errors import RetryError, UsageError
from ..model import GenerateConfig
from ._config import EvalConfig
from ._replay import replay_metadata

if TYPE_CHECKING:
    from .._task import Task
    from ..log import EvalSpec


def recorded_fields(task: Task, config: EvalConfig) -> dict[str, Any]:
    """The header fields saying how to run ``task`` again: exact, and without credentials."""
    origin = task.origin
    where = f"task {task.display_name!r}"
    # Known credentials: the model's, and credential-named environment variables.
    secrets = secret_values({"model_args": config.model_args,
                             "model_base_url": config.model_base_url or ""})
    return {
        "task_args": {name: redact_data(value, secrets, by_name=False) for name, value
                      in _exact_task_args(origin.args if origin else {}, where).items()},
        "model_args": recorded_model_args(config.model_args, secrets),
        "model_base_url": redact_url(config.model_base_url),
        # The task's own generation options, with the eval's winning: what the model got.
        "generate_config": _exact(task.config.merge(config.generate_config).model_dump(
            exclude_none=True), "generate_config"),
        "config": _exact(config.recorded(task), "option"),
        "replay": replay_metadata(origin.file if origin else None, config.seed, config.command,
                                  secrets),
    }


def _exact_task_args(args: dict[str, Any], where: str) -> dict[str, Any]:
    try:
        return {name: encode(value, f"argument {name}") for name, value in args.items()}
    except NotRecordable as exc:
        raise UsageError(f"{where}: {exc}, so a retry could not rebuild the task with it; "
                         "build such values inside the @task function from plain arguments"
                         ) from None


def _exact(values: dict[str, Any], kind: str) -> dict[str, Any]:
    try:
        return {name: encode(value, f"{kind} {name}") for name, value in values.items()}
    except NotRecordable as exc:
        raise UsageError(f"{exc}; give a plain value") from None


def recorded_model_args(args: dict[str, Any], secrets: Iterable[str] = ()) -> dict[str, Any]:
    """Model args as the header holds them: credentials masked as ``***``, URL
    userinfo masked, values a log cannot hold (callables, objects) as ``<type>``."""
    recorded: dict[str, Any] = {}
    for key, value in args.items():
        if is_secret_name(key) and value is not None:
            recorded[key] = REDACTED
            continue
        try:
            recorded[key] = encode(redact_data(value, secrets), key)
        except NotRecordable:
            recorded[key] = f"<{type(value).__name__}>"
    return recorded


def task_args_of(spec: EvalSpec, given: dict[str, Any], log: str) -> dict[str, Any]:
    """The task args recorded in ``spec``, as the run passed them. A masked credential
    is taken from ``given`` (``eval-retry -T``); any other arg must stay as recorded:
    a retry that changed one would mix two configurations in one log."""
    args = {name: decode(value) for name, value in spec.task_args.items()}
    for name, value in given.items():
        if name in args and is_redacted(spec.task_args[name]):
            _say(f"task arg {name} ({_shown(spec.task_args[name])}): using the value given "
                 f"with -T {name}")
        elif name not in args or args[name] != value:
            raise RetryError(
                f"-T {name}: a retry rebuilds the task with the arguments in its log, and "
                f"takes again only a credential the log masked; run a new eval to change {name}"
            )
        args[name] = value
    for name, value in spec.task_args.items():
        if is_redacted(value) and name not in given:
            raise RetryError(
                f"task arg {name} ({_shown(value)}) held a credential, which logs never "
                f"record; pass it again: evalkit eval-retry {log} -T {name}=... "
                f"(eval_retry(..., task_args={{{name!r}: ...}}))")
    return args


def config_from_spec(spec: EvalSpec) -> EvalConfig:
    """The options of the run in ``spec``, as recorded in its header. Model args the log
    could not hold (``<type>``) or masked (``***``) are left out: see ``credentials_for``."""
    recorded = {key: decode(value) for key, value in spec.config.items()
                if key in EvalConfig.model_fields}
    model_args = {key: decode(value) for key, value in spec.model_args.items()
                  if not is_unrecorded(value) and not is_redacted(value)}
    base_url = spec.model_base_url if not is_redacted(spec.model_base_url) else None
    return EvalConfig.from_options(
        model=spec.model, model_args=model_args, model_base_url=base_url,
        generate_config=GenerateConfig(**decode(spec.generate_config)), **recorded,
    )


def is_unrecorded(value: Any) -> bool:
    """A model arg the log holds only as ``<type>`` (a callable, an object)."""
    return isinstance(value, str) and value.startswith("<") and value.endswith(">")


def credentials_for(spec: EvalSpec, given: dict[str, Any], log: str) -> dict[str, Any]:
    """``given`` (a retry's options, ``model_args`` merged) with every credential the
    log masked taken again: from ``given`` itself, else from the provider's environment
    variable. Says on stderr where each came from; raises if one is nowhere."""
    prefix = _env_prefix(spec.model)
    model_args = dict(given.get("model_args") or {})
    base_url_given = given.get("model_base_url") or model_args.get("base_url")
    for key, value in spec.model_args.items():
        if not is_redacted(value):
            continue
        env = f"{prefix}_{key.upper()}" if prefix and key in ("api_key", "base_url") else None
        if key == "base_url" and base_url_given:
            _say(f"model arg {key} ({value}): using the base URL given to the retry")
        elif key in model_args:
            _say(f"model arg {key} ({_shown(value)}): using the value given with -M {key}")
        elif env and _env_matches(env, value):
            model_args.pop(key, None)
            _say(f"model arg {key} ({_shown(value)}): using {env} from the environment")
        else:
            raise RetryError(_missing(key, value, env, log))
    recorded_url = spec.model_base_url
    if recorded_url and is_redacted(recorded_url):
        env = f"{prefix}_BASE_URL" if prefix else None
        if base_url_given:
            _say(f"base URL ({recorded_url}): using the base URL given to the retry")
        elif env and _env_matches(env, recorded_url):
            _say(f"base URL ({recorded_url}): using {env} from the environment")
        else:
            raise RetryError(_missing("base URL", recorded_url, env, log))
    return {**given, "model_args": model_args}


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else REDACTED


def _env_matches(env: str, recorded: Any) -> bool:
    """The variable is set and, for a URL, is the one recorded (same host and path)."""
    value = os.environ.get(env, "").strip()
    if not value:
        return False
    return recorded == REDACTED or redact_url(value).rstrip("/") == str(recorded).rstrip("/")


def _missing(what: str, value: Any, env: str | None, log: str) -> str:
    is_url = what in ("base URL", "base_url")
    again = ("--model-base-url URL (eval_retry(..., model_base_url=...))" if is_url
             else f"-M {what}=... (eval_retry(..., model_args={{{what!r}: ...}}))")
    from_env = f", or set {env}" if env else ""
    name = what if is_url else f"model arg {what}"
    return (f"{name} ({_shown(value)}) held a credential, which logs never record; pass it "
            f"again: evalkit eval-retry {log} {again}{from_env}")


def _env_prefix(model: str) -> str | None:
    """``OPENAI`` for ``openai/...``: the prefix of the provider's environment variables."""
    from ..model._registry import PROVIDERS

    target = PROVIDERS.get(model.partition("/")[0])
    if target is None:
        return None
    module, _, name = target.partition(":")
    prefix = getattr(getattr(importlib.import_module(module), name, None), "env_prefix", None)
    return prefix if isinstance(prefix, str) else None


def _say(message: str) -> None:
    print(f"retry: {message}", file=sys.stderr)
