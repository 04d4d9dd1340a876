"""Each public package exports exactly these names: a change to the API is a change here."""

from __future__ import annotations

import importlib

import pytest

PUBLIC: dict[str, list[str]] = {
    "evalkit": [
        "Epochs", "Task", "__version__", "eval", "eval_async", "eval_retry", "eval_retry_async",
        "eval_set", "eval_set_async", "task",
    ],
    "evalkit.agent": [
        "AgentAttempts", "AgentPrompt", "AgentSubmit", "as_solver", "react",
    ],
    "evalkit.dataset": [
        "Dataset", "FieldSpec", "MemoryDataset", "RecordToSample", "Sample", "Target",
        "csv_dataset", "file_dataset", "hf_dataset", "json_dataset", "sample_input_len",
    ],
    "evalkit.errors": [
        "AuthError", "DatasetError", "EvalInterrupted", "EvalkitError", "LimitExceeded",
        "LineageLockedError", "LogDamageWarning", "LogError", "LogTruncatedError",
        "LogVersionError", "ModelError", "ModelFatalError", "ModelRequestError",
        "ModelTransientError", "QuotaExhaustedError", "RetryError", "SampleError",
        "TaskLoadError", "TaskNotFoundError", "ToolCallError", "UnknownProviderError",
        "UsageError",
    ],
    "evalkit.log": [
        "EvalDataset", "EvalError", "EvalFooter", "EvalLimit", "EvalLog", "EvalMetric",
        "EvalResults", "EvalSample", "EvalScore", "EvalSpec", "EvalStats", "EvalStatus",
        "LOG_VERSION", "LogWriter", "Transcript", "default_log_dir", "iter_lines",
        "iter_sample_lines", "list_eval_logs", "log_file_name", "read_eval_log",
        "read_eval_log_header", "read_eval_log_samples", "samples_df", "transcript",
    ],
    "evalkit.model": [
        "ChatCompletionChoice", "ChatMessage", "ChatMessageAssistant", "ChatMessageSystem",
        "ChatMessageTool", "ChatMessageUser", "ContentReasoning", "GenerateConfig", "Model",
        "ModelAPI",
        "ModelOutput", "ModelUsage", "PROVIDERS", "ResponseSchema", "StopReason", "ToolCall",
        "ToolChoice", "ToolFunction", "ToolInfo", "get_model",
    ],
    "evalkit.scorer": [
        "AnswerPattern", "CORRECT", "INCORRECT", "Metric", "MetricProtocol", "NOANSWER", "PARTIAL", "SampleScore",
        "Score", "ScoreReducer", "ScoreReducers", "Scorer", "Target", "Value", "ValueToFloat",
        "accuracy", "answer", "at_least", "bootstrap_stderr", "choice", "exact", "f1",
        "get_reducer", "grouped", "includes", "match", "max_score", "mean", "mean_score",
        "median_score", "metric", "metric_name", "min_score", "mode_score", "model_graded_fact",
        "model_graded_qa", "pass_at", "pattern", "score_reducer", "scorer", "scorer_metadata",
        "scorer_metrics",
        "scorer_name", "std", "stderr", "value_to_float", "var",
    ],
    "evalkit.solver": [
        "AgentAttempts", "AgentPrompt", "AgentSubmit", "Choice", "Choices", "Generate",
        "MultipleChoiceTemplate", "SampleLimits", "Solver", "Store", "Target", "TaskState",
        "ToolCalls", "answer_character", "answer_index", "assistant_message", "basic_agent",
        "chain", "chain_of_thought", "generate", "generate_loop", "make_generate",
        "multiple_choice", "prompt_template", "react", "self_critique", "solve_within_limits",
        "solver", "system_message", "use_tools", "user_message",
    ],
    "evalkit.testing": [
        "ConnectFailed", "ConnectionLost", "Fault", "HttpReply", "HttpRequest", "MockTransport",
        "ProviderServer", "RecordedRequest", "TimedOut", "ToolCallReply", "TransportError",
    ],
    "evalkit.tool": [
        "ExecResult", "LocalSandbox", "MAX_TOOL_OUTPUT", "SandboxEnvironment",
        "SandboxSetupError", "Tool", "ToolDef", "ToolError", "ToolInfo", "ToolResult", "bash",
        "execute_tools", "python", "sandbox", "sandbox_context", "sandboxenv", "setup_sandbox",
        "think", "tool", "tool_info",
    ],
}


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_all_is_pinned(package: str) -> None:
    """``__all__`` lists exactly the pinned names (update PUBLIC with the docs)."""
    module = importlib.import_module(package)
    assert sorted(module.__all__) == sorted(PUBLIC[package])


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_every_exported_name_exists(package: str) -> None:
    """Every name in ``__all__`` can be imported from the package."""
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing
