"""What several test files share: the repository's paths and the course's tiny model.

Import the constants (`from conftest import REPO, TINY`); the fixtures need no import. A test
that needs a variant of the tiny model edits `TINY_TEXT` rather than keeping a copy of it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import catdsl

REPO = Path(__file__).resolve().parents[1]
PROGRAMS = REPO / "programs"
TINY = str(PROGRAMS / "tiny_ml.cat")  # the path of the course's tiny next-token model
TINY_TEXT = Path(TINY).read_text(encoding="utf-8")  # its source, for variants of it


@pytest.fixture(scope="module")
def tiny() -> catdsl.Program:
    """programs/tiny_ml.cat, loaded once per test module."""
    return catdsl.load(TINY)
