"""The documentation describes what exists: no page calls itself a draft or promises later work."""

from __future__ import annotations

import re

import pytest
from conftest import REPO

PAGES = [*sorted((REPO / "docs").rglob("*.md")), REPO / "README.md"]
UNFINISHED = re.compile(
    r"\bdraft\b|\bonce\b[^.\n]{0,80}\blands?\b|\bTODO\b|\bFIXME\b|\bTBD\b|\bcoming soon\b",
    re.IGNORECASE,
)


def unfinished(text: str) -> list[tuple[int, str]]:
    """(line, phrase) of every place where `text` says it is unfinished."""
    return [(text.count("\n", 0, m.start()) + 1, m.group(0)) for m in UNFINISHED.finditer(text)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_page_is_a_draft(page) -> None:
    assert unfinished(page.read_text(encoding="utf-8")) == []


def test_the_pages_are_found() -> None:
    names = {str(p.relative_to(REPO)) for p in PAGES}
    assert {"README.md", "docs/diagrams.md", "docs/errors.md", "docs/running.md"} <= names


def test_what_counts_as_unfinished() -> None:
    opening = (
        "*Draft. The pictures below come from hand-built diagrams of the tiny model; the course's"
        " own\npictures will be added once the front end lands.*\n"
    )
    assert unfinished(opening) == [(1, "Draft"), (2, "once the front end lands")]
    assert unfinished("x\n<!-- TODO: examples -->\n") == [(2, "TODO")]
    assert unfinished("A hole stands for a morphism not yet written; it lands in E0601.") == []
