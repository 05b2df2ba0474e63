"""SIGTERM during `catdsl train --checkpoint` saves the last completed step, as Ctrl-C does,
and exits 143; the saved state is the one a straight run reaches at that step, bit for bit."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from conftest import REPO, TINY

import catdsl

STEPS = 200_000  # far more than the run lives: it saves every 10,000 steps, then is stopped


def test_sigterm_saves_the_last_completed_step(tmp_path: Path) -> None:
    checkpoint = tmp_path / "state.npz"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "catdsl", "train", TINY, "step", "--steps", str(STEPS)]
    run = subprocess.Popen(
        [*command, "--checkpoint", str(checkpoint)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not checkpoint.exists():  # the first periodic save: training is under way
            assert run.poll() is None, run.communicate()
            assert time.monotonic() < deadline, "no checkpoint was written"
            time.sleep(0.005)
        early = tmp_path / "early.npz"
        shutil.copyfile(checkpoint, early)  # a complete file: saves are atomic renames
        run.send_signal(signal.SIGTERM)
        out, err = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 143, err
    assert out == ""
    said = r"terminated: interrupted after step (\d+) of 200000 of `step \^ 200000`"
    found = re.search(said, err)
    assert found, err
    assert "checkpoint saved to" in err and "state.npz" in err
    stopped = int(found.group(1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["early.npz", "state.npz"]

    _, step, losses, _ = catdsl_checkpoint(checkpoint)
    _, early_step, _, _ = catdsl_checkpoint(early)
    assert step == stopped == len(losses) and 10_000 <= early_step <= stopped < STEPS
    # the same steps run straight from the early checkpoint end on the same bits
    resumed = catdsl.load(TINY).train("step", steps=stopped, checkpoint=str(early))
    assert resumed.resumed_from == early_step
    with np.load(checkpoint) as saved, np.load(early) as straight:
        assert sorted(saved.files) == sorted(straight.files)
        for name in saved.files:
            assert np.array_equal(saved[name], straight[name]), name


def catdsl_checkpoint(path: Path) -> tuple:
    from catdsl.semantics.checkpoint import load_checkpoint

    return load_checkpoint(path)
