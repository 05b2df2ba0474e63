"""programs/transformer/reverse.cat: a tiny Transformer from token ids learns to reverse
sequences of 6 tokens over a vocabulary of 8, judged on sequences it never saw."""

from __future__ import annotations

import time

import numpy as np
import pytest
from conftest import PROGRAMS

import catdsl

REVERSE = PROGRAMS / "transformer" / "reverse.cat"
FOLDER = PROGRAMS / "transformer"


def test_the_data_are_reversals_and_the_held_out_sequences_are_new():
    train = np.load(FOLDER / "reverse_train.npz")
    held = np.load(FOLDER / "reverse_heldout.npz")
    for data in (train, held):
        tokens, reversed_ = data["tokens"], data["reversed"]
        assert tokens.shape[1] == 6 and tokens.max() < 8 and tokens.min() >= 0
        np.testing.assert_array_equal(reversed_, tokens[:, ::-1])
    assert len(train["tokens"]) == len(held["tokens"]) == 1000
    seen = {tuple(row) for row in train["tokens"]}
    assert not any(tuple(row) in seen for row in held["tokens"])


def test_the_program_checks_and_predicts_one_logit_row_per_position():
    program = catdsl.load(str(REVERSE))
    logits = program["logits"](np.array([[0, 1, 2, 3, 4, 5], [7, 7, 0, 0, 1, 1]]))
    assert logits.shape == (2, 6, 8)
    assert str(program["step"].dom) == "AdamState(loss)"


@pytest.mark.slow
def test_it_learns_to_reverse_held_out_sequences():
    program = catdsl.load(str(REVERSE))
    start = time.process_time()
    result = program.train("step", steps=200)
    seconds = time.process_time() - start
    program.params.update(result.params)
    held = np.load(FOLDER / "reverse_heldout.npz")
    predicted = program["logits"](held["tokens"]).argmax(axis=-1)
    accuracy = float((predicted == held["reversed"]).mean())
    assert accuracy >= 0.95, accuracy
    assert seconds < 120, seconds


def test_adam_leaves_the_key_bias_exactly_where_it_started():
    """The key bias adds a row constant to the attention scores, which the softmax ignores:
    its cotangent is exact zeros, so Adam (dividing by a running norm) never moves it, while
    it moves every other param."""
    program = catdsl.load(str(REVERSE))
    before = {name: np.array(value) for name, value in program.params.items()}
    program.train("step", steps=2)
    np.testing.assert_array_equal(program.params["bk"], before["bk"])
    assert not np.array_equal(program.params["bq"], before["bq"])
    assert not np.array_equal(program.params["Wk"], before["Wk"])
