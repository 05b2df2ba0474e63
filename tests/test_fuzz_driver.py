"""The long fuzz run's driver (`bench/fuzz.py`): a worker that dies is reported against the
input that killed it, and the run neither hangs nor drops the other inputs."""

from __future__ import annotations

import sys

from conftest import REPO
from fuzz_driver_work import KILLER, square_or_die

sys.path.insert(0, str(REPO / "bench"))

import fuzz


def died(item: int) -> tuple[int, int]:
    return (item, -1)


def test_every_input_has_one_outcome_and_the_death_is_the_killers() -> None:
    outcomes = list(fuzz.drive(range(20), square_or_die, died, jobs=2, chunk=5))
    expected = [(i, -1 if i == KILLER else i * i) for i in range(20)]
    assert sorted(outcomes) == expected


def test_a_run_without_deaths_gives_each_outcome_once() -> None:
    outcomes = list(fuzz.drive(range(10), square_or_die, died, jobs=2, chunk=3))
    assert sorted(outcomes) == [(i, i * i) for i in range(10)]
