"""An installed (non-editable) catdsl carries the catlings exercises and the programs its quiz
reads: `catdsl learn` works with no checkout around."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import REPO


def test_the_installed_wheel_has_the_exercises_and_the_quiz(tmp_path: Path) -> None:
    out = tmp_path / "wheel"
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*pip, str(REPO), "-w", str(out)],
        check=True,
        capture_output=True,
    )
    wheel = next(out.glob("catdsl-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "catdsl/exercises/04_embedding_softmax/solution.cat" in names
    assert "catdsl/exercises/quiz/quiz.toml" in names
    assert "catdsl/programs/tiny_ml.cat" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    learner = tmp_path / "learner"
    learner.mkdir()
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}

    def learn(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "catdsl", "learn", *args],
            capture_output=True,
            text=True,
            cwd=learner,
            env=env,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    assert "  22  advanced      Design a boundary" in learn("list")
    key = learn("quiz", "checkpoints", "--key")
    assert "answer: 10   (from run quiz/order.cat)" in key
    assert "answer: 5   (from run 12_signal_matrices/solution.cat)" in key
    assert "answer: 7   (from run programs/tiny_ml.cat)" in key
