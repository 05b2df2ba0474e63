"""The wheel carries the grammar, and an installed (non-editable) catdsl checks a program."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "-q",
        "--no-deps",
        "--no-build-isolation",
        str(REPO),
        "-w",
        str(out),
    ]
    subprocess.run(cmd, check=True, capture_output=True)
    return next(out.glob("catdsl-*.whl"))


def test_wheel_contains_the_grammar(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "catdsl/grammars/catdsl.lark" in names
    assert "catdsl/cli.py" in names


def test_installed_wheel_checks_a_program(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    program = tmp_path / "p.cat"
    program.write_text("import std.ml\nobject A : Real[2]\nmorphism F : A -> A = relu\n")
    code = "import catdsl, sys; p = catdsl.load(sys.argv[1]); print(catdsl.__file__, p.names)"
    result = subprocess.run(
        [sys.executable, "-c", code, str(program)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert str(site) in result.stdout and "['F']" in result.stdout


def test_installed_wheel_explains_a_code(wheel: Path, tmp_path: Path) -> None:
    assert "catdsl/docs/errors.md" in zipfile.ZipFile(wheel).namelist()
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    result = subprocess.run(
        [sys.executable, "-m", "catdsl", "explain", "E0201"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("### E0201: composition of mismatched objects\n")


def test_installed_wheel_uses_the_shipped_parser_tables(wheel: Path, tmp_path: Path) -> None:
    """The JSON parser tables (never a pickle) are in the wheel and fit its grammar."""
    assert "catdsl/syntax/grammar_tables.json" in zipfile.ZipFile(wheel).namelist()
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    code = (
        "from catdsl.syntax.parser import _from_tables, grammar_path; "
        "print(_from_tables(grammar_path().read_text(encoding='utf-8')) is not None)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
