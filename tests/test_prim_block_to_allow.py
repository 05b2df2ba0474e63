"""`block_to_allow` (catdsl/std/prims/block_to_allow.py) and the mask kinds: a block-mask
(true = blocked) and an allow-mask (true = may attend) are different types; converting is
explicit; a mask whose row leaves no key open is refused where it is built, naming the row."""

from __future__ import annotations

import numpy as np
import pytest

import catdsl
from catdsl.std.library import make_kernel

HEAD = """
import std.attention
dim T
dim D = 2
dim V = 3
object Hidden : Real[T, D]
object Scores : Real[T, T]
object Allowed : AllowMask[T, T]
object Padding : BlockMask[T, T]
morphism ToAllow : Padding -> Allowed = block_to_allow
morphism Mask : Scores * Allowed -> Scores = mask_scores
"""


def codes(text: str) -> list[tuple[str, int]]:
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(text)
    return [(d.code, d.span.line) for d in info.value.diagnostics]


def test_conversion_flips_every_cell():
    program = catdsl.loads(HEAD)
    block = np.array([[False, True], [False, False]])
    np.testing.assert_array_equal(program["ToAllow"](block), ~block)


def test_a_block_mask_where_an_allow_mask_is_expected_is_a_type_error_with_help():
    text = HEAD + "morphism Wrong : Scores * Padding -> Scores = mask_scores\n"
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(text)
    (d,) = info.value.diagnostics
    assert d.code == "E0351" and d.span.line == 12
    assert "`BlockMask` (true = blocked) is not a `Bool` (a mask read as" in d.message
    assert "block_to_allow" in d.help


def test_an_allow_mask_enters_a_bool_mask():
    program = catdsl.loads(HEAD)
    scores = np.array([[2.0, 1.0], [0.0, 3.0]])
    masked = program["Mask"]((scores, np.array([[True, False], [True, True]])))
    assert masked[0, 1] == -1e6 and masked[1, 0] == 0.0


def test_composing_the_wrong_polarity_is_the_same_error():
    text = HEAD + "data pad : Padding = [[false, true], [false, false]]\n"
    text += "let wrong = pad >> Allowed\n"
    assert codes(text) == [("E0351", 13)]


def test_a_literal_row_that_allows_nothing_is_refused_naming_the_row():
    text = HEAD + "data m : Allowed = [[true, false], [false, false]]\n"
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(text)
    (d,) = info.value.diagnostics
    assert d.code == "E0350" and "row 1" in d.message and "`m`" in d.message
    blocked = HEAD + "data p : Padding = [[true, true], [false, true]]\n"
    assert codes(blocked) == [("E0350", 12)]


def test_a_mask_file_with_a_closed_row_is_refused_where_it_enters(tmp_path):
    mask = np.array([[True, False, False], [True, True, False], [False, False, False]])
    np.save(tmp_path / "mask.npy", mask)
    path = tmp_path / "prog.cat"
    path.write_text(HEAD + 'data m : Allowed = load("mask.npy")\n')
    program = catdsl.load(str(path))
    with pytest.raises(catdsl.CatError) as info:
        program["m"]()
    (d,) = info.value.diagnostics
    assert d.code == "R0403" and "row 2 allows no keys" in d.message


def test_a_closed_row_is_refused_at_the_block_mask_and_by_the_conversion():
    program = catdsl.loads(HEAD)
    with pytest.raises(catdsl.CatError) as info:
        program["ToAllow"](np.array([[False, True], [True, True]]))
    (d,) = info.value.diagnostics
    assert d.code == "R0403" and "`Padding`: attention mask row 1 blocks every key" in d.message
    kernel = make_kernel("block_to_allow", {}, (2,))
    with pytest.raises(catdsl.CatRuntimeError):
        kernel(np.ones((2, 3, 3), dtype=bool))
