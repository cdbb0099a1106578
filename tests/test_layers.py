"""DESIGN.md's layer rules, enforced: imports run one way.

ontology <- ingest; ontology <- graph <- query <- web; web also uses ingest;
ingest and query never import each other; ingest never touches the store.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("ontology", "ingest", "graph", "query", "web")
ALLOWED: dict[str, set[str]] = {
    "ontology": set(),
    "ingest": {"ontology"},
    "graph": {"ontology"},
    "query": {"ontology", "graph"},
    "web": {"ontology", "ingest", "graph", "query"},
}
#: Third-party modules a layer must not use directly (ingest is pure: no store access).
FORBIDDEN_EXTERNAL: dict[str, set[str]] = {
    "ingest": {"flask", "waitress"},
    "ontology": {"flask", "waitress", "pymarc"},
    "graph": {"flask", "waitress", "pymarc"},
    "query": {"flask", "waitress", "pymarc"},
}


def imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def layer_files(layer: str) -> list[Path]:
    return sorted((ROOT / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_imports_only_what_design_allows(layer: str) -> None:
    files = layer_files(layer)
    assert files, f"layer {layer} has no modules"
    violations = []
    for path in files:
        imported = imported_top_levels(path)
        for other in (imported & set(LAYERS)) - {layer} - ALLOWED[layer]:
            violations.append(f"{path.relative_to(ROOT)} imports {other}")
        for bad in imported & FORBIDDEN_EXTERNAL.get(layer, set()):
            violations.append(f"{path.relative_to(ROOT)} imports {bad}")
    assert not violations, "layer rule broken:\n" + "\n".join(violations)


def test_ingest_never_uses_the_store() -> None:
    """ingest may use pyoxigraph terms and serialisers, never a Store."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in layer_files("ingest")
        if "Store(" in path.read_text(encoding="utf-8")
        or "Store.read_only" in path.read_text(encoding="utf-8")
    ]
    assert not offenders, f"ingest opens a store: {offenders}"


def test_checker_sees_a_violation(tmp_path: Path) -> None:
    """The checker itself works: a module importing query from ingest is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from query import sparql\nimport graph.store\n")
    assert imported_top_levels(bad) == {"query", "graph"}
