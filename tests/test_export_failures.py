"""When PyTorch cannot trace a definition (R0840) or the ONNX converter cannot convert it
(R0841), `catdsl export` reports the code with the first line of the reason, exits 1 with no
traceback, and leaves what was at the target untouched. No program of the repository makes
either tool fail, so the tool is made to fail here the way it does in the field: by raising."""

from __future__ import annotations

import pytest
from conftest import TINY

from catdsl.cli import main

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

REASON = "Could not guard on data-dependent expression u0 < 5\n\nMany more lines follow"


def fail(*_args, **_kwargs):
    raise RuntimeError(REASON)


def reported(capsys, code: int, headline: str) -> None:
    """Exit 1, nothing on stdout, the headline with the reason's first line only."""
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert f"{headline}: Could not guard on data-dependent expression u0 < 5\n" in err
    assert "Many more lines" not in err and "Traceback" not in err


def test_a_trace_pytorch_refuses_is_r0840_with_its_first_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(torch.export, "export", fail)
    target = tmp_path / "predict.pt2"
    target.write_bytes(b"the previous export")
    code = main(["export", TINY, "predict", "--to", "torch", "-o", str(target)])
    reported(capsys, code, "error[R0840]: PyTorch could not export `predict`")
    assert target.read_bytes() == b"the previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["predict.pt2"]  # no temporary left


def test_a_conversion_onnx_refuses_is_r0841_with_its_first_line(tmp_path, capsys, monkeypatch):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    monkeypatch.setattr(torch.onnx, "export", fail)
    target = tmp_path / "predict.onnx"
    code = main(["export", TINY, "predict", "--to", "onnx", "-o", str(target)])
    reported(capsys, code, "error[R0841]: `predict` could not be converted to ONNX")
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_an_exception_with_no_message_is_named_by_its_type(tmp_path, capsys, monkeypatch):
    def bare(*_args, **_kwargs):
        raise NotImplementedError

    monkeypatch.setattr(torch.export, "export", bare)
    code = main(["export", TINY, "predict", "--to", "torch", "-o", str(tmp_path / "p.pt2")])
    _, err = capsys.readouterr()
    assert code == 1
    assert "error[R0840]: PyTorch could not export `predict`: NotImplementedError\n" in err
