"""`dropout(p, seed)` (catdsl/std/prims/dropout.py): the identity outside training steps, a
seeded mask inside them (reproducible from the seed and the step, also across a resumed loop,
and the same on the fast plans and the reference interpreter), static checks, VJP, dtype,
PyTorch's inverted-dropout scaling."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from gradkit import check_vjp
from primkit import kernel

import catdsl
from catdsl.frontend.backends import kernel_table
from catdsl.semantics.kernel import Forward, Kernel, Mode
from catdsl.semantics.loop import LoopHooks
from catdsl.semantics.reference import Reference
from catdsl.std.library import PRIMITIVES

PROGRAM = """
import std.ml

dim F = 4
dim H = 8
dim C = 3
object Features : Real[F]
object Hidden   : Real[H]
object Logits   : Real[C]
object Label    : Index[C]
object Loss     : Real
param W1 : Real[F, H] = normal(0, 0.5, 1)
param b1 : Real[H]    = zeros
param W2 : Real[H, C] = normal(0, 0.5, 2)
param b2 : Real[C]    = zeros
morphism Layer1  : Features -> Hidden = affine(W1, b1) >> relu
morphism Drop    : Hidden -> Hidden   = dropout(p = 0.25, seed = 11)
morphism Readout : Hidden -> Logits   = affine(W2, b2)
morphism Xent    : Logits * Label -> Loss = cross_entropy
let classify = Layer1 >> Drop >> Readout
let plain    = Layer1 >> Readout
let loss     = classify * Label >> Xent

data train : List[Features * Label] =
    [[[1, 0, 0, 1], 0], [[0, 1, 1, 0], 1], [[1, 1, 0, 0], 2], [[0, 0, 1, 1], 1]]
let step   = Adam(loss, train, lr = 0.05)
let before = Init(loss) >> MeanLoss(loss, train)
let after  = AdamInit(loss) >> step ^ 6 >> AdamParams(loss) >> MeanLoss(loss, train)
law evaluation_is_identity : classify == plain
"""

TRAINING = Mode(training=True, step=3)


class InMode(Kernel):
    """A kernel run in a fixed mode, so `check_vjp` sees the training pass."""

    def __init__(self, inner: Kernel, mode: Mode):
        super().__init__(inner.in_ranks)
        self.inner, self.mode = inner, mode

    def forward(self, *xs: Any) -> Forward:
        return self.inner.forward_in(self.mode, *xs)

    def vjp(self, residual: Any, *dys: Any) -> Any:
        return self.inner.vjp(residual, *dys)


def test_dropout_is_elementwise_with_a_probability_and_a_required_seed():
    spec = PRIMITIVES["dropout"]
    assert spec.static_names == ("p", "seed") and dict(spec.defaults) == {"p": 0.5}
    sig = spec.build(spec.defaults)
    assert (str(sig.dom), str(sig.cod)) == ("Real[*s]", "Real[*s]")
    assert kernel("dropout", seed=1).uses_mode


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("dropout(p = 0.1)", "`dropout`'s `seed` needs a value, e.g. `dropout(p = 0.1, seed = 7)`"),
        ("dropout(p = 1, seed = 3)", "`dropout`'s `p` must lie in [0, 1), not 1"),
        ("dropout(p = -0.1, seed = 3)", "`dropout`'s `p` must lie in [0, 1), not -0.1"),
        ("dropout(0.1, 4294967296)", "`seed` must be a whole number from 0 to 4294967295"),
    ],
)
def test_p_and_seed_are_checked_before_running(call, message):
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(PROGRAM.replace("dropout(p = 0.25, seed = 11)", call))
    (d,) = info.value.diagnostics
    assert d.code == "E0360" and message in d.message


def test_outside_training_dropout_is_the_identity():
    program = catdsl.loads(PROGRAM)
    x = np.random.default_rng(50).normal(size=(5, 4))
    np.testing.assert_array_equal(program["classify"](x), program["plain"](x))
    assert all(law.holds and law.max_error == 0 for law in program.check_laws())
    report = program.gradcheck("classify")
    assert report.ok


def test_in_a_training_step_the_mask_comes_from_the_seed_and_the_step():
    k = kernel("dropout", p=0.25, seed=11)
    x = np.ones((400, 50))
    (y,), _ = k.forward_in(TRAINING, x)
    assert set(np.unique(y)) == {0.0, 1 / 0.75}
    assert abs(np.mean(y == 0) - 0.25) < 0.01  # 20,000 draws
    (again,), _ = k.forward_in(TRAINING, x)
    np.testing.assert_array_equal(again, y)
    (other_step,), _ = k.forward_in(Mode(training=True, step=4), x)
    (other_seed,), _ = kernel("dropout", p=0.25, seed=12).forward_in(TRAINING, x)
    assert not np.array_equal(other_step, y) and not np.array_equal(other_seed, y)
    (none,), _ = kernel("dropout", p=0.0, seed=11).forward_in(TRAINING, x)
    assert none is x


def test_training_uses_the_mask_and_is_reproducible():
    program = catdsl.loads(PROGRAM)
    first = program.train("step", steps=3)  # training makes the trained params the program's
    second = catdsl.loads(PROGRAM).train("step", steps=3)
    assert first.losses == second.losses
    for name, value in first.params.items():
        assert value.tobytes() == second.params[name].tobytes()
    # the loss of step 1 is at the initial params, but with units dropped: not MeanLoss's
    assert first.losses[0] != pytest.approx(float(program["before"]()), rel=1e-9)


def test_a_resumed_run_draws_the_masks_of_the_uninterrupted_one(tmp_path):
    straight = catdsl.loads(PROGRAM).train("step", steps=8)
    program = catdsl.loads(PROGRAM)
    path = str(tmp_path / "ckpt.npz")
    program.train("step", steps=4, checkpoint=path)
    resumed = program.train("step", steps=8, checkpoint=path)
    assert resumed.resumed_from == 4 and resumed.losses == straight.losses
    for name, value in straight.params.items():
        assert resumed.params[name].tobytes() == value.tobytes()


def test_the_plan_and_the_reference_interpreter_agree_bit_for_bit():
    program = catdsl.loads(PROGRAM)
    morphism = program["after"]
    fast = program.backend.run(morphism.plan, (), {}, program.params)
    slow = Reference(kernel_table()).run(morphism.diagram, (), {}, program.params)
    assert np.asarray(fast[0]).tobytes() == np.asarray(slow[0]).tobytes()
    assert float(fast[0]) < float(program["before"]())


@pytest.mark.parametrize("shape", [(), (6,), (3, 4)])
def test_the_training_vjp_matches_central_differences(shape):
    x = np.random.default_rng(51).normal(size=shape)
    check_vjp(InMode(kernel("dropout", p=0.4, seed=5), TRAINING), [x])
    check_vjp(kernel("dropout", p=0.4, seed=5), [x])  # evaluation: the identity


def test_dropout_keeps_float32():
    k = kernel("dropout", p=0.5, seed=1)
    (y,), mask = k.forward_in(TRAINING, np.ones(8, np.float32))
    assert y.dtype == mask.dtype == np.float32


@pytest.mark.torch
def test_dropout_scales_as_pytorch_does():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(52).normal(size=(30, 40))
    k = kernel("dropout", p=0.3, seed=9)
    (ours,), mask = k.forward_in(TRAINING, x)
    (evaluated,), _ = k.forward(x)
    t = torch.tensor(x, requires_grad=True)
    torch.manual_seed(0)
    theirs = torch.nn.functional.dropout(t, p=0.3, training=True)
    kept_theirs, kept_ours = theirs.detach().numpy() != 0, ours != 0
    np.testing.assert_allclose(theirs.detach().numpy()[kept_theirs], x[kept_theirs] / 0.7, 1e-15)
    np.testing.assert_allclose(ours[kept_ours], x[kept_ours] / 0.7, rtol=1e-15)
    theirs.backward(torch.ones_like(theirs))
    np.testing.assert_allclose(t.grad.numpy()[kept_theirs], 1 / 0.7, rtol=1e-15)
    np.testing.assert_allclose(k.vjp(mask, np.ones_like(x))[0][kept_ours], 1 / 0.7, rtol=1e-15)
    off = torch.nn.functional.dropout(torch.tensor(x), p=0.3, training=False).numpy()
    np.testing.assert_array_equal(evaluated, off)


def test_a_hooked_loop_after_another_step_numbers_its_steps_as_an_unhooked_run():
    program = catdsl.loads(
        PROGRAM + "let later = AdamInit(loss) >> step >> step ^ 3 >> AdamParams(loss)\n"
    )
    plain = program["later"]()
    hooked = program.backend.run(
        program["later"].plan, (), {}, program.params, hooks=LoopHooks(progress=False)
    )
    for name, value in plain.items():
        assert hooked[0][name].tobytes() == value.tobytes()
