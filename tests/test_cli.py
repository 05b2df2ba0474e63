"""The `catdsl` command's contract, exercised in-process through `cli.main`.

Exit codes: 0 success, 1 errors in the program (diagnostics printed, runtime invariant
violations included), 2 bad usage or I/O, 70 an internal bug (a short report, no traceback).
Commands that write files run in `tmp_path`; the course programs are read from `programs/`.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import PROGRAMS, TINY

from catdsl.cli import main

CARD = str(PROGRAMS / "card.cat")
ADAM = str(PROGRAMS / "adam_challenge.cat")
CHAIN = str(PROGRAMS / "chain_rule.cat")
COMPOSITION = str(PROGRAMS / "composition.cat")
ILLEGAL = str(PROGRAMS / "errors" / "embedding_softmax.cat")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PDF_MAGIC = b"%PDF"

ORDER_CAT = """\
import std.ml

object Scalar : Real

data one : Real = 1.0

morphism AddOne : Scalar -> Scalar = Real * one >> add
morphism Double : Scalar -> Scalar = scale(2)

law order_matters : AddOne >> Double == Double >> AddOne
law same_order    : AddOne >> Double == AddOne >> Double
"""


def cli(capsys, *argv: object) -> tuple[int, str, str]:
    """Run `catdsl ARGV...` in-process: (exit code, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def run_json(capsys, *argv: object) -> dict:
    code, out, err = cli(capsys, "run", *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def train_json(capsys, *argv: object) -> dict:
    code, out, err = cli(capsys, "train", *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def leftovers(directory: Path, keep: set[str]) -> set[str]:
    """Files in `directory` other than `keep` (temporary files of atomic writes, say)."""
    return {p.name for p in directory.iterdir()} - keep


# ============================================================== exit codes
@pytest.mark.parametrize("program", [TINY, CARD, ADAM, CHAIN, COMPOSITION])
def test_check_accepts_the_course_programs(capsys, program: str) -> None:
    code, out, err = cli(capsys, "check", program)
    assert code == 0, err
    assert re.fullmatch(r".*: ok \(\d+ definitions?, \d+ laws?\)\n", out)
    assert err == ""


def test_check_counts_definitions_and_laws(capsys) -> None:
    code, out, _ = cli(capsys, "check", TINY, CARD)
    assert code == 0
    assert out == f"{TINY}: ok (14 definitions, 4 laws)\n{CARD}: ok (4 definitions, 1 law)\n"


def test_program_errors_exit_1_with_the_diagnostic(capsys) -> None:
    code, out, err = cli(capsys, "check", ILLEGAL)
    assert code == 1
    assert out == ""
    assert f"{ILLEGAL}:21:28: error[E0201]" in err
    assert "help: insert `LinearToLogits : Vector -> Logits`" in err


def test_one_bad_file_among_good_ones_exits_1(capsys) -> None:
    code, out, err = cli(capsys, "check", TINY, ILLEGAL)
    assert code == 1
    assert f"{TINY}: ok" in out
    assert "error[E0201]" in err


def test_out_of_range_token_is_a_runtime_error_exit_1(capsys) -> None:
    code, out, err = cli(capsys, "run", TINY, "predict", "--input", "7")
    assert code == 1
    assert out == ""
    assert "error[R0412]" in err
    assert "not a valid `TokenId`" in err
    assert "out of range (limit V = 5)" in err


def test_negative_token_is_a_runtime_error_exit_1(capsys) -> None:
    code, _, err = cli(capsys, "run", TINY, "predict", "--input", "-1")
    assert code == 1
    assert "the entry -1 is negative" in err


def test_output_invariant_violation_points_at_the_morphism(capsys, tmp_path) -> None:
    path = tmp_path / "neg.cat"
    path.write_text(
        "import std.ml\n\nobject Scalar : Real\nobject Loss : Real where value >= 0\n\n"
        "morphism Negate : Scalar -> Loss = scale(-1)\n"
    )
    code, _, err = cli(capsys, "run", path, "Negate", "--input", "2")
    assert code == 1
    assert f"{path}:6:1: error[R0414]" in err
    assert "the output of `Negate` is not a valid `Loss`" in err
    code, out, _ = cli(capsys, "run", path, "Negate", "--input", "-2")
    assert (code, out) == (0, "Negate : Scalar -> Loss\n2.0\n")


@pytest.mark.parametrize(
    "argv",
    [
        ["frobnicate", TINY],
        [],
        ["check"],
        ["check", "no/such/file.cat"],
        ["run", "no/such/file.cat", "predict"],
        ["train", "no/such/file.cat", "step"],
        ["laws", "no/such/file.cat"],
        ["gradcheck", "no/such/file.cat", "loss"],
        ["draw", "no/such/file.cat", "-o", "x.dot"],
        ["run", TINY],
        ["run", TINY, "predict", "--input", "[1,"],
        ["run", TINY, "predict", "--input", "{'a': 1}"],
        ["run", CARD, "pipeline", "--input", "[0, 0, 0, 0, 0]", "--port", "target"],
        ["run", CARD, "pipeline", "--input", "[0, 0, 0, 0, 0]", "--port", "target=[2"],
        ["run", TINY, "predict", "--input", "1", "--params", "no/such/params.npz"],
        ["run", TINY, "predict", "--dtype", "float16", "--input", "1"],
        ["train", TINY, "step", "--steps", "many"],
        ["draw", TINY, "predict"],
    ],
)
def test_bad_usage_exits_2(capsys, argv: list[str]) -> None:
    code, out, err = cli(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.strip()


def test_bad_json_names_the_option(capsys) -> None:
    _, _, err = cli(capsys, "run", TINY, "predict", "--input", "[1,")
    assert err.startswith("catdsl: --input is not valid JSON")
    _, _, err = cli(capsys, "run", CARD, "pipeline", "--input", "[0,0,0,0,0]", "--port", "t")
    assert err == "catdsl: --port takes name=JSON, got 't'\n"


def test_missing_file_message(capsys) -> None:
    _, _, err = cli(capsys, "check", "no/such/file.cat")
    assert err == "catdsl: cannot read `no/such/file.cat`: No such file or directory\n"


def test_internal_bug_exits_70_without_traceback(capsys, monkeypatch) -> None:
    import catdsl.loader

    def broken(*args, **kwargs):
        raise RuntimeError("the checker fell over")

    monkeypatch.setattr(catdsl.loader, "check_file", broken)
    code, out, err = cli(capsys, "check", TINY)
    assert code == 70
    assert out == ""
    assert "internal error" in err
    assert "RuntimeError: the checker fell over" in err
    assert "This is a bug in catdsl" in err
    assert len(err.splitlines()) <= 3


def test_internal_bug_in_a_later_phase_exits_70(capsys, monkeypatch) -> None:
    import catdsl.frontend.law_check as law_check

    def broken(*args, **kwargs):
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(law_check, "check_laws", broken)
    code, _, err = cli(capsys, "laws", TINY)
    assert code == 70
    assert "internal error: ZeroDivisionError: oops" in err


def test_help_exits_0(capsys) -> None:
    code, out, _ = cli(capsys, "--help")
    assert code == 0
    for command in ("check", "run", "train", "draw", "laws", "gradcheck"):
        assert command in out


def test_python_dash_m_is_the_same_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "catdsl", "check", ILLEGAL], capture_output=True, text=True
    )
    assert done.returncode == 1
    assert "error[E0201]" in done.stdout + done.stderr


# ============================================================== check --json
def test_check_json_of_a_good_program_is_an_empty_list(capsys) -> None:
    code, out, _ = cli(capsys, "check", TINY, "--json")
    assert code == 0
    assert json.loads(out) == []


def test_check_json_fields(capsys) -> None:
    code, out, err = cli(capsys, "check", "--json", ILLEGAL)
    assert code == 1
    assert err == ""
    (diag,) = json.loads(out)
    assert diag == {
        "file": ILLEGAL,
        "line": 21,
        "column": 28,
        "end_line": 21,
        "end_column": 35,
        "severity": "error",
        "code": "E0201",
        "message": "cannot compose `Embedding` with `Softmax`: `Vector` is not `Logits`",
        "help": "insert `LinearToLogits : Vector -> Logits`: "
        "`Embedding >> LinearToLogits >> Softmax`",
        "notes": [],
    }


def test_check_json_reports_every_diagnostic(capsys, tmp_path) -> None:
    path = tmp_path / "two.cat"
    path.write_text("object A : Real\nlet x = A >> B\nlet y = C >> A\n")
    code, out, _ = cli(capsys, "check", path, "--json")
    assert code == 1
    diags = json.loads(out)
    assert [(d["code"], d["line"]) for d in diags] == [("E0306", 2), ("E0306", 3)]
    assert {d["file"] for d in diags} == {str(path)}


def test_runtime_error_with_json_is_json(capsys) -> None:
    code, out, _ = cli(capsys, "run", TINY, "predict", "--input", "7", "--json")
    assert code == 1
    (diag,) = json.loads(out)
    assert diag["code"] == "R0412"


# ============================================================== run
def test_run_prints_type_then_value(capsys) -> None:
    code, out, _ = cli(capsys, "run", TINY, "predict", "--input", "1")
    assert code == 0
    assert out == (
        "predict : TokenId -> Distribution\n[0.200463 0.200231 0.2      0.199768 0.199537]\n"
    )


def test_run_json_array_matches_the_api(capsys) -> None:
    import catdsl

    result = run_json(capsys, TINY, "predict", "--input", "1")
    assert result["name"] == "predict"
    assert result["type"] == "TokenId -> Distribution"
    expected = catdsl.load(TINY)["predict"](1)
    assert np.array_equal(np.array(result["value"]), expected)


def test_run_product_input(capsys) -> None:
    result = run_json(capsys, TINY, "loss", "--input", "[1, 2]")
    assert result["type"] == "TokenId * TokenId -> Loss"
    probs = np.array(run_json(capsys, TINY, "predict", "--input", "1")["value"])
    assert result["value"] == pytest.approx(-np.log(probs[2]), rel=1e-12)


def test_run_point_needs_no_input(capsys) -> None:
    result = run_json(capsys, CHAIN, "z")
    assert result == {"name": "z", "type": "Unit -> Scalar", "value": 6.0}
    code, _, err = cli(capsys, "run", CHAIN, "z", "--input", "1")
    assert code == 1
    assert "takes no input" in err


def test_run_missing_input_is_reported(capsys) -> None:
    code, _, err = cli(capsys, "run", TINY, "predict")
    assert code == 1
    assert "`predict` needs an input of `TokenId`" in err


def test_run_input_from_npy(capsys, tmp_path) -> None:
    np.save(tmp_path / "tokens.npy", np.array([1, 2, 3]))
    value = np.array(run_json(capsys, TINY, "predict", "--input", tmp_path / "tokens.npy")["value"])
    assert value.shape == (3, 5)
    assert np.allclose(value.sum(axis=1), 1.0)
    one = np.array(run_json(capsys, TINY, "predict", "--input", "2")["value"])
    assert np.array_equal(value[1], one)


def test_run_product_input_from_npz(capsys, tmp_path) -> None:
    np.savez(tmp_path / "pair.npz", a=np.array(1), b=np.array(2))
    from_file = run_json(capsys, TINY, "loss", "--input", tmp_path / "pair.npz")
    assert from_file["value"] == run_json(capsys, TINY, "loss", "--input", "[1, 2]")["value"]


def test_run_port_as_json_and_as_npy(capsys, tmp_path) -> None:
    logits = [0.5, -1.0, 2.0, 0.0, 1.5]
    result = run_json(capsys, CARD, "pipeline", "--input", json.dumps(logits), "--port", "target=2")
    assert result["type"] == "Logits -> Loss [target: TokenId]"
    z = np.array(logits)
    expected = -(z[2] - np.log(np.exp(z).sum()))
    assert result["value"] == pytest.approx(expected, rel=1e-12)
    np.save(tmp_path / "target.npy", np.array(2))
    np.save(tmp_path / "logits.npy", z)
    again = run_json(
        capsys, CARD, "pipeline", "--input", tmp_path / "logits.npy", "--port",
        f"target={tmp_path / 'target.npy'}",
    )  # fmt: skip
    assert again["value"] == result["value"]


@pytest.mark.parametrize(
    ("ports", "message"),
    [([], "missing port `target`"), (["target=1", "other=2"], "unknown port `other`")],
)
def test_run_port_mismatch_exits_1(capsys, ports: list[str], message: str) -> None:
    args = [a for p in ports for a in ("--port", p)]
    code, _, err = cli(capsys, "run", CARD, "pipeline", "--input", "[0,0,0,0,0]", *args)
    assert code == 1
    assert "error[E0804]" in err
    assert message in err
    assert "help: ports: target" in err


def test_run_port_out_of_range(capsys) -> None:
    code, _, err = cli(
        capsys, "run", CARD, "pipeline", "--input", "[0,0,0,0,0]", "--port", "target=5"
    )
    assert code == 1
    assert "the port `target` is not a valid `TokenId`" in err


def test_run_params_change_the_output(capsys, tmp_path) -> None:
    import catdsl

    program = catdsl.load(TINY)
    b = np.array([0.0, 0.0, 0.0, 0.0, 3.0])
    np.savez(tmp_path / "p.npz", b=b)
    before = np.array(run_json(capsys, TINY, "predict", "--input", "1")["value"])
    after = np.array(
        run_json(capsys, TINY, "predict", "--input", "1", "--params", tmp_path / "p.npz")["value"]
    )
    assert not np.allclose(before, after)
    assert after.argmax() == 4
    program.params["b"] = b
    assert np.array_equal(after, program["predict"](1))


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"b": np.zeros(4)}, "`b` in `{path}` has shape (4,), expected (5,)"),
        ({"Q": np.zeros(4)}, "`{path}` holds `Q`, which is not a param of"),
    ],
)
def test_run_bad_params_file_exits_1(capsys, tmp_path, arrays, message: str) -> None:
    path = tmp_path / "p.npz"
    np.savez(path, **arrays)
    code, _, err = cli(capsys, "run", TINY, "predict", "--input", "1", "--params", path)
    assert code == 1
    assert "error[E0802]" in err
    assert message.format(path=path) in err


def test_run_save_holds_the_value(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli(capsys, "run", TINY, "predict", "--input", "1", "--save", "out.npz")
    assert code == 0
    assert out.startswith("predict : TokenId -> Distribution\n")
    printed = run_json(capsys, TINY, "predict", "--input", "1")["value"]
    with np.load("out.npz") as saved:
        assert saved.files == ["value"]
        assert np.array_equal(saved["value"], np.array(printed))
    assert leftovers(tmp_path, set()) == {"out.npz"}


def test_run_save_of_a_record_and_of_a_product(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli(capsys, "run", ADAM, "one_step", "--save", "adam.npz")[0] == 0
    with np.load("adam.npz") as saved:
        assert sorted(saved.files) == ["m.theta", "params.theta", "step", "v.theta"]
        assert np.allclose(saved["params.theta"], [0.9, -0.9])
        assert int(saved["step"]) == 1
    assert cli(capsys, "run", TINY, "examples", "--save", "examples.npz")[0] == 0
    with np.load("examples.npz") as saved:
        assert saved.files == ["value.0", "value.1"]
        assert saved["value.0"].tolist() == [1, 2, 3, 4, 1, 2, 3]
        assert saved["value.1"].tolist() == [2, 3, 4, 1, 2, 3, 4]


def test_run_save_of_params_loads_back_with_params(capsys, tmp_path, monkeypatch) -> None:
    """A `Params(loss)` point saved with --save is a file that --params accepts."""
    monkeypatch.chdir(tmp_path)
    Path("trained.cat").write_text(
        f'import "{TINY}"\n\nlet trained_params = Init(loss) >> step ^ 80\n'
    )
    allow = ("--allow-read", str(Path(TINY).resolve().parent))  # it imports from the repo
    assert cli(capsys, "run", "trained.cat", "trained_params", "--save", "p.npz", *allow)[0] == 0
    with np.load("p.npz") as saved:
        assert sorted(saved.files) == ["E", "W", "b"]
    before = run_json(capsys, TINY, "loss", "--input", "[1, 2]")["value"]
    after = run_json(capsys, TINY, "loss", "--input", "[1, 2]", "--params", "p.npz")["value"]
    assert after < before / 10


def test_run_json_shapes(capsys) -> None:
    # arrays as nested lists
    assert np.array(run_json(capsys, TINY, "predict", "--input", "[1, 2]")["value"]).shape == (2, 5)
    # a list of products: one list per component
    examples = run_json(capsys, TINY, "examples")
    assert examples["type"] == "Unit -> TrainingSet"
    assert examples["value"] == [[1, 2, 3, 4, 1, 2, 3], [2, 3, 4, 1, 2, 3, 4]]
    # records (the Adam state) as objects
    state = run_json(capsys, ADAM, "one_step")
    assert state["type"] == "Unit -> AdamState(LinearLoss)"
    value = state["value"]
    assert set(value) == {"params", "m", "v", "step"}
    assert value["step"] == 1
    assert np.allclose(value["params"]["theta"], [0.9, -0.9])
    assert np.allclose(value["m"]["theta"], [0.05, -0.025])
    assert np.allclose(value["v"]["theta"], [0.00025, 0.0000625])
    params = run_json(capsys, ADAM, "theta_after_one")
    assert params["type"] == "Unit -> Params(LinearLoss)"
    assert set(params["value"]) == {"theta"}


def test_run_json_of_a_product_output_is_a_list(capsys, tmp_path) -> None:
    path = tmp_path / "pair.cat"
    path.write_text(
        "import std.ml\n\nobject Scalar : Real\n\nmorphism Double : Scalar -> Scalar = scale(2)\n"
        "let both = <Double, Scalar>\n"
    )
    result = run_json(capsys, path, "both", "--input", "1.5")
    assert result == {"name": "both", "type": "Scalar -> Scalar * Scalar", "value": [3.0, 1.5]}


def test_run_unknown_definition_suggests_a_name(capsys) -> None:
    code, _, err = cli(capsys, "run", TINY, "predcit", "--input", "1")
    assert code == 1
    assert "error[E0801]: no definition named `predcit`" in err
    assert "did you mean `predict`?" in err


# ============================================================== train
def sampled_losses(out: str) -> list[tuple[int, float]]:
    rows = re.findall(r"^step +(\d+)  loss (\d+\.\d+)$", out, flags=re.M)
    return [(int(s), float(x)) for s, x in rows]


def test_train_losses_decrease(capsys) -> None:
    code, out, _ = cli(capsys, "train", TINY, "step", "--steps", "80")
    assert code == 0
    rows = sampled_losses(out)
    assert len(rows) == len(out.splitlines()) - 1 >= 10
    assert out.splitlines()[-1] == "after 80 steps: loss 0.00971994"
    assert rows[0] == (0, 1.60939)
    assert rows[-1][0] == 79
    losses = [x for _, x in rows]
    assert all(b < a for a, b in itertools.pairwise(losses))
    assert losses[-1] < 0.02


def test_train_json_has_every_loss_and_the_params(capsys) -> None:
    result = train_json(capsys, TINY, "step", "--steps", "80")
    assert result["name"] == "step"
    assert result["steps"] == 80
    assert len(result["losses"]) == 80
    assert all(b < a for a, b in itertools.pairwise(result["losses"]))
    assert {k: np.array(v).shape for k, v in result["params"].items()} == {
        "E": (5, 4),
        "W": (4, 5),
        "b": (5,),
    }


def test_train_a_power_uses_its_exponent(capsys) -> None:
    power = train_json(capsys, TINY, "trained")
    step = train_json(capsys, TINY, "step", "--steps", "80")
    assert power["name"] == "trained"
    assert {**power, "name": "step"} == step


def test_training_matches_loss_after(capsys) -> None:
    """`train step --steps 80` ends at the parameters `loss_after` evaluates the loss at."""
    import catdsl

    result = train_json(capsys, TINY, "step", "--steps", "80")
    program = catdsl.load(TINY)
    for name, value in result["params"].items():
        program.params[name] = np.array(value)
    assert program["loss_before"]() == pytest.approx(run_json(capsys, TINY, "loss_after")["value"])


def test_train_adam_on_the_challenge(capsys) -> None:
    result = train_json(capsys, ADAM, "adam", "--steps", "3")
    assert result["losses"] == pytest.approx([0.75, 0.675, 0.6], abs=1e-7)
    assert result["params"] == {"theta": pytest.approx([0.7, -0.7], abs=1e-7)}


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["step"], "E0806", "how many steps? `step` is one step"),
        (["predict", "--steps", "3"], "E0805", "`predict` is `TokenId -> Distribution`, not a"),
        (["step", "--steps", "-1"], "E0806", "--steps must be at least 0"),
    ],
)
def test_train_refuses(capsys, argv: list[str], code: str, message: str) -> None:
    exit_code, _, err = cli(capsys, "train", TINY, *argv)
    assert exit_code == 1
    assert f"error[{code}]" in err
    assert message in err


def test_train_plot_writes_a_png(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli(capsys, "train", TINY, "step", "--steps", "20", "--plot", "loss.png")
    assert code == 0
    assert out.endswith("loss curve written to loss.png\n")
    data = Path("loss.png").read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert len(data) > 5_000
    assert leftovers(tmp_path, set()) == {"loss.png"}


def test_train_plot_to_svg_in_a_new_directory(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, _ = cli(capsys, "train", TINY, "step", "--steps", "5", "--plot", "img/loss.svg")
    assert code == 0
    assert "<svg" in Path("img/loss.svg").read_text()


# -------------------------------------------------------------- checkpoints
def test_resume_from_a_checkpoint_is_bit_identical(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    straight = train_json(capsys, TINY, "step", "--steps", "80")
    first = train_json(capsys, TINY, "step", "--steps", "30", "--checkpoint", "state.npz")
    assert first["steps"] == 30
    assert first["losses"] == straight["losses"][:30]
    assert leftovers(tmp_path, set()) == {"state.npz"}
    resumed = train_json(capsys, TINY, "step", "--steps", "80", "--checkpoint", "state.npz")
    assert resumed["steps"] == 80
    assert resumed["losses"] == straight["losses"]
    for name, value in straight["params"].items():
        assert np.array_equal(np.array(resumed["params"][name]), np.array(value))
    assert leftovers(tmp_path, set()) == {"state.npz"}
    # the finished checkpoint holds the final state; running again does no more steps
    with np.load("state.npz") as saved:
        assert int(saved["__step__"]) == 80
        assert np.array_equal(saved["0/W"], np.array(straight["params"]["W"]))
    again = train_json(capsys, TINY, "step", "--steps", "80", "--checkpoint", "state.npz")
    assert again["resumed_from"] == 80
    assert {**again, "resumed_from": 0} == straight


def interrupt_at(monkeypatch, call: int) -> None:
    """Make the `call`-th step of the next training loop raise KeyboardInterrupt (Ctrl-C in
    the middle of a step: the state of the step before is the last complete one)."""
    import catdsl.semantics.training as training

    real = training.iterate

    def iterate(step, state, n, hooks, label):
        calls = 0

        def interrupted(s):
            nonlocal calls
            calls += 1
            if calls == call:
                raise KeyboardInterrupt
            return step(s)

        return real(interrupted, state, n, hooks, label)

    monkeypatch.setattr(training, "iterate", iterate)


@pytest.mark.parametrize("call", [1, 7, 37, 80])
def test_interrupted_run_resumes_bit_identically(capsys, tmp_path, monkeypatch, call) -> None:
    monkeypatch.chdir(tmp_path)
    straight = train_json(capsys, TINY, "step", "--steps", "80")
    with monkeypatch.context() as patch:
        interrupt_at(patch, call)
        code, out, err = cli(
            capsys, "train", TINY, "step", "--steps", "80", "--checkpoint", "s.npz"
        )
    assert code == 130
    assert out == ""
    assert "interrupted" in err
    assert leftovers(tmp_path, set()) == {"s.npz"}
    with np.load("s.npz") as saved:
        assert int(saved["__step__"]) == call - 1
        assert saved["__losses__"].tolist() == straight["losses"][: call - 1]
    resumed = train_json(capsys, TINY, "step", "--steps", "80", "--checkpoint", "s.npz")
    assert {**resumed, "resumed_from": 0} == straight
    assert leftovers(tmp_path, set()) == {"s.npz"}


def test_interrupted_adam_run_resumes_bit_identically(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    straight = train_json(capsys, ADAM, "adam", "--steps", "40")
    with monkeypatch.context() as patch:
        interrupt_at(patch, 17)
        assert (
            cli(capsys, "train", ADAM, "adam", "--steps", "40", "--checkpoint", "a.npz")[0] == 130
        )
    resumed = train_json(capsys, ADAM, "adam", "--steps", "40", "--checkpoint", "a.npz")
    assert {**resumed, "resumed_from": 0} == straight


def test_interrupt_message_says_where_the_checkpoint_is(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    interrupt_at(monkeypatch, 10)
    code, _, err = cli(capsys, "train", TINY, "step", "--steps", "80", "--checkpoint", "s.npz")
    assert code == 130
    assert "interrupted after step 9 of 80" in err
    assert "s.npz" in err


def test_a_crash_while_saving_keeps_the_old_checkpoint(capsys, tmp_path, monkeypatch) -> None:
    """An I/O error in the middle of writing a checkpoint: the previous file stays whole."""
    import catdsl.files as io

    monkeypatch.chdir(tmp_path)
    assert cli(capsys, "train", TINY, "step", "--steps", "20", "--checkpoint", "s.npz")[0] == 0
    before = Path("s.npz").read_bytes()

    def half_written(file, arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(io, "_write_npz", half_written)
    code, _, err = cli(capsys, "train", TINY, "step", "--steps", "40", "--checkpoint", "s.npz")
    assert code != 0
    assert "No space left on device" in err
    assert Path("s.npz").read_bytes() == before
    assert leftovers(tmp_path, set()) == {"s.npz"}


def test_ctrl_c_while_saving_leaves_no_temp_file(capsys, tmp_path, monkeypatch) -> None:
    import catdsl.files as io

    monkeypatch.chdir(tmp_path)
    real = io._write_npz
    calls = 0

    def interrupted_write(file, arrays):
        nonlocal calls
        calls += 1
        if calls == 3:  # the periodic checkpoint after step 12 (every 4 steps of 80)
            file.write(b"PK\x03\x04 half a zip")
            raise KeyboardInterrupt
        real(file, arrays)

    monkeypatch.setattr(io, "_write_npz", interrupted_write)
    code, _, _ = cli(capsys, "train", TINY, "step", "--steps", "80", "--checkpoint", "s.npz")
    assert code == 130
    with np.load("s.npz") as saved:  # the interrupt handler saved a whole checkpoint
        assert int(saved["__step__"]) == 12
    assert leftovers(tmp_path, set()) == {"s.npz"}


def test_checkpoint_of_another_state_is_refused(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli(capsys, "train", TINY, "step", "--steps", "3", "--checkpoint", "s.npz")[0] == 0
    code, _, err = cli(capsys, "train", ADAM, "adam", "--steps", "3", "--checkpoint", "s.npz")
    assert code == 1
    assert "error[R0607]: checkpoint `s.npz` does not fit the state of `adam ^ 3`" in err
    code, _, err = cli(capsys, "train", TINY, "step", "--steps", "2", "--checkpoint", "s.npz")
    assert code == 1
    assert "is at step 3, beyond the 2 steps" in err


def test_unreadable_checkpoint_is_refused(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("s.npz").write_bytes(b"not a zip")
    code, _, err = cli(capsys, "train", TINY, "step", "--steps", "3", "--checkpoint", "s.npz")
    assert code == 1
    assert "error[R0607]: cannot read checkpoint `s.npz`" in err


# ============================================================== laws
def law_rows(out: str) -> dict[str, tuple[str, float]]:
    rows = re.findall(r"^(ok  |FAIL) (\S+) +max error (\S+)  \(tolerance", out, flags=re.M)
    return {name: (mark.strip(), float(err)) for mark, name, err in rows}


def test_laws_of_the_tiny_model_hold(capsys) -> None:
    code, out, _ = cli(capsys, "laws", TINY)
    assert code == 0
    rows = law_rows(out)
    assert set(rows) == {"composed_is_direct", "left_identity", "right_identity", "associativity"}
    assert len(out.splitlines()) == 4
    assert all(mark == "ok" and err <= 1e-6 for mark, err in rows.values())


def test_laws_of_composition_hold(capsys) -> None:
    code, out, _ = cli(capsys, "laws", COMPOSITION)
    assert code == 0
    assert len(law_rows(out)) == 7
    assert "ok   add_then_double" in out


def test_a_failing_law_exits_1(capsys, tmp_path) -> None:
    path = tmp_path / "order.cat"
    path.write_text(ORDER_CAT)
    code, out, _ = cli(capsys, "laws", path)
    assert code == 1
    rows = law_rows(out)
    assert rows["order_matters"] == ("FAIL", 1.0)
    assert rows["same_order"] == ("ok", 0.0)
    code, out, _ = cli(capsys, "laws", path, "--json")
    assert code == 1
    reports = {r["name"]: r for r in json.loads(out)}
    assert reports["order_matters"]["holds"] is False
    assert reports["order_matters"]["max_error"] == 1.0
    assert reports["same_order"] == {
        "name": "same_order",
        "holds": True,
        "max_error": 0.0,
        "tolerance": 1e-9,
        "samples": 16,
        "failure": None,
        "cases": 1,
        "counterexample": None,
    }


def test_program_without_laws(capsys) -> None:
    code, out, _ = cli(capsys, "laws", CHAIN)
    assert (code, out) == (0, f"{CHAIN}: no laws\n")


# ============================================================== gradcheck
def grad_rows(out: str) -> dict[str, tuple[str, float]]:
    rows = re.findall(r"^(ok  |FAIL) (.+?) +max relative error (\S+)", out, flags=re.M)
    return {name: (mark.strip(), float(err)) for mark, name, err in rows}


def test_gradcheck_of_the_tiny_loss(capsys) -> None:
    code, out, _ = cli(capsys, "gradcheck", TINY, "loss")
    assert code == 0
    rows = grad_rows(out)
    assert set(rows) == {"E", "W", "b"}
    assert all(mark == "ok" and err < 1e-5 for mark, err in rows.values())
    assert "(20 coordinates)" in out


def test_gradcheck_json(capsys) -> None:
    code, out, _ = cli(capsys, "gradcheck", CHAIN, "product", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["ok"] is True
    assert [t["name"] for t in report["tensors"]] == ["input 1", "input 2"]


def test_gradcheck_catches_a_wrong_derivative(capsys, monkeypatch) -> None:
    from catdsl.std import kernels

    def wrong_vjp(self, residual, dy):  # the classic slip: each factor's own value
        a, b, la, lb = residual
        return self.reduce(dy * la, a, la), self.reduce(dy * lb, b, lb)

    monkeypatch.setattr(kernels.Mul, "vjp", wrong_vjp)
    code, out, _ = cli(capsys, "gradcheck", CHAIN, "product")
    assert code == 1
    assert grad_rows(out)["input 1"][0] == "FAIL"


def test_gradcheck_needs_something_real(capsys) -> None:
    code, _, err = cli(capsys, "gradcheck", TINY, "examples")
    assert code == 1
    assert "error[E0807]" in err


# ============================================================== draw
@pytest.mark.parametrize("suffix", ["dot", "svg", "png", "pdf"])
def test_draw_a_definition(capsys, tmp_path, monkeypatch, suffix: str) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli(capsys, "draw", TINY, "predict", "-o", f"predict.{suffix}")
    assert code == 0
    assert out == f"wrote predict.{suffix}\n"
    data = Path(f"predict.{suffix}").read_bytes()
    if suffix in ("dot", "svg"):
        text = data.decode()
        labels = ("Embedding", "LinearToLogits", "Softmax", "TokenId", "Vector", "Logits")
        for label in (*labels, "Distribution"):
            assert label in text
    if suffix == "dot":
        assert data.startswith(b'digraph "predict"')
    if suffix == "svg":
        assert b"<svg" in data
    if suffix == "png":
        assert data.startswith(PNG_MAGIC)
    if suffix == "pdf":
        assert data.startswith(PDF_MAGIC)
    assert leftovers(tmp_path, set()) == {f"predict.{suffix}"}


def test_draw_a_law(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for out in ("law.dot", "law.svg"):
        assert cli(capsys, "draw", TINY, "composed_is_direct", "-o", out)[0] == 0
        text = Path(out).read_text()
        for label in ("composed_is_direct", "DirectPredict", "Embedding", "Softmax"):
            assert label in text


def test_draw_the_whole_program(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli(capsys, "draw", TINY, "-o", "all.dot")[0] == 0
    text = Path("all.dot").read_text()
    for name in ("predict", "loss_after", "examples", "Windowing", "CrossEntropy"):
        assert name in text
    assert cli(capsys, "draw", TINY, "-o", "all.pdf")[0] == 0
    assert Path("all.pdf").read_bytes().startswith(PDF_MAGIC)


def test_draw_the_whole_program_into_a_directory(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli(capsys, "draw", TINY, "-o", "pages/")
    assert code == 0
    assert out == "wrote 18 drawings and index.html to pages/\n"
    names = ["Embedding", "predict", "loss_after", "composed_is_direct", "associativity"]
    assert {f"{n}.svg" for n in names} <= {p.name for p in Path("pages").iterdir()}
    assert "<svg" in Path("pages/predict.svg").read_text()
    index = Path("pages/index.html").read_text()
    sections = re.findall(r'<section id="([^"]+)">', index)
    assert sections[:3] == ["Embedding", "LinearToLogits", "Softmax"] and len(sections) == 18
    assert sections[-4:] == [
        "composed_is_direct",
        "left_identity",
        "right_identity",
        "associativity",
    ]
    assert "<code>predict : TokenId -&gt; Distribution</code>" in index
    assert all(f'<img src="{n}.svg"' in index for n in sections)


def test_draw_a_program_with_errors_into_a_directory(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("out").mkdir()
    code, out, err = cli(capsys, "draw", ILLEGAL, "-o", "out")
    assert (code, out) == (1, "")
    assert "error[E0201]" in err and "wrote 4 drawings and index.html to out" in err
    index = Path("out/index.html").read_text()
    assert re.findall(r'<section id="([^"]+)">', index) == [
        "illegal-predict",
        "Embedding",
        "LinearToLogits",
        "Softmax",
    ]
    assert "Vector ≠ Logits" in Path("out/illegal-predict.svg").read_text()


@pytest.mark.parametrize("suffix", ["dot", "svg"])
def test_draw_an_ill_typed_definition(capsys, tmp_path, monkeypatch, suffix: str) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, "draw", ILLEGAL, "predict", "-o", f"illegal.{suffix}")
    assert code == 1
    assert out == ""
    assert "error[E0201]" in err
    assert f"illegal diagram written to illegal.{suffix}" in err
    text = Path(f"illegal.{suffix}").read_text()
    assert "illegal composition in `predict`" in text
    assert "Vector ≠ Logits" in text


def test_draw_a_definition_with_holes(capsys, tmp_path, monkeypatch) -> None:
    """A hole is an error for `check`, but the definition around it still draws, dashed."""
    monkeypatch.chdir(tmp_path)
    hole = str(PROGRAMS / "errors" / "hole.cat")
    code, out, err = cli(capsys, "draw", hole, "predict", "-o", "hole.dot")
    assert (code, out) == (1, "")
    assert err.count("error[E0601]") == 2
    assert "`predict` drawn to hole.dot all the same" in err
    text = Path("hole.dot").read_text()
    assert re.search(r"\?head.*dashed|dashed.*\?head", text)
    assert "Embedding" in text and "Softmax" in text


def test_draw_a_legal_definition_of_a_file_with_errors(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, "draw", ILLEGAL, "Embedding", "-o", "e.dot")
    assert code == 1 and "error[E0201]" in err
    assert "`Embedding` drawn to e.dot all the same" in err
    assert "lookup(E)" in Path("e.dot").read_text()
    code, _, err = cli(capsys, "draw", ILLEGAL, "nonesuch", "-o", "n.dot")
    assert code == 1 and not Path("n.dot").exists()


def test_draw_unknown_name(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, "draw", TINY, "predcit", "-o", "x.dot")
    assert code == 1
    assert "no definition or law named `predcit`" in err
    assert "did you mean `predict`?" in err
    assert not Path("x.dot").exists()


@pytest.fixture
def no_graphviz(tmp_path, monkeypatch) -> Path:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def test_draw_dot_needs_no_graphviz(capsys, no_graphviz) -> None:
    assert cli(capsys, "draw", TINY, "predict", "-o", "p.dot")[0] == 0
    assert "Embedding" in Path("p.dot").read_text()


@pytest.mark.parametrize("suffix", ["svg", "png", "pdf"])
def test_draw_without_graphviz_says_how_to_install_it(capsys, no_graphviz, suffix) -> None:
    code, out, err = cli(capsys, "draw", TINY, "predict", "-o", f"p.{suffix}")
    assert code in (1, 2)
    assert out == ""
    assert "Graphviz" in err
    assert "apt-get install graphviz" in err
    assert "brew install graphviz" in err
    assert leftovers(no_graphviz, set()) == set()


# ============================================================== known bugs
def test_check_json_of_a_missing_file_exits_2(capsys) -> None:
    code, out, _ = cli(capsys, "check", "--json", "no/such/file.cat")
    assert json.loads(out)[0]["code"] == "E0703"
    assert code == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["run", TINY, "predict", "--input", "missing.npy"],
        ["run", TINY, "predict", "--input", "1", "--save", f"{TINY}/out.npz"],  # under a file
        ["draw", TINY, "predict", "-o", "predict.jpg"],
    ],
    ids=["missing-input-file", "unwritable-save", "unknown-format"],
)
def test_io_failures_exit_2(capsys, tmp_path, monkeypatch, argv) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, *argv)
    assert err.strip()
    assert code == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["run", TINY, "predict", "--input", "1", "--save", "out.npz"],
        ["draw", TINY, "predict", "-o", "out.dot"],
        ["train", TINY, "step", "--steps", "2", "--plot", "out.png"],
    ],
    ids=["save", "draw", "plot"],
)
def test_written_files_respect_the_umask(capsys, tmp_path, monkeypatch, argv) -> None:
    monkeypatch.chdir(tmp_path)
    old = os.umask(0o022)
    try:
        assert cli(capsys, *argv)[0] == 0
    finally:
        os.umask(old)
    (written,) = tmp_path.iterdir()
    assert written.stat().st_mode & 0o777 == 0o644


def test_text_output_of_a_nested_record(capsys) -> None:
    code, out, _ = cli(capsys, "run", ADAM, "one_step")
    assert code == 0
    for line in out.splitlines()[1:]:
        assert line.count(" = ") <= 1, line


# ============================================================== bad input, read as such
def test_check_goes_on_past_an_unreadable_file(capsys, tmp_path) -> None:
    code, out, err = cli(capsys, "check", ILLEGAL, str(tmp_path / "nope.cat"), CARD)
    assert code == 2
    assert "cannot read" in err and "error[E0201]" in err
    assert out == f"{CARD}: ok (4 definitions, 1 law)\n"  # the file after the missing one
    code, out, _ = cli(capsys, "check", "--json", str(tmp_path / "nope.cat"), ILLEGAL)
    assert code == 2
    assert [d["code"] for d in json.loads(out)] == ["E0703", "E0201"]


@pytest.mark.parametrize(
    "argv",
    [
        ["laws", TINY, "--samples", "0"],
        ["laws", TINY, "--samples", "-5"],
        ["gradcheck", TINY, "loss", "--eps", "0"],
        ["draw", TINY, "predict", "-o", "x.dot", "--expand", "-1"],
    ],
)
def test_numeric_options_out_of_range_are_usage_errors(capsys, argv) -> None:
    code, _, err = cli(capsys, *argv)
    assert code == 2 and ("greater than 0" in err or "0 or more" in err)


def test_a_law_that_cannot_run_says_why(capsys, tmp_path) -> None:
    program = tmp_path / "overflow.cat"
    program.write_text(
        "import std.ml\nobject Scalar : Real\nmorphism Big : Scalar -> Scalar = scale(1e300)\n"
        "morphism Sq : Scalar -> Scalar = <Real, Real> >> mul\nlaw overflow : Big >> Sq == Sq\n"
    )
    code, out, _ = cli(capsys, "laws", str(program))
    assert code == 1
    assert out.splitlines()[0].split() == [
        "FAIL",
        "overflow",
        "did",
        "not",
        "run",
        "(16",
        "samples)",
    ]
    assert "R0415" in out.splitlines()[1] and "infinite" in out.splitlines()[1]
    code, out, _ = cli(capsys, "laws", str(program), "--json")
    (report,) = json.loads(out)  # strict JSON: no Infinity
    assert report["max_error"] is None and "R0415" in report["failure"]


def test_a_plot_name_without_a_known_suffix_is_refused_before_training(
    capsys, tmp_path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, "train", TINY, "step", "--steps", "3", "--plot", "loss")
    assert (code, out) == (2, "")
    assert "error[R0702]: cannot plot to `loss`: no suffix" in err
    assert list(tmp_path.iterdir()) == []
    code, _, err = cli(capsys, "train", TINY, "step", "--steps", "3", "--plot", "loss.txt")
    assert code == 2 and "unknown format `.txt`" in err
    assert cli(capsys, "train", TINY, "step", "--steps", "3", "--plot", "c.svg")[0] == 0
    assert [p.name for p in tmp_path.iterdir()] == ["c.svg"]  # no temporary file left behind


def test_a_line_with_a_tab_keeps_its_snippet_and_caret(capsys, tmp_path) -> None:
    program = tmp_path / "tab.cat"
    program.write_text("object A : Real[3]\n\tlet p = A >> B\n")
    _, _, err = cli(capsys, "check", str(program))
    lines = err.splitlines()
    assert "2 |  let p = A >> B" in lines
    snippet = lines.index("2 |  let p = A >> B")
    assert lines[snippet + 1].index("^") == lines[snippet].index("B")


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["predict", "--input", "[[1,2],[3]]"], 1, "its rows have different lengths"),
        (["loss", "--input", "[[1,2,3],[3,4]]"], 1, "the batch axes differ"),
        (["step", "--input", "1"], 1, "a record is given as a JSON object"),
    ],
)
def test_input_of_the_wrong_structure_is_a_diagnostic(capsys, argv, code, message) -> None:
    got, _, err = cli(capsys, "run", TINY, *argv)
    assert got == code and "error[E0803]" in err and message in err


def test_batches_of_input_and_port_must_agree(capsys) -> None:
    row = "[0.5,-1,2,0,1.5]"
    code, _, err = cli(
        capsys, "run", CARD, "pipeline", "--input", f"[{row},{row}]", "--port", "target=[2,3,4]"
    )
    assert code == 1 and "input 1 has (2,), port `target` has (3,)" in err


def test_params_must_come_from_an_npz(capsys, tmp_path) -> None:
    np.save(tmp_path / "tok.npy", np.array([1, 2]))
    code, _, err = cli(
        capsys, "run", TINY, "predict", "--input", "1", "--params", str(tmp_path / "tok.npy")
    )
    assert code == 2 and "error[R0502]" in err and "params come from a .npz file" in err


def test_a_checkpoint_of_another_step_is_refused(capsys, tmp_path) -> None:
    """Same params, other hyperparameters: resuming would silently mix two runs."""
    state = str(tmp_path / "state.npz")
    assert cli(capsys, "train", TINY, "step", "--steps", "4", "--checkpoint", state)[0] == 0
    source = Path(TINY).read_text()
    slower = tmp_path / "slower.cat"
    slower.write_text(source.replace("lr = 1.0", "lr = 0.1"))
    code, _, err = cli(capsys, "train", str(slower), "step", "--steps", "6", "--checkpoint", state)
    assert code == 1
    assert "error[R0607]" in err and "another training step" in err
    moved = tmp_path / "moved.cat"  # the same step, elsewhere and with a comment above it
    moved.write_text("# moved\n\n" + source)
    code, out, _ = cli(capsys, "train", str(moved), "step", "--steps", "6", "--checkpoint", state)
    assert code == 0 and "after 6 steps: loss 1.42164" in out


@pytest.mark.parametrize(
    ("ports", "message"),
    [(["target=2", "target=3"], "port `target` is given twice"), (["=2"], "needs a name before")],
)
def test_port_options_name_each_port_once(capsys, ports, message) -> None:
    argv = [x for p in ports for x in ("--port", p)]
    code, _, err = cli(capsys, "run", CARD, "pipeline", "--input", "[0.5,-1,2,0,1.5]", *argv)
    assert code == 2 and message in err


def test_a_param_loaded_from_a_missing_or_misshapen_file_points_at_its_declaration(
    capsys, tmp_path
) -> None:
    program = tmp_path / "p.cat"
    program.write_text(
        "import std.ml\ndim V = 5\nobject L : Real[V]\nobject S : Real\n"
        'param Q : Real[V] = load("q.npy")\nmorphism F : L -> S = dot(Q)\n'
    )
    argv = ("run", str(program), "F", "--input", "[1,2,3,4,5]")
    code, _, err = cli(capsys, *argv)
    assert code == 2  # a file that cannot be read: an I/O error
    assert f"{program}:5:1: error[R0501]" in err and 'load("q.npy")' in err
    np.save(tmp_path / "q.npy", np.zeros(2))
    code, _, err = cli(capsys, *argv)
    assert code == 1 and f"{program}:5:1: error[R0410]" in err and "shape (2,)" in err
