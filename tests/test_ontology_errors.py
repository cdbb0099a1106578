"""The one exception family: each class defined once, each code naming one class.

Every module of the five layers is imported, so a class defined anywhere is seen.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from ontology.errors import CatalographError

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("ontology", "ingest", "graph", "query", "web")


def family() -> list[type[CatalographError]]:
    for layer in LAYERS:
        for module in pkgutil.walk_packages([str(ROOT / layer)], prefix=f"{layer}."):
            importlib.import_module(module.name)
    found, todo = [], [CatalographError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return [cls for cls in found if cls.__module__.split(".")[0] in LAYERS]


def test_every_error_class_is_defined_once() -> None:
    classes = family()
    names = sorted(cls.__name__ for cls in classes)
    assert len(classes) > 15  # the walk found the family, not just its base
    assert sorted(set(names)) == names, [n for n in names if names.count(n) > 1]


def test_codes_name_one_class_each() -> None:
    owners: dict[str, list[str]] = {}
    for cls in family():
        if "code" in cls.__dict__:
            owners.setdefault(cls.__dict__["code"], []).append(cls.__qualname__)
    assert {code for code, classes in owners.items() if len(classes) > 1} == set()
    assert owners["error"] == ["CatalographError"]
