"""A checkpoint's fingerprint of its training step is stable: the same in every process and the
same as in earlier versions, so a checkpoint resumes in a later run of `catdsl train`."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO, TINY

import catdsl
from catdsl.semantics.checkpoint import fingerprint

TINY_STEP = "4141f46dd9247857"
"""The fingerprint of `step` in programs/tiny_ml.cat, as checkpoints written since it existed
record it."""


def test_the_tiny_step_keeps_its_fingerprint():
    assert fingerprint(catdsl.load(TINY)["step"].term) == TINY_STEP


def test_the_fingerprint_is_the_same_in_another_process():
    code = (
        "import catdsl; from catdsl.semantics.checkpoint import fingerprint; "
        f"print(fingerprint(catdsl.load({str(TINY)!r})['step'].term))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert out.stdout.strip() == TINY_STEP


def test_a_checkpoint_resumes_in_a_new_process(tmp_path):
    state = tmp_path / "s.npz"
    options = ["--checkpoint", str(state), "--allow-read", str(REPO)]
    for steps in ("3", "5"):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "catdsl",
                "train",
                str(TINY),
                "step",
                "--steps",
                steps,
                *options,
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
    assert "resum" in done.stdout + done.stderr
