"""`catdsl export FILE NAME --to torch|onnx`: a forward morphism written for `torch.export` and
for ONNX; the files load back and give numpy's values (a torch program to 1e-12 in float64, an
ONNX model run by onnxruntime to 1e-6 in float32), for any batch size; bad requests are
diagnostics, and a missing extra is told with what to install (exit 2)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import TINY

import catdsl
from catdsl.cli import main

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch


def export(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["export", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_torch_export_program_loads_back_and_gives_numpys_values(tmp_path, capsys) -> None:
    target = tmp_path / "predict.pt2"
    code, out, err = export(capsys, TINY, "predict", "--to", "torch", "-o", str(target))
    assert (code, err) == (0, "")
    assert out == f"wrote {target}: `predict : TokenId -> Distribution` for torch\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["predict.pt2"]  # no temporary left
    module = torch.export.load(str(target)).module()
    program = catdsl.load(TINY)
    for tokens in (np.array([0, 1, 2, 3, 4, 2, 1]), np.array([4])):  # any batch size
        with torch.no_grad():
            got = module(torch.tensor(tokens)).numpy()
        np.testing.assert_allclose(got, program["predict"](tokens), rtol=0, atol=1e-12)
    with pytest.raises(RuntimeError, match="a check of the definition's rules failed"):
        module(torch.tensor([1, 5]))  # token 5 is outside Index[5]: lookup's check is kept


def test_trained_params_are_exported(tmp_path, capsys) -> None:
    program = catdsl.load(TINY)
    program.train("trained")
    params = tmp_path / "trained.npz"
    program.save_value(str(params), {n: program.params[n] for n in ("E", "W", "b")})
    target = tmp_path / "trained.pt2"
    code, _, err = export(
        capsys, TINY, "predict", "--to", "torch", "-o", str(target), "--params", str(params)
    )
    assert (code, err) == (0, "")
    tokens = np.array([1, 2, 3])
    with torch.no_grad():
        got = torch.export.load(str(target)).module()(torch.tensor(tokens)).numpy()
    np.testing.assert_allclose(got, program["predict"](tokens), rtol=0, atol=1e-12)


def test_a_definition_that_trains_is_refused(tmp_path, capsys) -> None:
    target = tmp_path / "step.onnx"
    code, out, err = export(capsys, TINY, "step", "--to", "onnx", "-o", str(target))
    assert (code, out) == (1, "")
    assert "error[E0840]: `step` trains (it holds `TrainStep(loss)`)" in err
    assert "Traceback" not in err and not target.exists()


def test_a_definition_on_symbols_is_refused(tmp_path, capsys) -> None:
    source = tmp_path / "names.cat"
    source.write_text("object Name : Symbol\nlet same = Name\n")
    code, _, err = export(capsys, str(source), "same", "--to", "torch", "-o", str(tmp_path / "x"))
    assert code == 1
    assert "error[E0841]: `same` cannot be exported: input 1 (`Name`) is not an array" in err


@pytest.mark.parametrize(
    ("to", "missing", "extra"),
    [("torch", "torch", "catdsl[torch]"), ("onnx", "onnxscript", "catdsl[onnx]")],
)
def test_without_the_extra_the_command_says_what_to_install(
    tmp_path, capsys, monkeypatch, to, missing, extra
) -> None:
    monkeypatch.setitem(sys.modules, missing, None)  # `import` now fails as if not installed
    target = tmp_path / "model"
    code, out, err = export(capsys, TINY, "predict", "--to", to, "-o", str(target))
    assert (code, out) == (2, "")
    assert f"pip install '{extra}'" in err and "Traceback" not in err
    assert not target.exists()
