"""The classifier of docs/language.md's section on activations, shapes, norms, dropout and
metrics: its shown output is what `catdsl run` prints today, and its definitions mean what the
section says (dropout only in training, metrics in [0, 1])."""

from __future__ import annotations

import re

import numpy as np
from conftest import REPO

import catdsl
from catdsl.cli import main

SECTION = (
    (REPO / "docs" / "language.md")
    .read_text(encoding="utf-8")
    .split("### Activations, shapes, norms, dropout and metrics", 1)[1]
)
PROGRAM = re.search(r"```cat\n(.*?)```", SECTION, re.S).group(1)
SHOWN = re.search(r"```text\n\$ catdsl run example.cat val_matrix\n(.*?)```", SECTION, re.S)


def test_the_shown_output_is_what_run_prints(tmp_path, capsys, monkeypatch):
    (tmp_path / "example.cat").write_text(PROGRAM, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["run", "example.cat", "val_matrix"]) == 0
    assert capsys.readouterr().out == SHOWN.group(1)


def test_the_classifier_trains_with_dropout_and_measures_without_it():
    program = catdsl.loads(PROGRAM)
    assert 0 <= program["val_accuracy"]() <= program["val_top2"]() <= 1
    assert program["val_matrix"]().sum() == 3
    result = program.train("fit", steps=60)
    assert result.losses[-1] < result.losses[0]
    x = np.random.default_rng(60).normal(size=(4, 4))
    first, second = program["classify"](x), program["classify"](x)
    np.testing.assert_array_equal(first, second)  # evaluation: no mask
