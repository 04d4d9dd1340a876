"""The Inspect-style examples score 1.0 when the model is right and 0.0 when it is wrong."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, run_cli

from evalkit import eval
from evalkit.log import read_eval_log_header
from evalkit.model import ChatMessage

Reply = Callable[[list[ChatMessage]], str]


def _records(name: str) -> list[dict[str, Any]]:
    lines = (EXAMPLES / "data" / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _accuracy(example: str, reply: Reply, **task_args: Any) -> float | None:
    [log] = eval(str(EXAMPLES / example), model="mockllm/model", display="none",
                 model_args={"custom_outputs": reply}, task_args=task_args)
    assert log.status == "success" and log.results is not None
    return next(iter(log.results.scores[0].metrics.values())).value


def _question_of(messages: list[ChatMessage], questions: list[str]) -> str:
    text = messages[-1].content
    [found] = [q for q in questions if q in text]
    return found


def _word_problem_reply(right: bool) -> Reply:
    answers = {r["question"]: int(r["answer"]) for r in _records("word_problems.jsonl")}

    def reply(messages: list[ChatMessage]) -> str:
        answer = answers[_question_of(messages, list(answers))]
        return f"Let me work it out.\nANSWER: {answer if right else answer + 1}"

    return reply


def _letter_reply(data: str, right: bool, question: str = "question") -> Reply:
    records = _records(data)
    letters = {r[question]: r.get("target") or r.get("answer") for r in records}

    def reply(messages: list[ChatMessage]) -> str:
        letter = letters[_question_of(messages, list(letters))]
        wrong = "A" if letter != "A" else "B"
        return f"Thinking step by step...\nANSWER: {letter if right else wrong}"

    return reply


def _graded_reply(right: bool) -> Reply:
    """The evaluated model answers; as the grader (a prompt asking for GRADE) it grades."""

    def reply(messages: list[ChatMessage]) -> str:
        if re.search(r"GRADE", messages[-1].content):
            return "The answer matches the reference.\nGRADE: C" if right else "GRADE: I"
        return "Because of a physical reason."

    return reply


CASES: list[tuple[str, Callable[[bool], Reply]]] = [
    ("word_problems.py", _word_problem_reply),
    ("science_quiz.py", lambda right: _letter_reply("science_quiz.jsonl", right)),
    ("multiple_choice.py", lambda right: _letter_reply("capitals.jsonl", right)),
    ("graded_answers.py", _graded_reply),
]


@pytest.mark.parametrize(("example", "make_reply"), CASES, ids=[c[0] for c in CASES])
def test_example_scores_one_when_right_and_zero_when_wrong(
        example: str, make_reply: Callable[[bool], Reply], log_dir: Path) -> None:
    """Right answers score 1.0, wrong answers 0.0."""
    assert _accuracy(example, make_reply(True)) == 1.0
    assert _accuracy(example, make_reply(False)) == 0.0


def test_subject_filter_keeps_only_the_named_subjects(log_dir: Path) -> None:
    """-T subjects=astronomy,biology runs exactly those subjects' questions."""
    done = run_cli("eval", str(EXAMPLES / "science_quiz.py"), "--model", "mockllm/model",
                   "-T", "subjects=astronomy,biology", "--display", "none",
                   "--log-dir", str(log_dir))
    assert done.returncode == 0, done.stderr
    [path] = log_dir.glob("*.jsonl.zst")
    assert sorted(read_eval_log_header(path).eval.dataset.sample_ids) == [
        "astro-1", "astro-2", "astro-3", "bio-1", "bio-2"]


def test_a_subject_that_matches_nothing_is_refused(log_dir: Path) -> None:
    """A misspelt subject is exit 2 naming the argument, not 0 samples and success."""
    done = run_cli("eval", str(EXAMPLES / "science_quiz.py"), "--model", "mockllm/model",
                   "-T", "subjects=astronomyy", "--display", "none", "--log-dir", str(log_dir))
    assert done.returncode == 2 and "has no samples" in done.stderr
