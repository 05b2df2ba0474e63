"""What several test files share: the repository's paths and the course's tiny model.

Import the constants (`from conftest import REPO, TINY_ML`); the fixtures need no import.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import catdsl

REPO = Path(__file__).resolve().parents[1]
PROGRAMS = REPO / "programs"
TINY_ML = str(PROGRAMS / "tiny_ml.cat")  # the course's tiny next-token model, as a path


@pytest.fixture(scope="module")
def tiny() -> catdsl.Program:
    """programs/tiny_ml.cat, loaded once per test module."""
    return catdsl.load(TINY_ML)
