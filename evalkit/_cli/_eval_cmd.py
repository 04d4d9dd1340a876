"""``evalkit eval`` and ``evalkit eval-retry``: flags to one config, logs to an exit code."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from typing import Any

from ..errors import UsageError
from ..log import EvalLog
from ..model._pricing import parse_cost_override
from ._coerce import parse_assignments

FATAL_KINDS = {"quota_exhausted", "auth", "model_fatal"}
CLI_GENERATE_OPTIONS = (
    "max_tokens", "temperature", "top_p", "top_k", "stop_seqs", "frequency_penalty",
    "presence_penalty", "logprobs", "top_logprobs", "num_choices", "reasoning_effort",
    "reasoning_tokens", "system_message",
)
"""GenerateConfig fields with a flag of the same name (``response_schema`` is Python only)."""


def run_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword options of ``eval()`` given on the command line (None = not given)."""
    costs = dict(parse_cost_override(item) for item in args.model_cost or [])
    options: dict[str, Any] = {
        "model_args": parse_assignments(args.model_args, "-M") or None,
        "model_cost": {model: (p.input, p.output) for model, p in costs.items()} or None,
        "sample_id": _sample_ids(args.sample_id),
        "model_roles": model_roles(args.model_role),
        "command": "evalkit " + shlex.join(sys.argv[1:]),
    }
    for name in ("limit", "epochs", "epochs_reducer", "seed", "fail_on_error", "continue_on_fail",
                 "retry_on_error", "max_messages", "token_limit", "time_limit",
                 "max_connections", "max_samples", "max_tasks", "max_retries", "timeout",
                 "attempt_timeout", "model_base_url", "log_dir", "display", "executor",
                 "ray_address"):
        options[name] = getattr(args, name)
    for name in CLI_GENERATE_OPTIONS:
        options[name] = getattr(args, name)
    options["debug"] = args.debug or None
    return {key: value for key, value in options.items() if value is not None}


def model_roles(given: Sequence[str] | None) -> dict[str, str] | None:
    """``--model-role grader=openai/gpt-4o-mini`` (repeatable) as ``{"grader": ...}``."""
    roles: dict[str, str] = {}
    for item in given or []:
        role, _, model = item.partition("=")
        if not role.strip() or not model.strip():
            raise UsageError(f"--model-role {item!r} is not ROLE=PROVIDER/NAME, e.g. "
                             "--model-role grader=openai/gpt-4o-mini")
        roles[role.strip()] = model.strip()
    return roles or None


def _sample_ids(text: str | None) -> list[int | str] | None:
    # Kept as text ("001" must select the id "001"); samples match by str(id).
    if not text:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def eval_command(args: argparse.Namespace) -> int:
    from .. import eval

    options = run_options(args)
    options["task_args"] = parse_assignments(args.task_args, "-T")
    watch_if_asked(args)
    return exit_code(eval(args.tasks, model=model_names(args.model), **options))


def model_names(given: Sequence[str] | None) -> list[str] | None:
    """``--model a,b --model c`` as ``[a, b, c]``."""
    if not given:
        return None
    return [name.strip() for item in given for name in item.split(",") if name.strip()]


def eval_retry_command(args: argparse.Namespace) -> int:
    from .._eval._retry import RetryInterrupted, eval_retry_async
    from .._eval._sync import run_sync

    options = run_options(args)
    if args.task_args:  # only a credential the log masked (see docs/retry.md)
        options["task_args"] = parse_assignments(args.task_args, "-T")
    watch_if_asked(args)
    if args.max_attempts is not None:
        options["max_attempts"] = args.max_attempts
    try:
        logs = run_sync(lambda: eval_retry_async(
            args.logs, until_complete=args.until_complete, backoff=args.backoff, **options))
    except RetryInterrupted:
        return 130  # Ctrl-C between --until-complete rounds; the resume command was printed
    return exit_code(logs)


def watch_if_asked(args: argparse.Namespace) -> None:
    if args.view:
        from ._view_cmd import watch_while_running

        watch_while_running(args.log_dir)


def exit_code(logs: Sequence[EvalLog]) -> int:
    """0 success · 1 an eval failed · 3 aborted, resumable · 130 cancelled."""
    if any(log.status == "cancelled" for log in logs):
        return 130
    if any(log.error is not None and log.error.kind in FATAL_KINDS for log in logs):
        return 3
    if any(log.status != "success" for log in logs):
        return 1
    return 0
