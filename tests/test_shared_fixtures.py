"""The test suite shares what it can: the repository's paths and the tiny model live in
conftest.py, once. A test file that works out the repository from its own `__file__`, names
`programs/tiny_ml.cat` by a path of its own, or keeps a copy of the tiny model breaks that."""

from __future__ import annotations

import re

import pytest
from conftest import REPO, TINY, TINY_TEXT

import catdsl

TESTS = REPO / "tests"
SELF = "test_shared_fixtures.py"  # this file spells out what the checks look for
MODULES = sorted(p for p in TESTS.glob("*.py") if p.name not in ("conftest.py", SELF))

OWN_ROOT = re.compile(r"Path\(__file__\)|os\.path\.\w+\(__file__\)|parents?\b[^\n]*__file__")
OWN_TINY_PATH = re.compile(r"""/ ?["'](?:programs/)?tiny_ml\.cat["']|load\(["']programs/tiny_ml""")
TINY_COPY = re.compile(r"^TINY\s*=", re.M)


def _findings(pattern: re.Pattern[str]) -> list[str]:
    found = []
    for path in MODULES:
        text = path.read_text(encoding="utf-8")
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{path.name}:{line}: {match.group(0)}")
    return found


def test_only_conftest_works_out_the_repository() -> None:
    assert _findings(OWN_ROOT) == [], "import REPO or PROGRAMS from conftest"


def test_only_conftest_names_the_tiny_model_by_path() -> None:
    assert _findings(OWN_TINY_PATH) == [], "import TINY (its path) from conftest"


def test_no_test_keeps_a_copy_of_the_tiny_model() -> None:
    """Variants with other content keep names of their own (`TINY_CORE`, the checker's frozen
    fixture; `TINY_EXTENDED`, the fuzz seed); `TINY` is conftest's."""
    assert _findings(TINY_COPY) == [], "import TINY or TINY_TEXT from conftest"


@pytest.mark.parametrize(
    ("source", "pattern"),
    [
        ("ROOT = Path(__file__).resolve().parent.parent", OWN_ROOT),
        ("here = os.path.dirname(__file__)", OWN_ROOT),
        ('catdsl.load(str(REPO / "programs" / "tiny_ml.cat"))', OWN_TINY_PATH),
        ('catdsl.load("programs/tiny_ml.cat")', OWN_TINY_PATH),
        ('TINY = str(PROGRAMS / "tiny_ml.cat")', OWN_TINY_PATH),
        ('TINY = """\nimport std.ml\n"""', TINY_COPY),
    ],
)
def test_the_checks_see_what_they_look_for(source: str, pattern: re.Pattern[str]) -> None:
    assert pattern.search(source)


def test_the_shared_tiny_model_is_the_course_program(tiny: catdsl.Program) -> None:
    assert str(REPO / "programs" / "tiny_ml.cat") == TINY
    assert TINY_TEXT.startswith("# tiny_ml.cat")
    assert {"predict", "loss", "step", "trained"} <= set(tiny.names)
