"""`program.to_torch(name)`: a definition as an `nn.Module` that computes what numpy computes,
trains in a plain PyTorch loop to the params `catdsl train` reaches, and runs under
`torch.compile`."""

from __future__ import annotations

import time

import numpy as np
import pytest
from conftest import PROGRAMS, TINY

import catdsl
from catdsl.errors import CatError

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch


PORTED = """
import std.ml

dim V = 5
dim D = 3
object TokenId : Index[V]
object Vector  : Real[D]
object Logits  : Real[V]
object Loss    : Real where finite and value >= 0

param E : Real[V, D] = normal(0, 1, 4)
param W : Real[D, V] = normal(0, 1, 5)

morphism Score                        : TokenId -> Logits = lookup(E) >> linear(W)
morphism CrossEntropy[target: TokenId] : Logits -> Loss   = cross_entropy

let pipeline = Score >> CrossEntropy                     # TokenId -> Loss, port target
let both     = <Score, Score >> CrossEntropy>            # two outputs
"""


def test_forward_equals_numpy_with_the_params_named_as_in_the_program() -> None:
    program = catdsl.load(TINY)
    module = program.to_torch("predict")
    assert isinstance(module, torch.nn.Module)
    named = dict(module.named_parameters())
    assert set(named) == {"E", "W", "b"}
    for name, value in named.items():
        assert isinstance(value, torch.nn.Parameter) and value.dtype == torch.float64
        np.testing.assert_array_equal(value.detach().numpy(), program.params[name])
    tokens = np.array([0, 1, 2, 3, 4, 2])
    out = module(torch.tensor(tokens))
    assert out.requires_grad  # autograd sees the whole forward pass
    np.testing.assert_allclose(out.detach().numpy(), program["predict"](tokens), rtol=0, atol=1e-12)


def test_ports_by_keyword_and_several_outputs_as_a_tuple() -> None:
    program = catdsl.loads(PORTED)
    tokens, targets = np.array([0, 4, 2]), np.array([1, 1, 3])
    module = program.to_torch("pipeline")
    assert set(dict(module.named_parameters())) == {"E", "W"}
    out = module(torch.tensor(tokens), target=torch.tensor(targets))
    expected = program["pipeline"](tokens, target=targets)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=0, atol=1e-12)
    logits, loss = program.to_torch("both")(torch.tensor(tokens), target=torch.tensor(targets))
    want_logits, want_loss = program["both"](tokens, target=targets)
    np.testing.assert_allclose(logits.detach().numpy(), want_logits, rtol=0, atol=1e-12)
    np.testing.assert_allclose(loss.detach().numpy(), want_loss, rtol=0, atol=1e-12)
    with pytest.raises(TypeError, match="no port `targt`"):
        module(torch.tensor(tokens), targt=torch.tensor(targets))


def test_the_params_are_the_programs_current_ones_and_stay_apart() -> None:
    program = catdsl.load(TINY)
    program.train("trained")
    module = program.to_torch("predict", dtype="float32")
    assert module.W.dtype == torch.float32
    np.testing.assert_allclose(module.W.detach().numpy(), program.params["W"], rtol=1e-6)
    with torch.no_grad():
        module.W.zero_()
    assert np.abs(program.params["W"]).max() > 0  # the program keeps its own values


def test_a_plain_sgd_loop_trains_to_the_params_of_catdsl_train() -> None:
    """`TrainStep(loss, examples, lr = 1.0)` is SGD on the mean loss of the 7 pairs."""
    program = catdsl.load(TINY)
    module = program.to_torch("loss")
    corpus = torch.tensor([1, 2, 3, 4, 1, 2, 3, 4])
    inputs, targets = corpus[:-1], corpus[1:]
    optimizer = torch.optim.SGD(module.parameters(), lr=1.0)
    for _ in range(20):
        optimizer.zero_grad()
        module(inputs, targets).mean().backward()
        optimizer.step()
    program.train("step", steps=20)
    for name, value in module.named_parameters():
        np.testing.assert_allclose(
            value.detach().numpy(), program.params[name], rtol=0, atol=1e-12, err_msg=name
        )


ADAM = """
import "classify.cat"

let full_batch = Adam(loss, train, lr = 0.01)
"""


def test_a_plain_adam_loop_trains_to_the_params_of_catdsl_train() -> None:
    """Full-batch `Adam(loss, train, lr = 0.01)` for 25 steps is `torch.optim.Adam` on the
    mean loss of the 120 flowers."""
    program = catdsl.loads(ADAM, file=str(PROGRAMS / "adam_export.cat"))
    module = program.to_torch("loss")
    measurements, species = (torch.tensor(a) for a in program["train"]())
    optimizer = torch.optim.Adam(module.parameters(), lr=0.01)
    for _ in range(25):
        optimizer.zero_grad()
        module(measurements, species).mean().backward()
        optimizer.step()
    program.train("full_batch", steps=25)
    assert set(dict(module.named_parameters())) == {"W1", "b1", "W2", "b2"}
    for name, value in module.named_parameters():
        np.testing.assert_allclose(
            value.detach().numpy(), program.params[name], rtol=0, atol=1e-12, err_msg=name
        )


def compiled_equals_eager(backend: str) -> float:
    """Compile `loss` of the tiny model with `backend`; its values and gradients are eager's.
    Returns the seconds the first (compiling) call took."""
    program = catdsl.load(TINY)
    eager, compiled = program.to_torch("loss"), program.to_torch("loss")
    fn = torch.compile(compiled, backend=backend)
    inputs, targets = torch.tensor([1, 2, 3, 4, 0]), torch.tensor([2, 3, 4, 1, 1])
    start = time.perf_counter()
    out = fn(inputs, targets)
    seconds = time.perf_counter() - start
    want = eager(inputs, targets)
    torch.testing.assert_close(out, want, rtol=0, atol=1e-12)
    out.sum().backward()
    want.sum().backward()
    for (name, a), (_, b) in zip(
        compiled.named_parameters(), eager.named_parameters(), strict=True
    ):
        torch.testing.assert_close(a.grad, b.grad, rtol=0, atol=1e-12, msg=name)
    return seconds


def test_torch_compile_gives_the_eager_values_and_gradients() -> None:
    """`aot_eager` traces the module as inductor does (dynamo, then AOT autograd) without
    generating C++: inductor's compile can take minutes on a loaded 2-core machine (the slow
    test)."""
    torch._dynamo.reset()
    compiled_equals_eager("aot_eager")


@pytest.mark.slow
def test_torch_compile_with_inductor_gives_the_eager_values_and_gradients() -> None:
    torch._dynamo.reset()
    print(f"inductor's first call: {compiled_equals_eager('inductor'):.0f} s")


def test_a_definition_that_trains_is_refused() -> None:
    program = catdsl.load(TINY)
    with pytest.raises(CatError) as info:
        program.to_torch("step")
    [diagnostic] = info.value.diagnostics
    assert diagnostic.code == "E0840"
    assert "`step` trains (it holds `TrainStep(loss)`)" in diagnostic.message


def test_a_param_named_as_a_module_attribute_is_refused() -> None:
    text = PORTED.replace("param W ", "param eval ").replace("linear(W)", "linear(eval)")
    program = catdsl.loads(text)
    with pytest.raises(CatError) as info:
        program.to_torch("pipeline")
    [diagnostic] = info.value.diagnostics
    assert diagnostic.code == "E0842"
    assert "the param `eval` of `pipeline`" in diagnostic.message


def test_unknown_names_and_primitives_without_a_torch_rule_are_diagnostics() -> None:
    program = catdsl.load(TINY)
    with pytest.raises(CatError) as info:
        program.to_torch("predictt")
    assert [d.code for d in info.value.diagnostics] == ["E0801"]
    prims = catdsl.PrimitiveSet("doubling")

    @prims.primitive("Real[*s, n] -> Real[*s, n]")
    def double(x):
        return 2 * x

    program = catdsl.loads(
        "import plugin.doubling\nobject X : Real[3]\nmorphism F : X -> X = double\n",
        plugins=[prims],
    )
    with pytest.raises(CatError) as info:
        program.to_torch("F")
    [diagnostic] = info.value.diagnostics
    assert diagnostic.code == "R0810"
    assert "`double` has no torch rule" in diagnostic.message
    assert diagnostic.span is not None and (diagnostic.span.line, diagnostic.span.column) == (3, 23)


DROPPED = """
import std.ml
object Hidden : Real[6]
morphism Drop : Hidden -> Hidden = dropout(p = 0.5, seed = 7)
"""


def test_dropout_follows_train_and_eval() -> None:
    """A new module trains (as PyTorch's do): its k-th forward drops what the numpy kernel
    drops in training step k; after `.eval()` dropout is the identity, after `.train()` the
    steps go on counting."""
    from catdsl.semantics.kernel import Mode
    from catdsl.std.library import make_kernel

    module = catdsl.loads(DROPPED).to_torch("Drop")
    kernel = make_kernel("dropout", {"p": 0.5, "seed": 7}, (1,))
    x = np.arange(1.0, 7.0)

    def dropped(step: int) -> np.ndarray:
        (y,), _ = kernel.forward_in(Mode(True, step), x)
        return y

    assert module.training
    first, second = (module(torch.tensor(x)).numpy() for _ in range(2))
    np.testing.assert_array_equal(first, dropped(1))
    np.testing.assert_array_equal(second, dropped(2))
    assert not np.array_equal(first, x) and not np.array_equal(first, second)
    module.eval()
    np.testing.assert_array_equal(module(torch.tensor(x)).numpy(), x)
    module.train()
    np.testing.assert_array_equal(module(torch.tensor(x)).numpy(), dropped(3))
