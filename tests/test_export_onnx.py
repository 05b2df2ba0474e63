"""ONNX models written by `catdsl export --to onnx`, run by onnxruntime, give the numpy
backend's values to 1e-6 in float32: the course model, the iris MLP and the Transformer, on
batch sizes and sequence lengths other than those the export traced."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PROGRAMS, TINY

import catdsl
from catdsl.cli import main

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

pytestmark = pytest.mark.torch

FLOAT32 = {"rtol": 1e-6, "atol": 1e-6}


def exported(tmp_path, capsys, path: str, name: str) -> ort.InferenceSession:
    """The ONNX model of `name` in float32, loaded into onnxruntime."""
    target = tmp_path / f"{name}.onnx"
    code = main(["export", path, name, "--to", "onnx", "-o", str(target), "--dtype", "float32"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, ""), err
    assert out.startswith(f"wrote {target}: `{name} : ")
    return ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])


def test_the_course_model(tmp_path, capsys) -> None:
    path = TINY
    session = exported(tmp_path, capsys, path, "predict")
    assert [(i.name, i.type) for i in session.get_inputs()] == [("input_1", "tensor(int64)")]
    assert [o.name for o in session.get_outputs()] == ["output_1"]
    program = catdsl.load(path, dtype="float32")
    for tokens in (np.array([0, 1, 2, 3, 4, 3, 2, 1, 0]), np.array([3])):
        [got] = session.run(None, {"input_1": tokens})
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, program["predict"](tokens), **FLOAT32)


def test_the_iris_mlp(tmp_path, capsys) -> None:
    path = str(PROGRAMS / "classify.cat")
    session = exported(tmp_path, capsys, path, "scores")
    program = catdsl.load(path, dtype="float32")
    measurements, _ = program["validation"]()
    for rows in (measurements, measurements[:1]):
        [got] = session.run(None, {"input_1": np.asarray(rows, dtype=np.float32)})
        np.testing.assert_allclose(got, program["scores"](rows), **FLOAT32)


def test_the_transformer(tmp_path, capsys) -> None:
    """`forward` of the d = 4 Transformer (positions, the masked block, the readout) on 3
    sequences of 5 positions under a causal mask; the export traced 2 sequences of 3."""
    path = str(PROGRAMS / "transformer" / "wide.cat")
    program = catdsl.load(path, dtype="float32")
    session = exported(tmp_path, capsys, path, "forward")
    assert [i.name for i in session.get_inputs()] == ["input_1", "input_2"]
    rng = np.random.default_rng(7)
    hidden = rng.normal(size=(3, 5, 4)).astype(np.float32)
    mask = np.broadcast_to(np.tril(np.ones((5, 5), dtype=bool)), (3, 5, 5)).copy()
    [got] = session.run(None, {"input_1": hidden, "input_2": mask})
    np.testing.assert_allclose(got, program["forward"](hidden, mask), **FLOAT32)
