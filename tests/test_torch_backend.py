"""The torch backend gives the numpy backend's values and error codes (float64, forward runs)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO, TINY

import catdsl
from catdsl.cli import main
from catdsl.diagram.schedule import Invoke, schedule
from catdsl.frontend.sampling import Sampler

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

PROGRAMS = ["tiny_ml", "card", "composition", "chain_rule"]
DEVICES = [
    "cpu",
    pytest.param(
        "cuda",
        marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here"),
    ),
]


def pair(name: str, device: str = "cpu") -> tuple[catdsl.Program, catdsl.Program]:
    path = str(REPO / "programs" / f"{name}.cat")
    return catdsl.load(path), catdsl.load(path, backend="torch", device=device)


def definitions(name: str) -> list[str]:
    return catdsl.load(str(REPO / "programs" / f"{name}.cat")).names


def assert_same(ours: object, theirs: object) -> None:
    """Equal structure, shapes and dtypes, and values to 1e-12."""
    if isinstance(ours, dict):
        assert isinstance(theirs, dict) and ours.keys() == theirs.keys()
        for key in ours:
            assert_same(ours[key], theirs[key])
        return
    if isinstance(ours, tuple):
        assert isinstance(theirs, tuple) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            assert_same(a, b)
        return
    a, b = np.asarray(ours), np.asarray(theirs)
    assert a.shape == b.shape and a.dtype == b.dtype
    if a.dtype.kind == "f":
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_array_equal(b, a)


def sample(program: catdsl.Program, definition: str, seed: int, lead: tuple[int, ...]):
    """Random inputs (with `lead` batch axes) and ports of a definition, valid for its objects."""
    morphism = program[definition]
    sampler = Sampler(np.random.default_rng(seed), program.params)
    inputs = tuple(sampler.atom(a, lead) for a in morphism.diagram.dom.atoms)
    sources = schedule(morphism.diagram).sources
    ports = {s.name: sampler.atom(s.atom, lead) for s in sources if s.kind == "port"}
    return inputs, ports


@pytest.mark.parametrize(
    ("program", "definition"),
    [(p, d) for p in PROGRAMS for d in definitions(p)],
)
@pytest.mark.parametrize("lead", [(), (4,)])
@pytest.mark.parametrize("device", DEVICES)
def test_every_definition_agrees(program: str, definition: str, lead: tuple, device: str) -> None:
    numpy_program, torch_program = pair(program, device)
    for name in numpy_program.params:
        np.testing.assert_array_equal(torch_program.params[name], numpy_program.params[name])
    for seed in range(3):
        inputs, ports = sample(numpy_program, definition, seed, lead)
        if not inputs and lead:
            continue  # a point has no batch
        expected = numpy_program[definition](*inputs, **ports)
        got = torch_program[definition](*inputs, **ports)
        assert_same(expected, got)


def test_the_rules_run_float32_in_float32() -> None:
    numpy_program, torch_program = (
        catdsl.load(TINY, dtype="float32", backend=b) for b in ("numpy", "torch")
    )
    tokens = np.array([0, 3, 4])
    expected, got = numpy_program["predict"](tokens), torch_program["predict"](tokens)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


def codes(call) -> str:
    with pytest.raises(catdsl.CatError) as info:
        call()
    return info.value.first.code


def test_invariant_errors_have_the_numpy_codes() -> None:
    """Values entering objects are checked in numpy at the boundary, on both backends."""
    numpy_program, torch_program = pair("tiny_ml")
    for program in (numpy_program, torch_program):
        # a token outside Index[V] (V = 5), and a float where a token is expected
        assert codes(lambda p=program: p["predict"](np.array([0, 7]))) == "R0412"
        assert codes(lambda p=program: p["predict"](np.array([0.0, 1.0]))) == "R0416"
    numpy_card, torch_card = pair("card")
    (probs,), ports = sample(numpy_card, "CrossEntropy", 0, ())
    too_much = np.zeros_like(probs)
    too_much[:2] = [0.5, 0.6]
    for program in (numpy_card, torch_card):
        assert codes(lambda p=program: p["CrossEntropy"](too_much, **ports)) == "R0411"


def test_kernel_errors_have_the_numpy_codes() -> None:
    """Operands the rules refuse (checked unvalidated, as a kernel sees them)."""
    for backend in ("numpy", "torch"):
        program = catdsl.loads(
            "import std.ml\n"
            "object Logits : Real[3]\n"
            "object Probs : Simplex[3]\n"
            "morphism S : Logits -> Probs = softmax\n",
            backend=backend,
        )
        morphism = program["S"]
        infinite = (np.array([np.inf, 0.0, 1.0]),)
        with pytest.raises(catdsl.CatRuntimeError) as info:
            program.backend.run(morphism.plan, infinite, {}, {}, check=False)
        assert info.value.diagnostic.code == "R0402"


def test_an_output_outside_its_object_is_refused_at_the_declaration_on_both() -> None:
    text = (
        "import std.ml\n"
        "object Scalar : Real\n"
        "object Loss : Real where value >= 0\n"
        "morphism Negate : Scalar -> Loss = scale(-1)\n"
    )
    for backend in ("numpy", "torch"):
        program = catdsl.loads(text, backend=backend)
        with pytest.raises(catdsl.CatError) as info:
            program["Negate"](np.array(2.0))
        diagnostic = info.value.first
        assert diagnostic.code == "R0414" and "`Negate`" in diagnostic.message
        assert diagnostic.span is not None and diagnostic.span.line == 4


def test_a_nan_is_traced_to_its_first_box_on_both() -> None:
    text = "import std.ml\nobject X : Real[2]\nmorphism M : X * X -> X = mul >> scale(2)\n"
    for backend in ("numpy", "torch"):
        program = catdsl.loads(text, backend=backend)
        with pytest.raises(catdsl.CatError) as info:
            program["M"](np.array([np.inf, 1.0]), np.array([0.0, 1.0]))
        assert info.value.first.code == "R0413"  # an infinite input, refused where it enters
        morphism = program["M"]
        with pytest.raises(catdsl.CatRuntimeError) as raised:
            program.backend.run(morphism.plan, (np.array([1e200, 1.0]),) * 2, {}, {})
        assert raised.value.diagnostic.code == "R0415"
        assert "`mul` produced an infinite value" in raised.value.diagnostic.message


def test_a_plugin_primitive_without_a_torch_rule_is_R0810_with_its_place() -> None:
    prims = catdsl.PrimitiveSet("cube")

    @prims.primitive("Real[*s] -> Real[*s]")
    def cube(x):
        return x**3

    text = "import plugin.cube\nobject X : Real[3]\nmorphism G : X -> X = cube\n"
    assert np.array_equal(catdsl.loads(text, plugins=[prims])["G"](np.full(3, 2.0)), [8.0] * 3)
    program = catdsl.loads(text, backend="torch", plugins=[prims])
    with pytest.raises(catdsl.CatError) as info:
        program["G"](np.zeros(3))
    diagnostic = info.value.first
    assert diagnostic.code == "R0810" and "`cube`" in diagnostic.message
    assert diagnostic.span is not None and diagnostic.span.line == 3


def test_the_vjp_is_numpys_through_autograd() -> None:
    """Cotangents of the inputs and params by autograd equal the numpy VJPs (1e-12); an integer
    input gets None, a None cotangent counts as zeros, and an unknown name is a KeyError."""
    numpy_program, torch_program = pair("tiny_ml")
    tokens = np.array([0, 3, 4])
    cotangent = np.random.default_rng(0).normal(size=(3, 5))
    expected = numpy_program["predict"].vjp(tokens, cotangent)
    got = torch_program["predict"].vjp(tokens, cotangent)
    assert sorted(got) == ["E", "W", "b", "inputs"] and got["inputs"] == (None,)
    for name in ("E", "W", "b"):
        assert_same(expected[name], got[name])
    text = (
        "import std.ml\nobject X : Real[2]\nobject S : Real\nparam w : Real[2] = [1.0, 2.0]\n"
        "param unused : Real[3] = [0.0, 0.0, 0.0]\n"
        "morphism F : X -> S * X = <dot(w), tanh>\n"
    )
    results = []
    for backend in ("numpy", "torch"):
        program = catdsl.loads(text, backend=backend)
        morphism = program["F"]
        x = np.array([0.5, -1.0])
        results.append(
            program.backend.vjp(
                morphism.plan, (x,), {}, program.params, (None, np.ones(2)), {"inputs", "w"}
            )
        )
        with pytest.raises(KeyError, match="nothing named \\['unused'\\] feeds `F`"):
            program.backend.vjp(morphism.plan, (x,), {}, program.params, (None, None), {"unused"})
    (outputs_np, grads_np), (outputs_torch, grads_torch) = results
    assert_same(outputs_np, outputs_torch)
    assert_same(grads_np["inputs"], grads_torch["inputs"])
    assert_same(grads_np["w"], grads_torch["w"])
    np.testing.assert_array_equal(grads_torch["w"], np.zeros(2))  # only the tanh wire is seeded


def test_importing_catdsl_imports_no_torch() -> None:
    code = (
        "import catdsl, sys; catdsl.load('programs/composition.cat'); print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_an_unknown_backend_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown backend 'jax'"):
        catdsl.load(str(REPO / "programs/composition.cat"), backend="jax")


@pytest.mark.parametrize(
    ("definition", "options"),
    [("z", []), ("examples", ["--json"]), ("predict", ["--input", "[0, 1, 2]"])],
)
def test_the_cli_prints_the_same_on_both(
    definition: str, options: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    program = str(
        REPO / ("programs/chain_rule.cat" if definition == "z" else "programs/tiny_ml.cat")
    )
    printed = []
    for extra in ([], ["--backend", "torch", "--device", "cpu"]):
        assert main(["run", program, definition, *options, *extra]) == 0
        printed.append(capsys.readouterr().out)
    assert printed[0] and printed[1] == printed[0]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", str(REPO / "programs/chain_rule.cat"), "z", "--backend", "torch"]
    assert main([*argv, "--device", "cuda"]) == 2
    assert "needs a CUDA build of torch" in capsys.readouterr().err


def _cases() -> list[tuple[str, dict, tuple[int, ...], tuple[np.ndarray, ...]]]:
    """(primitive, static, in_ranks, inputs) with a batch of 2: one case per rule at least."""
    rng = np.random.default_rng(7)
    x, w, b = rng.normal(size=(2, 4)), rng.normal(size=(4, 3)), rng.normal(size=3)
    probs = np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)
    target = np.array([1, 3])
    return [
        ("lookup", {}, (0, 2), (target, w)),
        ("affine", {}, (1, 2, 1), (x, w, b)),
        ("linear", {}, (1, 2), (x, w)),
        ("dot", {}, (1, 1), (x, rng.normal(size=4))),
        ("scale", {"c": -1.5}, (1,), (x,)),
        ("add", {}, (1, 1), (x, rng.normal(size=(2, 4)))),
        ("add", {}, (1, 0), (x, rng.normal(size=2))),
        ("mul", {}, (1, 1), (x, rng.normal(size=(2, 4)))),
        ("mul", {}, (0, 1), (rng.normal(size=2), x)),
        ("sum", {}, (1,), (x,)),
        ("mean", {}, (1,), (x,)),
        ("relu", {}, (1,), (x,)),
        ("tanh", {}, (1,), (x,)),
        ("sigmoid", {}, (1,), (40 * x,)),
        ("softmax", {}, (1,), (30 * x,)),
        ("log_softmax", {}, (1,), (30 * x,)),
        ("nll", {}, (1, 0), (probs, target)),
        ("nll", {}, (1, 0), (np.array([[0.0, 1.0], [1e-12, 1.0]]), np.array([0, 0]))),  # floor
        ("cross_entropy", {}, (1, 0), (30 * x, target)),
        ("mse", {}, (1, 1), (x, rng.normal(size=(2, 4)))),
        ("windows", {"k": 3}, (1,), (np.arange(6),)),
        ("windows", {"k": 2}, (2,), (x,)),
    ]


def test_every_rule_agrees_with_its_kernel() -> None:
    """Each torch rule, alone, gives its numpy kernel's outputs to 1e-12 (float64)."""
    from catdsl.std.library import make_kernel
    from catdsl.std.torch_library import TORCH_RULES

    cases = _cases()
    assert {c[0] for c in cases} <= set(TORCH_RULES)  # every rule: tests/test_torch_rules.py
    for name, static, ranks, inputs in cases:
        expected = make_kernel(name, static, ranks)(*inputs)
        got = TORCH_RULES[name](ranks, **static)(*(torch.tensor(a) for a in inputs))
        assert_same(tuple(expected), tuple(y.numpy() for y in got))


@pytest.mark.parametrize(
    ("name", "ranks", "inputs", "code"),
    [
        ("lookup", (0, 2), (np.array([5]), np.zeros((5, 2))), "R0201"),
        ("lookup", (0, 2), (np.array([0.0]), np.zeros((5, 2))), "R0203"),
        ("nll", (1, 0), (np.full((1, 3), 1 / 3), np.array([-1])), "R0202"),
        ("cross_entropy", (1, 0), (np.zeros((1, 0)), np.array([0])), "R0401"),
        ("affine", (1, 2, 1), (np.zeros(3), np.zeros((4, 2)), np.zeros(2)), "R0301"),
        ("add", (1, 1), (np.zeros(3), np.zeros(4)), "R0302"),
        ("windows", (1,), (np.arange(2),), "R0401"),
    ],
)
def test_every_refusal_has_the_kernel_code(name, ranks, inputs, code) -> None:
    from catdsl.errors import CatRuntimeError
    from catdsl.std.library import make_kernel
    from catdsl.std.torch_library import TORCH_RULES

    static = {"k": 3} if name == "windows" else {}
    messages = []
    for call in (
        lambda: make_kernel(name, static, ranks)(*inputs),
        lambda: TORCH_RULES[name](ranks, **static)(*(torch.tensor(a) for a in inputs)),
    ):
        with pytest.raises(CatRuntimeError) as info:
            call()
        assert info.value.diagnostic.code == code
        messages.append(info.value.diagnostic.message)
    assert messages[1] == messages[0]


def test_without_torch_the_cli_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails
    argv = ["run", str(REPO / "programs/chain_rule.cat"), "z", "--backend", "torch"]
    assert main(argv) == 2
    assert "pip install torch" in capsys.readouterr().err
    with pytest.raises(ImportError, match="the torch backend needs PyTorch"):
        catdsl.load(str(REPO / "programs/chain_rule.cat"), backend="torch")


@pytest.mark.parametrize("inline_limit", [512, 0])
def test_powers_functors_and_shared_definitions_agree(
    inline_limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`f ^ n`, `List(f)` and a definition used twice run as on numpy (to 1e-12); with no
    inlining, the shared definition is an invoked sub-plan on both backends."""
    monkeypatch.setattr("catdsl.diagram.schedule.INLINE_LIMIT", inline_limit)
    text = (
        "import std.ml\n"
        "object X : Real[3]\n"
        "object Xs : List[X]\n"
        "morphism Step : X -> X = tanh >> scale(1.5)\n"
        "let Iterated = Step ^ 4\n"
        "let Each = List(Iterated)\n"
        "morphism Total : X -> Real = sum\n"
        "let Totals = List(Step >> Total)\n"
        "morphism Squash : X -> X = sigmoid\n"
        "let Twice = Iterated >> Squash >> Iterated\n"
    )
    numpy_program, torch_program = (catdsl.loads(text, backend=b) for b in ("numpy", "torch"))
    invoked = any(isinstance(s, Invoke) for s in schedule(torch_program["Twice"].diagram).steps)
    assert invoked == (inline_limit == 0)
    xs = np.random.default_rng(0).normal(size=(4, 3))
    for name, value in [("Iterated", xs[0]), ("Each", xs), ("Totals", xs), ("Twice", xs[1])]:
        assert_same(numpy_program[name](value), torch_program[name](value))
