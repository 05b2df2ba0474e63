"""The course book (docs/course/) as a site: every page is in the mkdocs navigation, every
picture a page shows is drawn from a program by `make pictures`, and every `.cat` block is
highlighted by catdsl's own lexer. (Its commands and outputs are run by test_docs_running.py;
`make test` builds the site with `mkdocs build --strict`.)"""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import REPO
from pygments import lex
from pygments.token import Error

from catdsl.frontend.lexer import CatLexer

DOCS = REPO / "docs"
PAGES = sorted([*DOCS.glob("course/*.md"), DOCS / "index.md"])
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```cat[ \t]*\n(.*?)^```", re.M | re.S)


class _Loader(yaml.SafeLoader):
    """mkdocs.yml names a Python function for the heading anchors; these tests only read pages."""


_Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def nav_pages(entries: list) -> list[str]:
    found = []
    for entry in entries:
        if isinstance(entry, str):
            found.append(entry)
        else:
            for value in entry.values():
                found.extend(nav_pages(value) if isinstance(value, list) else [value])
    return found


def pictures_target() -> set[str]:
    makefile = (REPO / "Makefile").read_text()
    recipe = re.search(r"^pictures:.*?\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe, "the Makefile has a pictures target"
    return set(re.findall(r"-o (docs/img/\S+)", recipe[1]))


def test_every_course_page_is_in_the_navigation_and_every_entry_exists():
    config = yaml.load((REPO / "mkdocs.yml").read_text(), Loader=_Loader)
    listed = nav_pages(config["nav"])
    for page in listed:
        assert (DOCS / page).exists(), f"mkdocs.yml lists missing docs/{page}"
    for page in PAGES:
        assert str(page.relative_to(DOCS)) in listed, f"{page.name} is not in mkdocs.yml's nav"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_picture_is_drawn_by_make_pictures(page):
    drawn = pictures_target()
    for target in IMAGE.findall(page.read_text()):
        path = (page.parent / target).resolve().relative_to(REPO)
        assert path.exists(), f"{page.name} shows missing {path}"
        assert str(path) in drawn, f"{path} is not drawn by `make pictures`"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_cat_block_is_highlighted(page):
    for block in FENCE.findall(page.read_text()):
        assert [text for kind, text in lex(block, CatLexer()) if kind is Error] == []
