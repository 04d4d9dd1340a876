"""The ``evalkit`` command line: argument definitions only."""

from __future__ import annotations

import argparse

from .. import __version__

EXIT_CODES = """exit codes:
  0    every eval finished with status success
  1    an eval finished with status error (e.g. the fail_on_error threshold was passed)
  2    usage or configuration error (bad flag, task not found, bad log file)
  3    aborted, resumable: quota/credit exhausted or a fatal provider error
  130  cancelled by the user (Ctrl-C / SIGTERM); the resume command was printed
"""


def fail_on_error_value(text: str) -> bool | int | float | str:
    """``true``/``false``, a count or a fraction; anything else is passed on as text
    so that the config refuses it in one line (argparse would print the whole usage)."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            continue
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evalkit", description="Evaluate language models; resume any run that stops.",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"evalkit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("eval", help="run tasks against a model", epilog=EXIT_CODES,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("tasks", nargs="+", metavar="TASK",
                     help="task file, or file@name (e.g. examples/arithmetic.py@arithmetic)")
    run.add_argument("--model", action="append", metavar="P/M[,P/M...]",
                     help="provider/name, e.g. mockllm/model or openai/gpt-4o; several "
                     "(comma-separated or repeated) write one log per task and model")
    run.add_argument("-T", dest="task_args", action="append", metavar="KEY=VALUE",
                     help="task argument (int, float, bool, JSON or string)")
    _add_run_options(run)
    retry = commands.add_parser("eval-retry", help="finish the runs recorded in logs",
                                epilog=EXIT_CODES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    retry.add_argument("logs", nargs="+", metavar="LOG")
    retry.add_argument("-T", dest="task_args", action="append", metavar="KEY=VALUE",
                       help="a task argument the log masked as a credential, given again")
    retry.add_argument("--until-complete", action="store_true",
                       help="retry in rounds until every sample completed or failed "
                       "--max-attempts times")
    retry.add_argument("--max-attempts", type=int, default=None,
                       help="do not re-run a sample that failed this many times (default 3)")
    retry.add_argument("--backoff", type=float, default=30.0,
                       help="seconds to wait after a provider abort (quota, auth) before the "
                       "next round; doubles, up to 300")
    _add_run_options(retry)
    _add_eval_set_command(commands)
    _add_log_commands(commands)
    _add_view_command(commands)
    return parser


def _add_run_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("-M", dest="model_args", action="append", metavar="KEY=VALUE",
                     help="model argument")
    sub.add_argument("--limit", type=int, help="run the first N samples")
    sub.add_argument("--sample-id", help="comma-separated sample ids or globs to run "
                     "(e.g. sample-*,item-[56])")
    sub.add_argument("--epochs", type=int, help="run each sample N times")
    sub.add_argument("--epochs-reducer", choices=("mean", "median", "max", "min", "mode"),
                     help="how a sample's scores over epochs combine (default mean)")
    sub.add_argument("--seed", type=int, help="seed for Python's random and the model")
    errors = sub.add_mutually_exclusive_group()
    errors.add_argument("--fail-on-error", nargs="?", const=True, type=fail_on_error_value,
                        metavar="VALUE", help="fail on first error, a fraction or a count")
    errors.add_argument("--no-fail-on-error", dest="fail_on_error", action="store_false",
                        help="never fail because of sample errors")
    sub.set_defaults(fail_on_error=None)
    sub.add_argument("--continue-on-fail", action="store_true", default=None,
                     help="never stop early; decide the status at the end")
    for flag, kind, text in (
        ("--retry-on-error", int, "retry a failing sample up to N times in the run"),
        ("--max-messages", int, "stop a sample's solver at N messages"),
        ("--token-limit", int, "stop a sample's solver at N tokens"),
        ("--time-limit", float, "stop a sample's solver after S seconds"),
        ("--max-connections", int, "concurrent calls per model (default 10)"),
        ("--max-samples", int, "samples in flight at once"),
        ("--max-tasks", int, "tasks run at once (default 1)"),
        ("--max-retries", int, "retries of a transient model error (default 10)"),
        ("--timeout", float, "seconds for one model call, retries included"),
        ("--attempt-timeout", float, "seconds for one attempt of a model call"),
    ):
        sub.add_argument(flag, type=kind, help=text)
    _add_generate_options(sub)
    sub.add_argument("--model-base-url", help="base URL of the model's API")
    sub.add_argument("--model-role", action="append", metavar="ROLE=P/M",
                     help="a named model for get_model(role=...), e.g. grader=openai/gpt-4o-mini")
    sub.add_argument("--model-cost", action="append", metavar="MODEL=IN:OUT",
                     help="price in dollars per million input:output tokens")
    sub.add_argument("--log-dir", help="where logs go (default $EVALKIT_LOG_DIR or ./logs)")
    sub.add_argument("--executor", choices=("local", "ray"), default=None,
                     help="where samples run: this process (default) or a Ray cluster")
    sub.add_argument("--ray-address", help="the Ray cluster to join (default $RAY_ADDRESS, "
                     "else a local one)")
    sub.add_argument("--display", choices=("rich", "plain", "none"), default=None)
    sub.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub.add_argument("--view", action="store_true",
                     help="serve `evalkit view` of the log directory while this runs")


def _add_eval_set_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]
                          ) -> None:
    grid = commands.add_parser(
        "eval-set", help="run tasks x models into one directory until every one is complete",
        description="Idempotent: run the same command again to finish a set that stopped "
        "(complete members are skipped, incomplete ones resumed).",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    grid.add_argument("tasks", nargs="+", metavar="TASK",
                      help="task file, or file@name (e.g. examples/arithmetic.py@arithmetic)")
    grid.add_argument("--model", action="append", metavar="P/M[,P/M...]",
                      help="provider/name; several (comma-separated or repeated)")
    grid.add_argument("-T", dest="task_args", action="append", metavar="KEY=VALUE",
                      help="task argument (int, float, bool, JSON or string)")
    grid.add_argument("--retry-attempts", type=int, default=10,
                      help="retry rounds after the first (default 10)")
    grid.add_argument("--retry-wait", type=float, default=30.0,
                      help="seconds to wait after a provider abort (quota, auth) before the "
                      "next round; doubles, up to 300 (default 30)")
    grid.add_argument("--max-attempts", type=int, default=None,
                      help="do not re-run a sample that failed this many times (default 3)")
    grid.add_argument("--allow-new-members", action="store_true",
                      help="add members to the set already in --log-dir (else refused)")
    _add_run_options(grid)


def stop_seqs(text: str) -> list[str]:
    """``--stop-seqs a,b`` as ``["a", "b"]``."""
    return [part for part in text.split(",") if part]


def _add_generate_options(sub: argparse.ArgumentParser) -> None:
    """Generation options: each flag sets the GenerateConfig field of the same name."""
    for flag, kind, text in (
        ("--max-tokens", int, "most tokens a reply may have"),
        ("--temperature", float, "sampling temperature"),
        ("--top-p", float, "nucleus sampling probability mass"),
        ("--top-k", int, "sample from the K most likely tokens (Anthropic, vLLM...)"),
        ("--stop-seqs", stop_seqs, "comma-separated sequences that end a reply"),
        ("--frequency-penalty", float, "penalty for tokens by frequency (-2 to 2)"),
        ("--presence-penalty", float, "penalty for tokens already present (-2 to 2)"),
        ("--top-logprobs", int, "return the N most likely tokens (0-20) at each position"),
        ("--num-choices", int, "completions to generate per call"),
        ("--reasoning-tokens", int, "thinking budget in tokens (Anthropic)"),
        ("--system-message", str, "a system message put before every conversation"),
    ):
        sub.add_argument(flag, type=kind, help=text)
    sub.add_argument("--logprobs", action="store_true", default=None,
                     help="return log probabilities of the output tokens")
    sub.add_argument("--reasoning-effort",
                     choices=("none", "minimal", "low", "medium", "high", "xhigh"),
                     help="how hard a reasoning model thinks (OpenAI)")


def _add_log_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    log = commands.add_parser("log", help="list and read logs")
    log_commands = log.add_subparsers(dest="log_command", required=True, metavar="COMMAND")
    ls = log_commands.add_parser(
        "ls", help="table of lineages (a run and its retries), newest first, each with its "
        "latest state")
    ls.add_argument("dir", nargs="?", help="log directory (default $EVALKIT_LOG_DIR or ./logs)")
    ls.add_argument("--status", choices=("started", "success", "error", "cancelled"),
                    help="only runs with this status (started: still running, or interrupted)")
    ls.add_argument("--all", action="store_true",
                    help="also list the earlier runs of each lineage, under it")
    ls.add_argument("--json", action="store_true",
                    help="JSON lines for scripts, one per run (task_id names its lineage)")
    info = log_commands.add_parser("info", help="a summary of one run, no samples decoded")
    info.add_argument("log")
    info.add_argument("--json", action="store_true",
                      help="the whole header and footer as JSON, for scripts")
    dump = log_commands.add_parser("dump", help="every record as JSON lines (pipe to jq)")
    dump.add_argument("log")
    samples = log_commands.add_parser("samples", help="one line per sample")
    samples.add_argument("log")
    samples.add_argument("--errors", action="store_true", help="only errored samples")
    samples.add_argument("--limited", action="store_true", help="only samples that hit a limit")
    for sub in (ls, info, dump, samples):
        sub.add_argument("--debug", action="store_true", help="show tracebacks of errors")


def _add_view_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    view = commands.add_parser("view", help="browse logs and watch running evals in a browser")
    view.add_argument("--log-dir", help="log directory (default $EVALKIT_LOG_DIR or ./logs)")
    view.add_argument("--host", default="127.0.0.1",
                      help="address to listen on (default 127.0.0.1: this machine only)")
    view.add_argument("--port", type=int, default=7575, help="port (default 7575; 0: any free)")
    view.add_argument("--debug", action="store_true", help="show tracebacks of errors")
