"""Rough edges a user hits, each with the behaviour that replaced it: a checkpoint of epochs
is said to be one; drawings and saved values go into directories made for them; ..."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO, TINY

from catdsl.cli import main

CLASSIFY = str(REPO / "programs" / "classify.cat")


def test_run_params_says_epochs_for_a_checkpoint_of_minibatch_epochs(capsys, tmp_path) -> None:
    path = str(tmp_path / "fit.npz")
    assert main(["train", CLASSIFY, "fit", "--epochs", "2", "--checkpoint", path]) == 0
    capsys.readouterr()
    assert main(["run", CLASSIFY, "val_accuracy", "--params", path]) == 0
    err = capsys.readouterr().err
    assert err == f"params from the checkpoint {path}, after 2 epochs\n"


def test_draw_and_save_make_missing_directories(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["draw", TINY, "predict", "-o", "some/new/dir/out.svg"]) == 0
    assert (tmp_path / "some" / "new" / "dir" / "out.svg").read_text().startswith("<?xml")
    argv = ["run", TINY, "predict", "--input", "1", "--save", "saved/here/value.npz"]
    assert main(argv) == 0
    assert (tmp_path / "saved" / "here" / "value.npz").is_file()


def _minibatch_source() -> str:
    from test_minibatch import SOURCE

    return SOURCE + (
        "let adam_b2 = Adam(loss, train, lr = 0.05, batch = 2, seed = 3)\n"
        "let adam_full = Adam(loss, train, lr = 0.05)\n"
    )


def test_train_batch_override_equals_the_written_batch() -> None:
    import catdsl

    written = catdsl.loads(_minibatch_source()).train("adam_b2", epochs=2)
    overridden = catdsl.loads(_minibatch_source()).train("adam", epochs=2, batch=2, seed=3)
    assert int(overridden.state["step"]) == int(written.state["step"]) == 10  # 5 batches each
    for name in ("W", "b"):
        assert np.array_equal(overridden.state["params"][name], written.state["params"][name])


def test_train_batch_override_turns_on_minibatches() -> None:
    import catdsl

    whole = catdsl.loads(_minibatch_source()).train("adam_full", steps=1)
    batched = catdsl.loads(_minibatch_source()).train("adam_full", steps=1, batch=5)
    assert (whole.minibatch, int(whole.state["step"])) == (False, 1)
    assert (batched.minibatch, int(batched.state["step"])) == (True, 2)  # 10 examples, by 5


@pytest.mark.parametrize(
    ("name", "options", "code", "says"),
    [
        ("adam", {"batch": 0}, "E0821", "`batch = 0` is not a valid count"),
        ("adam", {"batch": 2.5}, "E0821", "`batch = 2.5` is not a valid count"),
        ("adam", {"bacth": 2}, "E0820", "no hyperparameter `bacth`"),
        ("full", {"batch": 2}, "E0820", "no hyperparameter `batch`"),  # TrainStep counts none
    ],
)
def test_train_batch_override_is_checked(name, options, code, says) -> None:
    import catdsl

    with pytest.raises(catdsl.CatError) as err:
        catdsl.loads(_minibatch_source()).train(name, **options)
    (d,) = err.value.diagnostics
    assert d.code == code and says in d.message


def test_train_batch_override_needs_training_data() -> None:
    import catdsl

    program = catdsl.loads(
        "import std.ml\nparam w : Real[2] = [0.5, 1.0]\ndata x : Real[2] = [1.0, 2.0]\n"
        "let loss : Unit -> Real = x >> dot(w)\nlet step = Adam(loss, lr = 0.1)\n"
    )
    with pytest.raises(catdsl.CatError) as err:
        program.train("step", steps=1, batch=2)
    (d,) = err.value.diagnostics
    assert d.code == "E0821"
    assert d.message == "`batch = 2` needs training data, but `step` trains without any"


def test_a_hole_in_a_loss_is_one_error() -> None:
    from catdsl.loader import check_text

    source = """import std.ml
object X : Real[2]
object Loss : Real
morphism L : X -> Loss = ?
data xs : List[X] = [[1.0, 2.0]]
let step = TrainStep(L, xs, lr = 0.1)
let trained = Init(L) >> step ^ 3
"""
    (d,) = check_text(source, "t.cat").diagnostics
    assert (d.code, d.span.line, d.span.column) == ("E0601", 4, 26)


def test_a_loss_without_params_and_without_a_hole_is_still_e0321() -> None:
    from catdsl.loader import check_text

    source = """import std.ml
object X : Real[2]
morphism L : X -> Real = sum
data xs : List[X] = [[1.0, 2.0]]
let step = TrainStep(L, xs, lr = 0.1)
"""
    (d,) = check_text(source, "t.cat").diagnostics
    assert d.code == "E0321"


def test_closed_data_points_are_values_in_wiring_blocks() -> None:
    import catdsl

    program = catdsl.loads(
        """import std.ml
dim D = 2
object Hidden : Real[D]
data bias : Hidden = [1.0, 2.0]
morphism Residual : Hidden * Hidden -> Hidden = add
let shift(x: Hidden) -> Hidden = { return add(x, bias) }
let named(x: Hidden) -> Hidden = { b = bias; return Residual(x, b) }
"""
    )
    assert program["shift"]([1.0, 1.0]).tolist() == [2.0, 3.0]
    assert program["named"]([1.0, 1.0]).tolist() == [2.0, 3.0]


def test_an_unknown_name_in_a_wiring_block_is_still_an_unknown_wire() -> None:
    from catdsl.loader import check_text

    source = "import std.ml\nlet f(x: Real) -> Real = { return add(x, bais) }\n"
    (d,) = check_text(source, "t.cat").diagnostics
    assert d.code == "E0301" and "unknown wire `bais`" in d.message


PARTS = """import std.ml
object Tick : Nat
object Interval : Tick * Tick
object Pt : Real * Real[2]
data iv : Interval = [3, 5]
let start  = iv >> fst[Interval]
let finish = iv >> snd[Interval]
morphism Norm : Pt -> Real = <fst[Pt], snd[Pt] >> sum> >> add
morphism Scaled : Pt -> Real = <snd[Pt] >> sum, fst[Pt] >> scale(3)> >> mul
"""


def test_fst_and_snd_take_an_object_over_a_product_apart() -> None:
    import catdsl

    program = catdsl.loads(PARTS)
    assert (int(program["start"]()), int(program["finish"]())) == (3, 5)
    assert program["start"].type_text == "Unit -> Tick"
    assert float(program["Norm"]((2.0, [1.0, 3.0]))) == 6.0


def test_the_parts_cotangents_are_packed_again() -> None:
    import catdsl
    from catdsl.semantics.reference import Reference
    from catdsl.std.library import KERNELS

    program = catdsl.loads(PARTS)
    value = (np.array(2.0), np.array([1.0, 3.0]))
    (d_whole,) = program["Scaled"].vjp(value, np.array(1.0))["inputs"]
    d_first, d_second = d_whole
    assert float(d_first) == 3.0 * (1.0 + 3.0)  # d/dx of 3x·(y1 + y2)
    assert d_second.tolist() == [6.0, 6.0]
    morphism = program["Scaled"]
    _, slow = Reference(KERNELS).vjp(
        morphism.diagram, (value,), {}, {}, (np.array(1.0),), {"inputs"}
    )
    (slow_whole,) = slow["inputs"]
    assert float(slow_whole[0]) == float(d_first)
    assert slow_whole[1].tolist() == d_second.tolist()


def test_fst_of_a_plain_object_is_still_the_arity_error() -> None:
    from catdsl.loader import check_text

    (d,) = check_text("import std.ml\nobject X : Real[2]\nlet f = fst[X]\n", "t.cat").diagnostics
    assert d.code == "E0310"


def test_an_unpacked_object_is_drawn(tmp_path) -> None:
    import catdsl
    from catdsl.render.dot import to_dot

    dot = to_dot(catdsl.loads(PARTS)["Norm"].diagram)
    assert "unpack" in dot
