"""programs/transformer/shape_lab.cat (the attention shape lab) and the roadmap's worked
single-operation examples, each reproduced through catdsl's primitives."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import PROGRAMS

import catdsl
from catdsl.cli import main
from catdsl.std.library import make_kernel

LAB = PROGRAMS / "transformer" / "shape_lab.cat"
NAMES = (
    "raw_scores",
    "weights",
    "outputs",
    "multi_head",
    "projected",
    "with_residual",
    "normalised",
    "feed_forward",
)


@pytest.fixture(scope="module")
def lab() -> catdsl.Program:
    return catdsl.load(str(LAB))


def test_every_named_value_runs_from_the_command_line(capsys):
    shapes = {}
    for name in NAMES:
        assert main(["run", str(LAB), name, "--json"]) == 0
        shapes[name] = np.shape(json.loads(capsys.readouterr().out)["value"])
    assert shapes == {
        "raw_scores": (2, 3),
        "weights": (2, 3),
        "outputs": (2, 2),
        "multi_head": (2, 4),
        "projected": (2, 2),
        "with_residual": (2, 2),
        "normalised": (2, 2),
        "feed_forward": (2, 2),
    }


def test_the_trace_follows_the_formulas(lab):
    q = np.array([[1.0, 0], [0, 1]])
    k = np.array([[1.0, 0], [0, 1], [1, 1]])
    v = np.array([[1.0, 10], [2, 20], [3, 30]])
    scores = q @ k.T / math.sqrt(2)
    np.testing.assert_allclose(lab["raw_scores"](), scores, rtol=1e-15)
    masked = np.where([[True, False, True], [True, True, True]], scores, -1e6)
    weights = np.exp(masked) / np.exp(masked).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(lab["weights"](), weights, rtol=1e-14)
    assert lab["weights"]()[0].tolist() == [0.5, 0.0, 0.5]
    outputs = weights @ v
    np.testing.assert_allclose(lab["outputs"](), outputs, rtol=1e-14)
    multi = np.concatenate([outputs, [[10.0, 1], [20, 2]]], axis=1)
    np.testing.assert_allclose(lab["multi_head"](), multi, rtol=1e-14)
    projected = multi @ np.array([[1, 0], [0, 0.1], [0.5, 0], [0, 1]])
    np.testing.assert_allclose(lab["projected"](), projected, rtol=1e-14)
    residual = projected + np.array([[0.5, 0.5], [1, 1]])
    np.testing.assert_allclose(lab["with_residual"](), residual, rtol=1e-14)
    centred = residual - residual.mean(axis=1, keepdims=True)
    normed = centred / np.sqrt((centred**2).mean(axis=1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(lab["normalised"](), normed, rtol=1e-14)
    w1 = np.array([[1, -1, 0.5], [0, 1, 0.5]])
    w2 = np.array([[1, 0], [0, 1], [0.5, 0.5]])
    np.testing.assert_allclose(lab["feed_forward"](), np.maximum(normed @ w1, 0) @ w2, rtol=1e-14)
    np.testing.assert_allclose(lab["positioned"](), [[1.1, 0], [0, 1.1]], rtol=1e-15)


def run(name, *inputs, static=None):
    """One primitive's kernel on plain inputs (element ranks from the inputs themselves)."""
    arrays = [np.asarray(x, dtype=bool if isinstance(x[0][0], bool) else float) for x in inputs]
    return make_kernel(name, static or {}, tuple(a.ndim for a in arrays))(*arrays)[0]


def test_the_worked_single_operation_examples():
    s = run("scores", [[1, 0], [0, 1]], [[1, 0], [0, 1], [1, 1]])
    assert s.shape == (2, 3)
    assert s[0, 0] == pytest.approx(1 / math.sqrt(2)) and s[0, 1] == 0
    assert s[1, 2] == pytest.approx(1 / math.sqrt(2))
    masked = run("mask_scores", [[2.0, 1.0, 2.0]], [[True, False, True]])
    np.testing.assert_allclose(run("row_softmax", masked), [[0.5, 0, 0.5]], atol=1e-15)
    np.testing.assert_allclose(run("row_softmax", [[2, 1], [0, 3]]).sum(axis=1), [1, 1])
    np.testing.assert_allclose(run("mix", [[0.25, 0.75]], [[4, 0], [0, 8]]), [[1, 6]])
    heads = run("concat_heads", [[1, 10], [2, 20]], [[3, 30], [4, 40]], static={"n": 2})
    np.testing.assert_array_equal(heads, [[1, 10, 3, 30], [2, 20, 4, 40]])
    wo = [[1, 0], [0, 0.1], [0.5, 0], [0, 0.01]]
    (out,) = make_kernel("affine", {}, (2, 2, 1))(heads, np.array(wo), np.array([0.0, 1.0]))
    np.testing.assert_allclose(out, [[2.5, 2.3], [4.0, 3.4]], rtol=1e-14)
    np.testing.assert_array_equal(
        run("residual", [[1, 2], [3, 4]], [[0.5, 1.5], [2.5, 3.5]]), [[1.5, 3.5], [5.5, 7.5]]
    )
    norm = make_kernel("layer_norm", {"eps": 1e-5}, (2, 1, 1))
    (rows,) = norm(np.array([[1.0, 3], [2, 4]]), np.ones(2), np.zeros(2))
    np.testing.assert_allclose(rows, [[-0.999995, 0.999995]] * 2, atol=1e-6)
    (row,) = norm(np.array([[1.0, 3]]), np.array([2.0, 0.5]), np.array([1.0, -1.0]))
    np.testing.assert_allclose(row, [[-0.99999, -0.5000025]], atol=1e-6)
    ffn = make_kernel("ffn", {}, (2, 2, 1, 2, 1))
    w1 = np.array([[1, -1, 0.5], [0, 1, 0.5]])
    w2 = np.array([[1, 0], [0, 1], [0.5, 0.5]])
    (y,) = ffn(np.array([[1.0, 2], [3, 4]]), w1, np.zeros(3), w2, np.zeros(2))
    np.testing.assert_allclose(y, [[1.75, 1.75], [4.75, 2.75]], rtol=1e-14)
    pos = run("positional", [[1, 2], [3, 4]], [[0.1, 0.2], [0.3, 0.4]])
    assert pos[0, 0] == pytest.approx(1.1) and pos[1, 1] == pytest.approx(4.4)
    (qp,) = make_kernel("affine", {}, (2, 2, 1))(
        np.array([[1.0, 2], [3, 4]]), np.eye(2), np.array([0.5, -0.5])
    )
    assert qp[0, 0] == 1.5 and qp[1, 1] == 3.5
    (logits,) = make_kernel("readout", {}, (2, 2, 1))(
        np.array([[2.0, 3], [4, 5]]),
        np.array([[1, 0, 0.5], [0, 1, -0.5]]),
        np.array([0, 0.1, -0.1]),
    )
    np.testing.assert_allclose(logits, [[2.0, 3.1, -0.6], [4.0, 5.1, -0.6]], rtol=1e-14)
