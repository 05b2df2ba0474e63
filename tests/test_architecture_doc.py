"""docs/architecture.md names the files to touch for each kind of extension: every file it
names exists, and the names it gives in code (tables, classes, functions) are where it says."""

from __future__ import annotations

import importlib
import re

import pytest
from conftest import REPO

PAGE = REPO / "docs" / "architecture.md"
TEXT = PAGE.read_text(encoding="utf-8")
FILE = re.compile(r"`([\w./-]+\.(?:py|md|cat|toml|lark|expected))`")
PLACEHOLDERS = ("NAME", "FAMILY")  # `std/prims/NAME.py`: the file a new extension adds
PACKAGE = REPO / "catdsl"


def named_files() -> list[str]:
    return sorted({m for m in FILE.findall(TEXT) if not any(p in m for p in PLACEHOLDERS)})


def resolves(name: str) -> bool:
    """A path from the repository, the package, docs/ or the error goldens; a bare module name
    (the checker's parts, listed under its heading) anywhere in the package."""
    places = (REPO, PACKAGE, REPO / "docs", REPO / "programs" / "errors")
    if any((place / name).is_file() for place in places):
        return True
    return "/" not in name and any(PACKAGE.rglob(name))


def test_the_page_names_the_files_of_each_extension() -> None:
    assert len(named_files()) > 60
    for heading in ("A primitive", "An optimizer", "A carrier kind", "A backend", "A command"):
        assert f"### {heading}\n" in TEXT
    assert "### Files touched, by extension" in TEXT


@pytest.mark.parametrize("name", named_files())
def test_every_file_named_exists(name: str) -> None:
    assert resolves(name), f"docs/architecture.md names `{name}`, which does not exist"


@pytest.mark.parametrize(
    ("module", "attribute"),
    [
        ("catdsl.typesys.primitives", "PrimSpec"),
        ("catdsl.typesys.family_spec", "OptimizerSpec"),
        ("catdsl.typesys.family_spec", "TRAINING_OPTIONS"),
        ("catdsl.typesys.carriers", "CARRIER_KINDS"),
        ("catdsl.semantics.values", "COERCIONS"),
        ("catdsl.semantics.invariants", "ENTRY_CHECKS"),
        ("catdsl.frontend.sampling", "SAMPLERS"),
        ("catdsl.frontend.json_form", "JSON_FORMS"),
        ("catdsl.typesys.reserved", "FUNCTORS"),
        ("catdsl.semantics.backend", "Backend"),
        ("catdsl.semantics.kernel", "Kernel"),
        ("catdsl.frontend.backends", "BACKENDS"),
        ("catdsl.frontend.backends", "named_backend"),
        ("catdsl.typesys.messages", "Code"),
        ("catdsl.typesys.unify", "Reason"),
        ("catdsl.typesys.no_gradient", "first_cut"),
    ],
)
def test_the_names_it_points_to_are_there(module: str, attribute: str) -> None:
    assert re.search(rf"`[\w.]*\b{attribute}\b", TEXT), attribute
    assert hasattr(importlib.import_module(module), attribute)


def test_the_torch_rule_table_it_names_is_there() -> None:
    pytest.importorskip("torch")
    from catdsl.std import torch_rules

    assert "`ML_RULES`" in TEXT and "gelu" in torch_rules.ML_RULES


def test_the_golden_programs_it_cites_are_cases() -> None:
    for name in ("refused_name", "failed_composition_used_later"):
        assert (REPO / "programs" / "errors" / f"{name}.expected").is_file()
