"""DESIGN §7: each layer imports only the layers below it (or its own)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "evalkit"

# Lowest first. A module may import its own layer and any layer before it.
LAYERS: list[set[str]] = [
    {"errors", "_util", "_transcript", "_policy"},
    {"model"},
    {"dataset"},
    {"tool"},
    {"solver"},
    {"agent"},
    {"scorer"},
    {"log"},
    {"_task", "_registry"},
    {"_eval", "_view"},
    {"_cli", "testing", "__init__", "__main__"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
# Parts of one layer that must not import each other: the viewer reads logs
# through evalkit.log only, and the runner never serves pages (the CLI calls both).
SEPARATE = {("_view", "_eval"), ("_eval", "_view"), ("_view", "_registry"), ("_view", "_task")}


def _part(module: Path) -> str:
    """The top-level part of evalkit a source file belongs to (``model``, ``_eval``...)."""
    relative = module.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def _imported_parts(module: Path, text: str | None = None) -> set[tuple[str, int]]:
    """The evalkit parts ``module`` imports, with line numbers (every import, even lazy ones)."""
    package = ["evalkit", *module.relative_to(PACKAGE).parent.parts]
    found: set[tuple[str, int]] = set()
    source = module.read_text(encoding="utf-8") if text is None else text
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = [*base, *(node.module.split(".") if node.module else [])]
                if len(target) == 1:  # "from . import x" at the top: x names the part
                    found.update((alias.name, node.lineno) for alias in node.names)
                    continue
            else:
                target = (node.module or "").split(".")
            if target[0] == "evalkit" and len(target) > 1:
                found.add((target[1], node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                names = alias.name.split(".")
                if names[0] == "evalkit" and len(names) > 1:
                    found.add((names[1], node.lineno))
    return found


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_part_of_the_package_has_a_layer() -> None:
    """A new top-level module or package must be placed in LAYERS (DESIGN §7)."""
    unplaced = {_part(source) for source in SOURCES} - set(RANK)
    assert not unplaced, f"add {sorted(unplaced)} to LAYERS in tests/test_layering.py"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_from_a_higher_layer(source: Path) -> None:
    """The module imports nothing from a layer above its own."""
    own = RANK.get(_part(source))
    if own is None:
        pytest.skip("unplaced; the test above fails for it")
    mine = _part(source)
    upward = [f"line {line}: imports evalkit.{part}" for part, line in _imported_parts(source)
              if part in RANK and (RANK[part] > own or (mine, part) in SEPARATE)]
    assert not upward, f"{source.relative_to(PACKAGE)} " + "; ".join(sorted(upward))


def test_the_check_sees_an_upward_import() -> None:
    """The import scanner finds relative, absolute and lazy imports (so the test can fail)."""
    probe = PACKAGE / "model" / "_probe.py"
    text = "from .._eval import x\nimport evalkit.log\ndef f():\n    from ..scorer import y\n"
    assert {part for part, _ in _imported_parts(probe, text)} == {"_eval", "log", "scorer"}
