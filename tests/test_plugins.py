"""Primitives registered from Python: `catdsl.PrimitiveSet`, `import plugin.NAME`, the ways a
plugin reaches a program (`plugins=`, `--plugin`, an installed entry point), E0706, the run
errors of a plugin's code (R0801-R0803) and `catdsl.check_primitive`."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import PROGRAMS, REPO

import catdsl
from catdsl import CatError
from catdsl.cli import main

MISH_PY = PROGRAMS / "plugins" / "mish.py"
MISH_CAT = PROGRAMS / "plugins" / "mish.cat"


def load_module(path: Path, name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def mish_plugin():
    return load_module(MISH_PY, "mish_plugin_under_test")


def mish(x: np.ndarray) -> np.ndarray:
    return x * np.tanh(np.log1p(np.exp(x)))


def act_program(prim: str = "mish", imports: str = "import plugin.mish") -> str:
    return f"import std.ml\n{imports}\n\nobject X : Real[3]\nmorphism Act : X -> X = {prim}\n"


# ============================================================== using a plugin from the API
def test_a_registered_primitive_runs_in_a_program(mish_plugin) -> None:
    program = catdsl.loads(act_program(), plugins=[mish_plugin.prims])
    x = np.array([-2.0, 0.3, 4.0])
    assert np.allclose(program["Act"](x), mish(x), rtol=1e-14, atol=0)
    batch = np.array([[-1.0, 0.0, 1.0], [2.0, -3.0, 0.5]])
    assert np.allclose(program["Act"](batch), mish(batch), rtol=1e-14, atol=0)


def test_its_vjp_is_the_derivative(mish_plugin) -> None:
    program = catdsl.loads(act_program(), plugins=[mish_plugin.prims])
    x = np.array([-2.0, 0.3, 4.0])
    dy = np.array([1.0, -0.5, 2.0])
    grads = program["Act"].vjp(x, dy)
    eps = 1e-6
    numeric = (mish(x + eps) - mish(x - eps)) / (2 * eps) * dy
    assert np.allclose(grads["inputs"][0], numeric, rtol=1e-8, atol=1e-10)


def test_the_mish_plugin_agrees_with_pytorch(mish_plugin) -> None:
    torch = pytest.importorskip("torch")
    x = np.linspace(-6.0, 6.0, 25)
    dy = np.cos(x)
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = torch.nn.functional.mish(t)
    y.backward(torch.tensor(dy, dtype=torch.float64))
    program = catdsl.loads(
        "import plugin.mish\nobject X : Real[25]\nmorphism Act : X -> X = mish\n",
        plugins=[mish_plugin.prims],
    )
    assert np.allclose(program["Act"](x), y.detach().numpy(), rtol=1e-12, atol=1e-14)
    grads = program["Act"].vjp(x, dy)["inputs"][0]
    assert np.allclose(grads, t.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_the_example_program_trains_and_gradchecks(mish_plugin) -> None:
    program = catdsl.load(str(MISH_CAT), plugins=[mish_plugin.prims])
    report = program.gradcheck("loss")
    assert report.ok and {r.name for r in report.rows} >= {"W1", "b1", "w2"}
    result = program.train("trained")
    assert result.steps == 50
    assert result.final_loss < result.losses[0] / 5


def test_params_and_static_arguments() -> None:
    prims = catdsl.PrimitiveSet("scaled")

    @prims.primitive("Real[*s, n] -> Real[*s, m]", params={"W": "Real[n, m]"}, static={"c": 1.0})
    def scaled_linear(x, W, c):
        return c * x @ W

    @scaled_linear.vjp
    def _(dy, x, W, c):
        rows, cots = x.reshape(-1, x.shape[-1]), dy.reshape(-1, dy.shape[-1])
        return c * dy @ W.T, c * rows.T @ cots

    program = catdsl.loads(
        "import std.ml\nimport plugin.scaled\ndim N = 3\ndim M = 2\n"
        "object X : Real[N]\nobject Y : Real[M]\n"
        "param W : Real[N, M] = course_init(seed = 1, scale = 0.5)\n"
        "morphism F : X -> Y = scaled_linear(W, c = 3.0)\nlet G = F >> sum\n",
        plugins=[prims],
    )
    x = np.array([1.0, -2.0, 0.5])
    assert np.allclose(program["F"](x), 3.0 * x @ program.params["W"], rtol=1e-14)
    assert program.gradcheck("G").ok
    assert catdsl.check_primitive(scaled_linear, static={"c": 3.0}).ok


def test_the_signature_types_the_primitive() -> None:
    prims = catdsl.PrimitiveSet("picks")

    @prims.primitive("Real[*s, n] * Index[*s, n] -> Real[*s]")
    def pick(x, i):
        return np.take_along_axis(x, i[..., None], axis=-1)[..., 0]

    with pytest.raises(CatError) as caught:
        catdsl.loads(
            "import plugin.picks\nobject X : Real[3]\nobject I : Index[4]\n"
            "morphism P : X * I -> Real = pick\n",
            plugins=[prims],
        )
    assert caught.value.first.code == "E0205"  # 3 and 4 are not the same n
    assert caught.value.first.notes == (
        "the shapes differ: expected `Index[3]`, found `I` = `Index[4]`",
    )
    program = catdsl.loads(
        "import plugin.picks\nobject X : Real[3]\nobject I : Index[3]\n"
        "morphism P : X * I -> Real = pick\n",
        plugins=[prims],
    )
    assert program["P"]((np.array([5.0, 6.0, 7.0]), 2)) == 7.0
    assert str(program["P"].dom) == "X * I"


@pytest.mark.parametrize(
    ("signature", "params", "message"),
    [
        ("Real[*s]", {}, "a signature is `DOMAIN -> CODOMAIN`, with one `->`"),
        ("Real[*s] -> Unit", {}, "the codomain is `Unit`"),
        ("Real[*s] -> Tensor[*s]", {}, "`Tensor` is not an array carrier"),
        ("List[Real] -> Real", {}, "`List` is not an array carrier"),
        ("Real[*s]] -> Real", {}, "`Real[*s]]` is not a carrier such as `Real[*s, n]`"),
        ("Index -> Real", {}, "`Index` needs its bound"),
        ("Real[*s, s] -> Real", {}, "`s` is both a variadic prefix and an axis"),
        ("Real[n-1] -> Real", {}, "`n-1` is not an axis"),
        ("Real[n] -> Real", {"W": "Real[n"}, "param `W`: `Real[n` is not a carrier"),
    ],
)
def test_a_bad_signature_is_refused_when_registered(signature, params, message) -> None:
    prims = catdsl.PrimitiveSet("bad")
    with pytest.raises(ValueError, match="the signature of `f`") as caught:
        prims.primitive(signature, name="f", params=params)(lambda x: x)
    assert message in str(caught.value)


def test_names_are_checked_when_registered() -> None:
    with pytest.raises(ValueError, match="a plugin's name must be a name"):
        catdsl.PrimitiveSet("my-plugin")
    prims = catdsl.PrimitiveSet("p")
    with pytest.raises(ValueError, match="`relu` is a standard-library primitive"):
        prims.primitive("Real[*s] -> Real[*s]", name="relu")(np.abs)
    prims.primitive("Real[*s] -> Real[*s]", name="twice")(lambda x: 2 * x)
    with pytest.raises(ValueError, match="plugin `p` already has a primitive `twice`"):
        prims.primitive("Real[*s] -> Real[*s]", name="twice")(lambda x: 2 * x)
    assert [p.name for p in prims] == ["twice"] and len(prims) == 1
    assert repr(prims) == "<PrimitiveSet plugin.p: twice>"
    assert repr(prims["twice"]) == "<primitive twice : Real[*s] -> Real[*s] (plugin.p)>"


# ============================================================== E0706 and visibility
def test_a_plugin_not_imported_is_not_visible(mish_plugin) -> None:
    with pytest.raises(CatError) as caught:
        catdsl.loads(act_program(imports=""), plugins=[mish_plugin.prims])
    (diag,) = caught.value.diagnostics
    assert diag.code == "E0306"
    assert diag.help == "`mish` is in `plugin.mish`: add `import plugin.mish`"


def test_a_missing_plugin_is_one_error_at_its_import() -> None:
    with pytest.raises(CatError) as caught:
        catdsl.loads(act_program(), file="prog.cat")
    (diag,) = caught.value.diagnostics
    assert diag.code == "E0706"
    assert diag.message == "no plugin `plugin.mish` is given or installed"
    assert (diag.span.line, diag.span.column, diag.span.end_column) == (2, 1, 19)
    assert diag.notes == ("not reported as unknown, since the plugin may define them: `mish`",)


def test_a_misspelt_plugin_gets_a_suggestion(mish_plugin) -> None:
    with pytest.raises(CatError) as caught:
        catdsl.loads(act_program(imports="import plugin.mush"), plugins=[mish_plugin.prims])
    diags = caught.value.diagnostics
    assert diags[0].code == "E0706"
    assert diags[0].message == "no plugin `plugin.mush` is given or installed (given: plugin.mish)"
    assert diags[0].help == "did you mean `plugin.mish`?"


def test_two_plugins_with_one_name_clash(mish_plugin) -> None:
    other = catdsl.PrimitiveSet("other")
    other.primitive("Real[*s] -> Real[*s]", name="mish")(np.tanh)
    with pytest.raises(CatError) as caught:
        catdsl.loads(
            act_program(imports="import plugin.mish\nimport plugin.other"),
            plugins=[mish_plugin.prims, other],
        )
    (diag,) = caught.value.diagnostics
    assert diag.code == "E0706"
    assert (
        diag.message
        == "cannot import `plugin.other`: its primitive `mish` is also in `plugin.mish`"
    )
    assert diag.span.line == 3


def test_a_program_may_not_declare_a_plugins_name(mish_plugin) -> None:
    with pytest.raises(CatError) as caught:
        catdsl.loads(
            "import plugin.mish\nobject X : Real\nmorphism mish : X -> X\n",
            plugins=[mish_plugin.prims],
        )
    assert caught.value.first.code == "E0002"
    assert "(from `plugin.mish`)" in caught.value.first.message


# ============================================================== errors of a plugin's code
def faulty_set() -> catdsl.PrimitiveSet:
    prims = catdsl.PrimitiveSet("faulty")

    @prims.primitive("Real[*s] -> Real[*s]")
    def boom(x):
        raise ZeroDivisionError("no way")

    @prims.primitive("Real[*s] -> Real[*s]")
    def wrong_cot(x):
        return 2 * x

    @wrong_cot.vjp
    def _(dy, x):
        return dy.sum()

    @prims.primitive("Real[*s] -> Real[*s]")
    def no_vjp(x):
        return 2 * x

    @prims.primitive("Real[*s] -> Real[*s] * Real[*s]")
    def one_out(x):
        return x

    return prims


@pytest.mark.parametrize(
    ("prim", "code", "message"),
    [
        (
            "boom",
            "R0801",
            "the forward function of `boom` (plugin.faulty) raised ZeroDivisionError: no way",
        ),
        (
            "one_out",
            "R0802",
            "the forward function of `one_out` returned one ndarray, expected 2 arrays",
        ),
    ],
)
def test_a_failing_forward_is_a_run_error(prim, code, message) -> None:
    cod = "X * X" if prim == "one_out" else "X"
    program = catdsl.loads(
        f"import plugin.faulty\nobject X : Real[3]\nmorphism F : X -> {cod} = {prim}\n",
        plugins=[faulty_set()],
    )
    with pytest.raises(CatError) as caught:
        program["F"](np.ones(3))
    assert caught.value.first.code == code
    assert caught.value.first.message == message


@pytest.mark.parametrize(
    ("prim", "code", "message"),
    [
        (
            "wrong_cot",
            "R0802",
            "the VJP of `wrong_cot` returned a cotangent of shape () for input 1, of shape (3,)",
        ),
        ("no_vjp", "R0803", "`no_vjp` (plugin.faulty) has no VJP, so it cannot be differentiated"),
    ],
)
def test_a_failing_vjp_is_a_run_error(prim, code, message) -> None:
    program = catdsl.loads(
        f"import plugin.faulty\nobject X : Real[3]\nmorphism F : X -> X = {prim}\n",
        plugins=[faulty_set()],
    )
    with pytest.raises(CatError) as caught:
        program["F"].vjp(np.ones(3), np.ones(3))
    assert caught.value.first.code == code
    assert caught.value.first.message == message


# ============================================================== check_primitive
def test_check_primitive_passes_a_right_vjp(mish_plugin) -> None:
    report = catdsl.check_primitive(mish_plugin.mish)
    assert report.ok
    (row,) = report.rows
    assert row.name == "input 1" and row.shape == (2, 3) and row.max_rel_error < 1e-7
    assert str(report).startswith("check_primitive mish: ok\n  ok   input 1")


def test_check_primitive_catches_a_wrong_vjp() -> None:
    prims = catdsl.PrimitiveSet("sloppy")

    @prims.primitive("Real[*s] -> Real[*s]")
    def smooth_relu(x):
        return np.logaddexp(0.0, x)

    @smooth_relu.vjp
    def _(dy, x):  # forgot the chain rule's dy... and used tanh for the sigmoid
        return np.tanh(x)

    report = catdsl.check_primitive(smooth_relu)
    assert not report.ok
    assert report.rows[0].max_abs_error > 0.1
    text = str(report)
    assert text.startswith("check_primitive smooth_relu: FAILED\n  FAIL input 1")


def test_check_primitive_catches_a_transposed_gradient() -> None:
    prims = catdsl.PrimitiveSet("mm")

    @prims.primitive("Real[*s, n] -> Real[*s, m]", params={"W": "Real[n, m]"})
    def lin(x, W):
        return x @ W

    @lin.vjp
    def _(dy, x, W):  # the param's cotangent transposed: only distinct sizes show it
        rows, cots = x.reshape(-1, x.shape[-1]), dy.reshape(-1, dy.shape[-1])
        return dy @ W.T, (cots.T @ rows).reshape(W.shape)

    report = catdsl.check_primitive(lin)
    assert [(r.name, r.ok) for r in report.rows] == [("input 1", True), ("param W", False)]
    assert report.rows[1].shape == (2, 3)


def test_check_primitive_draws_each_input_as_its_kind_is_drawn() -> None:
    """Inputs come from the samplers `laws` and `gradcheck` use: whole numbers for `Int`, a
    mask whose every row allows a key for `AllowMask`, labels for `Symbol`; only reals are
    differentiated."""
    prims = catdsl.PrimitiveSet("kinds")
    seen: dict[str, np.ndarray] = {}

    @prims.primitive("Real[*s, n] * Int[*s] * AllowMask[*s, n] * Symbol[*s] -> Real[*s, n]")
    def shifted(x, k, allow, label):
        seen.update(k=k, allow=allow, label=label)
        return np.where(allow, x + k[..., None], 0.0)

    @shifted.vjp
    def _(dy, x, k, allow, label):
        return np.where(allow, dy, 0.0), None, None, None

    report = catdsl.check_primitive(shifted)
    assert report.ok, str(report)
    assert [(r.name, r.shape) for r in report.rows] == [("input 1", (2, 3, 2))]
    assert seen["k"].dtype == np.int64 and seen["k"].shape == (2, 3)
    assert seen["allow"].dtype == np.bool_ and seen["allow"].shape == (2, 3, 2)
    assert seen["allow"].any(axis=-1).all()
    assert seen["label"].dtype.kind == "U" and seen["label"].shape == (2, 3)


def test_check_primitive_reports_a_shape_against_the_signature() -> None:
    prims = catdsl.PrimitiveSet("shapes")

    @prims.primitive("Real[*s, n] -> Real[*s]")
    def total(x):
        return x.sum()  # sums the batch away too

    report = catdsl.check_primitive(total)
    assert not report.ok
    assert report.problems == ("output 1 has shape (), the signature gives (2, 3)",)


def test_check_primitive_reports_an_exception() -> None:
    report = catdsl.check_primitive(faulty_set()["boom"])
    assert not report.ok
    assert "raised ZeroDivisionError: no way" in report.problems[0]


# ============================================================== the CLI: --plugin
def run_cli(capsys, *argv: object) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_plugin_from_a_file(capsys) -> None:
    code, out, _ = run_cli(
        capsys, "run", MISH_CAT, "predict", "--input", "[1, 2, 3]", "--plugin", MISH_PY, "--json"
    )
    assert code == 0
    program = catdsl.load(str(MISH_CAT), plugins=[load_module(MISH_PY, "again").prims])
    assert json.loads(out)["value"] == float(program["predict"]([1.0, 2.0, 3.0]))
    assert run_cli(capsys, "check", MISH_CAT, "--plugin", MISH_PY)[0] == 0
    code, out, _ = run_cli(capsys, "gradcheck", MISH_CAT, "loss", "--plugin", MISH_PY)
    assert code == 0 and out.count("ok  ") == 5


def test_cli_plugin_from_a_module(capsys, tmp_path, monkeypatch) -> None:
    (tmp_path / "my_mish_module.py").write_text(MISH_PY.read_text())
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, _ = run_cli(capsys, "check", MISH_CAT, "--plugin", "my_mish_module")
    assert code == 0 and out.endswith("ok (6 definitions, 0 laws)\n")


def test_cli_without_the_plugin_is_e0706(capsys) -> None:
    code, _, err = run_cli(capsys, "run", MISH_CAT, "predict", "--input", "[1, 2, 3]")
    assert code == 1
    assert "error[E0706]: no plugin `plugin.mish` is given or installed" in err
    assert err.count("error[") == 1


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            "no_such_module_xyz",
            "catdsl: cannot load plugin `no_such_module_xyz`: ModuleNotFoundError",
        ),
        ("missing/plugin.py", "catdsl: plugin file `missing/plugin.py` not found"),
        ("json", "catdsl: plugin `json` defines no catdsl.PrimitiveSet"),
    ],
)
def test_cli_a_bad_plugin_option_is_a_usage_error(capsys, target, message) -> None:
    code, _, err = run_cli(capsys, "check", MISH_CAT, "--plugin", target)
    assert code == 2 and err.startswith(message)


def test_cli_gradcheck_catches_a_wrong_vjp(capsys, tmp_path) -> None:
    wrong = MISH_PY.read_text().replace("t + x * (1.0 - t * t) * sigmoid", "t + x * sigmoid")
    (tmp_path / "wrong_mish.py").write_text(wrong)
    code, out, _ = run_cli(
        capsys, "gradcheck", MISH_CAT, "loss", "--plugin", tmp_path / "wrong_mish.py"
    )
    assert code == 1 and "FAIL W1" in out


# ============================================================== installed plugins (entry points)
def install_dist(site: Path, package: str, entry_points: str, module_text: str) -> None:
    """A minimal installed distribution in `site`: a package and its dist-info with entry
    points, as pip would leave it."""
    (site / package).mkdir(parents=True)
    (site / package / "__init__.py").write_text(module_text)
    info = site / f"{package}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))


@pytest.fixture
def site(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "site"
    path.mkdir()
    install_dist(
        path,
        "catdsl_mish",
        """
        [catdsl.primitives]
        mish = catdsl_mish:prims
        broken = catdsl_broken_missing:prims
        misnamed = catdsl_mish:prims
        notaset = catdsl_mish:np
        """,
        MISH_PY.read_text(),
    )
    monkeypatch.syspath_prepend(str(path))
    return path


def test_an_installed_plugin_is_found_by_name(site) -> None:
    program = catdsl.loads(act_program())
    x = np.array([-1.0, 0.5, 2.0])
    assert np.allclose(program["Act"](x), mish(x), rtol=1e-14)


def test_an_installed_plugin_loads_only_when_imported(site) -> None:
    sys.modules.pop("catdsl_mish", None)
    catdsl.loads("import std.ml\nobject X : Real\nmorphism A : X -> X = tanh\n")
    assert "catdsl_mish" not in sys.modules
    catdsl.loads(act_program())
    assert "catdsl_mish" in sys.modules


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "broken",
            "cannot use `plugin.broken`: the installed plugin `broken` "
            "(catdsl_broken_missing:prims) failed to load: ModuleNotFoundError",
        ),
        (
            "misnamed",
            "cannot use `plugin.misnamed`: the entry point `misnamed` (catdsl_mish:prims) is the "
            "plugin `mish`; an entry point is named after the plugin it provides",
        ),
        (
            "notaset",
            "cannot use `plugin.notaset`: the entry point `notaset` (catdsl_mish:np) is a module, "
            "not a catdsl.PrimitiveSet",
        ),
    ],
)
def test_a_broken_installed_plugin_is_e0706(site, name, message) -> None:
    with pytest.raises(CatError) as caught:
        catdsl.loads(f"import plugin.{name}\n")
    (diag,) = caught.value.diagnostics
    assert diag.code == "E0706" and diag.message.startswith(message)


def test_a_given_plugin_comes_before_an_installed_one(site) -> None:
    given = catdsl.PrimitiveSet("mish")
    given.primitive("Real[*s] -> Real[*s]", name="mish")(lambda x: 3 * x)
    program = catdsl.loads(act_program(), plugins=[given])
    assert np.array_equal(program["Act"](np.ones(3)), 3 * np.ones(3))


def test_the_cli_finds_an_installed_plugin(site) -> None:
    env = {"PYTHONPATH": f"{site}:{REPO}", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "catdsl", "run", MISH_CAT, "predict", "--input", "[1, 2, 3]"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("predict : Input -> Real\n")


def test_cli_draws_a_plugin_primitive(capsys, tmp_path) -> None:
    target = tmp_path / "layer.dot"
    code, out, _ = run_cli(capsys, "draw", MISH_CAT, "Layer", "-o", target, "--plugin", MISH_PY)
    assert code == 0 and out == f"wrote {target}\n"
    assert 'POINT-SIZE="11">mish</FONT>' in target.read_text()
    assert run_cli(capsys, "draw", MISH_CAT, "Layer", "-o", target)[0] == 1  # E0706
