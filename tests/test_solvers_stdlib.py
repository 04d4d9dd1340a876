"""Inspect AI's standard solvers and scorers: prompts, multiple choice, critique, f1."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from evalkit import Task, eval
from evalkit._util._template import format_template
from evalkit.dataset import Sample
from evalkit.log import EvalLog, read_eval_log_samples
from evalkit.model import ChatMessage, get_model
from evalkit.scorer import answer, choice, exact, f1, includes
from evalkit.solver import (
    Choices,
    assistant_message,
    chain_of_thought,
    generate,
    multiple_choice,
    prompt_template,
    self_critique,
    solver,
    user_message,
)
from evalkit.solver._multiple_choice import parse_answer

MOCK = "mockllm/model"


def _run(task: Task, outputs: Any) -> tuple[EvalLog, list[Any]]:
    [log] = eval(task, model=MOCK, display="none", model_args={"custom_outputs": outputs})
    assert log.location is not None
    return log, sorted(read_eval_log_samples(log.location), key=lambda s: str(s.id))


def _scores(samples: list[Any]) -> list[Any]:
    return [next(iter(s.scores.values())).value for s in samples]


@pytest.mark.parametrize(("template", "values", "expected"), [
    ("Hi {name}", {"name": "Ada"}, "Hi Ada"),
    ("Hi {name} {unknown}", {"name": "Ada"}, "Hi Ada {unknown}"),
    ('Reply as JSON: {"answer": {name}}', {"name": "x"}, 'Reply as JSON: {"answer": x}'),
    ("{score:.1f} and {{braces}}", {"score": 0.25}, "0.2 and {braces}"),
    ("lone { brace {name}", {"name": "n"}, "lone { brace n"),
    ("{0} positional {name}", {"name": "n"}, "{0} positional n"),
])
def test_templates_fill_known_names_and_keep_everything_else(
        template: str, values: dict[str, Any], expected: str) -> None:
    """Unknown placeholders and literal braces survive; known names are filled."""
    assert format_template(template, values) == expected


def test_prompt_template_user_and_assistant_messages_use_metadata_and_params() -> None:
    """prompt_template wraps {prompt}; few-shot messages fill metadata and params."""
    seen: list[list[ChatMessage]] = []

    def reply(messages: list[ChatMessage]) -> str:
        seen.append(messages)
        return "ok"

    task = Task(dataset=[Sample(input="2+2?", metadata={"subject": "sums"})], solver=[
        user_message("Example {subject}: 1+1?"), assistant_message("{answer}", answer="2"),
        prompt_template("[{subject}] {prompt} ({style})", style="brief"), generate()])
    # prompt_template rewrites the first user message: here, the dataset input.
    _run(task, reply)
    [messages] = seen
    assert [m.content for m in messages] == ["[sums] 2+2? (brief)", "Example sums: 1+1?", "2"]


def test_chain_of_thought_asks_for_an_answer_line() -> None:
    """chain_of_thought keeps the question and asks for ANSWER: at the end."""
    seen: list[str] = []
    task = Task(dataset=[Sample(input="What is 3*3?", target="9")],
                solver=[chain_of_thought(), generate()], scorer=answer("line"))
    _, samples = _run(task, lambda m: seen.append(m[-1].content) or "3*3 is 9.\nANSWER: 9")
    assert seen[0].startswith("What is 3*3?") and "ANSWER: $ANSWER" in seen[0]
    assert _scores(samples) == ["C"]


MC = [Sample(id="fr", input="Capital of France?", choices=["Berlin", "Paris", "Rome"],
             target="B"),
      Sample(id="jp", input="Capital of Japan?", choices=["Tokyo", "Osaka", "Kyoto"],
             target="A")]


def _answers(right: bool) -> Callable[[list[ChatMessage]], str]:
    """A model that reads the lettered options and picks the capital (or not)."""
    capitals = {"Paris", "Tokyo"}

    def reply(messages: list[ChatMessage]) -> str:
        options = [line for line in messages[-1].content.splitlines() if line[1:3] == ") "]
        letters = [line[0] for line in options if (line[3:] in capitals) == right]
        return f"ANSWER: {letters[0]}"

    return reply


@pytest.mark.parametrize("shuffle", [False, True])
def test_multiple_choice_with_choice_scores_right_and_wrong(shuffle: bool) -> None:
    """multiple_choice + choice() scores 1.0 when right and 0.0 when wrong, shuffled or not."""
    for right, expected in ((True, ["C", "C"]), (False, ["I", "I"])):
        task = Task(dataset=[s.model_copy(deep=True) for s in MC],
                    solver=multiple_choice(shuffle=random.Random(3) if shuffle else False),
                    scorer=choice())
        log, samples = _run(task, _answers(right))
        assert _scores(samples) == expected, (shuffle, right)
        assert log.results is not None


def test_multiple_choice_prompt_lists_lettered_options_and_letters() -> None:
    """The default prompt shows A) B) C) options and the letters to choose from."""
    seen: list[str] = []
    _run(Task(dataset=MC[:1], solver=multiple_choice(), scorer=choice()),
         lambda m: seen.append(m[-1].content) or "ANSWER: B")
    assert "A) Berlin\nB) Paris\nC) Rome" in seen[0] and "A,B,C" in seen[0]
    assert "Capital of France?" in seen[0]
    with pytest.raises(ValueError, match=r"\{question\} and \{choices\}"):
        multiple_choice(template="no placeholders")


@pytest.mark.parametrize(("reply", "options", "multiple", "expected"), [
    ("ANSWER: B", 3, False, {1}),
    ("Reasoning... ANSWER: A\nthen more\nANSWER: C", 3, False, {2}),
    ("answer: (b).", 3, False, {1}),
    ("ANSWER: a lot of thought", 3, False, None),  # a word, not an option
    ("ANSWER: D", 3, False, None),  # out of range
    ("B", 3, False, {1}),
    ("ANSWER: A, C", 3, True, {0, 2}),
    ("ANSWER: AC", 3, True, {0, 2}),
    ("ANSWER: A and C", 3, True, {0, 2}),
    ("I think Paris", 3, False, None),
])
def test_answer_parsing(reply: str, options: int, multiple: bool,
                        expected: set[int] | None) -> None:
    """The last ANSWER: line names the picks; nothing valid marks nothing."""
    assert parse_answer(reply, options, multiple) == expected


def test_multiple_correct_needs_every_right_option() -> None:
    """With multiple_correct, choice() wants exactly the target's letters."""
    sample = Sample(input="Even numbers?", choices=["2", "3", "4"], target=["A", "C"])
    for reply, expected in (("ANSWER: A, C", "C"), ("ANSWER: A", "I")):
        task = Task(dataset=[sample.model_copy()], scorer=choice(),
                    solver=multiple_choice(multiple_correct=True))
        assert _scores(_run(task, [reply])[1]) == [expected]


def test_choices_keep_original_positions_when_shuffled() -> None:
    """Choices.shuffle reorders options and each remembers where it was."""
    choices = Choices(["a", "b", "c", "d"])
    choices.shuffle(random.Random(1))
    assert sorted(c.original_position for c in choices) == [0, 1, 2, 3]
    assert [c.value for c in choices] != ["a", "b", "c", "d"]
    assert all(c.value == "abcd"[c.original_position] for c in choices)


def test_self_critique_regenerates_with_the_critique() -> None:
    """self_critique asks for a critique, then generates again with it in the prompt."""
    replies = iter(["Paris is in Spain", "That is wrong: Paris is in France.", "France"])
    seen: list[list[ChatMessage]] = []

    def reply(messages: list[ChatMessage]) -> str:
        seen.append(messages)
        return next(replies)

    task = Task(dataset=[Sample(input="Where is Paris?", target="France")],
                solver=[generate(), self_critique()], scorer=includes())
    _, samples = _run(task, reply)
    assert "Paris is in Spain" in seen[1][-1].content  # the critique prompt quotes the answer
    assert "Paris is in France" in seen[2][-1].content  # the critique reaches the last call
    assert _scores(samples) == ["C"]


@pytest.mark.parametrize(("reply", "target", "f1_value", "exact_value"), [
    ("The Eiffel Tower", "eiffel tower", 1.0, "C"),
    ("Eiffel", "the Eiffel Tower", 0.67, "I"),
    ("15.0", "15", 1.0, "C"),
    ("nothing alike", "Eiffel Tower", 0.0, "I"),
])
def test_f1_and_exact_normalise_like_squad(reply: str, target: str, f1_value: float,
                                           exact_value: str) -> None:
    """f1 gives word-overlap F1; exact compares normalised word sets."""
    dataset = [Sample(input="q", target=target)]
    assert _scores(_run(Task(dataset=dataset, scorer=f1()), [reply])[1]) == [f1_value]
    assert _scores(_run(Task(dataset=dataset, scorer=exact()), [reply])[1]) == [exact_value]


@pytest.mark.parametrize(("kind", "reply", "target", "expected"), [
    ("letter", "Thinking...\nANSWER: b", "B", "C"),
    ("word", "ANSWER: Yes, because", "yes", "C"),
    ("line", "ANSWER: New York City  \n", "new york city", "C"),
    ("line", "no answer line", "x", "I"),
])
def test_answer_scorer_reads_the_answer_line(kind: Any, reply: str, target: str,
                                             expected: str) -> None:
    """answer('letter'|'word'|'line') compares what follows ANSWER: with the target."""
    task = Task(dataset=[Sample(input="q", target=target)], scorer=answer(kind))
    assert _scores(_run(task, [reply])[1]) == [expected]


def test_get_model_with_no_name_is_the_evaluated_model() -> None:
    """get_model() in a solver returns the model being evaluated; outside, a clear error."""
    found: list[str] = []

    @solver
    def which() -> Any:
        async def solve(state: Any, generate: Any) -> Any:
            found.append(get_model().name)
            found.append(get_model(role="grader").name)  # no role bound: the same model
            return state
        return solve

    _run(Task(dataset=[Sample(input="q")], solver=which()), ["x"])
    assert found == [MOCK, MOCK]
    with pytest.raises(Exception, match="no eval is running"):
        get_model()
