"""The registries are the single source of each concept: primitives (signature, defaults, doc,
kernel) and training families (hyperparameters, defaults, ranges, state, update rule). These
tests tie each registry to what reads it and to the documentation generated from it."""

from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
import sys

import pytest
from conftest import REPO

import catdsl
from catdsl.std.doc_tables import primitive_table, regenerate
from catdsl.std.library import KERNELS, PRIMITIVES
from catdsl.std.optim import FAMILIES
from catdsl.std.signatures import STD_MODULES
from catdsl.typesys.family_spec import FamilyRole, HyperKind
from catdsl.typesys.messages import family_usage

LANGUAGE = REPO / "docs" / "language.md"


def test_every_primitive_has_its_kernel_and_its_module():
    assert set(KERNELS) == set(PRIMITIVES)
    for name, spec in PRIMITIVES.items():
        assert spec.module in STD_MODULES
        assert KERNELS[name] is spec.kernel and spec.kernel.name == name
        kernel_args = inspect.signature(spec.kernel).parameters
        assert set(spec.static_names) <= set(kernel_args), name
        assert set(spec.defaults) <= set(spec.static_names), name
        assert spec.count is None or spec.count in spec.static_names


def test_the_language_page_shows_the_generated_tables():
    text = LANGUAGE.read_text(encoding="utf-8")
    assert regenerate(text) == text, "run `make docs-tables`"
    for module in ("std.ml", "std.attention"):
        assert f"<!-- primitives: {module} -->\n{primitive_table(module)}" in text
    documented = set(re.findall(r"^\| `(\w+)", text, re.M))
    assert set(PRIMITIVES) <= documented


def test_a_primitive_row_reads_from_its_spec():
    rows = {line.split("|")[1].strip(): line for line in primitive_table("std.ml").splitlines()}
    assert rows["`windows(k)`"] == (
        "| `windows(k)` | static `k` (default 2), sizes the product | `List[a] -> List[a * a]` "
        "| the overlapping windows of k items |"
    )
    assert "`W : Real[n, m]`, `b : Real[m]`" in rows["`affine(W, b)`"]


def test_families_come_from_the_optimizers():
    assert {f.name for f in FAMILIES.values() if f.role is FamilyRole.STEP} == {
        "TrainStep",
        "SGD",
        "Momentum",
        "Adam",
        "AdamW",
        "StateStep",
    }
    assert set(FAMILIES) == {
        "MeanLoss",
        "TrainStep",
        "Init",
        "SGD",
        "SGDInit",
        "SGDParams",
        "Momentum",
        "MomentumInit",
        "MomentumParams",
        "Adam",
        "AdamInit",
        "AdamParams",
        "AdamW",
        "AdamWInit",
        "AdamWParams",
        "StateStep",
        "StateInit",
        "StateParams",
        "StateCount",
    }
    assert FAMILIES.state_types == (
        "Params",
        "SGDState",
        "MomentumState",
        "AdamState",
        "AdamWState",
        "TrainingState",
    )
    for spec in FAMILIES.optimizers.values():
        update = inspect.signature(spec.update).parameters
        assert list(update)[2:] == [h.name for h in spec.hyper], spec.name
        assert spec.fields == () or spec.fields[0][0] == "params"


@pytest.mark.parametrize(
    ("family", "usage"),
    [
        ("TrainStep", "`TrainStep(loss, data, lr = 0.1) : Params(loss) -> Params(loss)`"),
        ("Momentum", "`Momentum(loss, data, lr = 0.1, beta = 0.9)` on `MomentumState(loss)`"),
        (
            "Adam",
            "`Adam(loss, data, lr = 0.1, beta1 = 0.9, beta2 = 0.999, eps = 1e-8)` on "
            "`AdamState(loss)`",
        ),
        ("AdamInit", "`AdamInit(loss) : Unit -> AdamState(loss)`"),
        ("MomentumParams", "`MomentumParams(loss) : MomentumState(loss) -> Params(loss)`"),
        ("MeanLoss", "`MeanLoss(loss, data) : Params(loss) -> Loss`"),
    ],
)
def test_usage_lines_are_generated_from_the_specs(family, usage):
    assert family_usage(FAMILIES[family]) == usage


def test_hyperparameter_ranges_are_one_rule_for_checker_and_run():
    assert HyperKind.RATE.admits(0.1) and not HyperKind.RATE.admits(float("inf"))
    assert HyperKind.DECAY.admits(0.0) and not HyperKind.DECAY.admits(1.0)
    assert not HyperKind.EPSILON.admits(0.0) and not HyperKind.EPSILON.admits(float("nan"))


TINY_TRAINING = """
import std.ml
dim V = 3
object Token : Index[V]
object Logits : Real[V]
object Loss : Real
param W : Real[V, V] = zeros
morphism Embed : Token -> Logits = lookup(W)
morphism Xent : Logits * Token -> Loss = cross_entropy
let loss = Embed * Token >> Xent
data pairs : List[Token * Token] = [[0, 1], [1, 2]]
let step = {step}
"""


@pytest.mark.parametrize(
    ("step", "words"),
    [
        ("Momentum(loss, pairs, lr = 0.1, beta = 1.0)", "invalid momentum decay rate `beta`"),
        ("Adam(loss, pairs, lr = 0.1, beta2 = 1.5)", "invalid Adam decay rate `beta2` = 1.5"),
        ("Adam(loss, pairs, lr = 0.1, eps = 0)", "invalid epsilon 0.0: it must be finite"),
        ("TrainStep(loss, pairs, lr = 0)", "invalid learning rate 0.0"),
    ],
)
def test_the_checker_refuses_hyperparameters_out_of_their_kinds_range(step, words):
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(TINY_TRAINING.format(step=step))
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == "E0320" and words in diagnostic.message


CUBE = '''"""`cube`, x³: a primitive added as one file (a test's copy of the package)."""

from catdsl.semantics.kernel import Kernel
from catdsl.std.signatures import elementwise
from catdsl.typesys.primitives import PrimSpec


class Cube(Kernel):
    name = "cube"

    def forward(self, x):
        return (x * x * x,), x

    def vjp(self, x, dy):
        return (3 * x * x * dy,)


SPEC = PrimSpec("cube", "std.ml", (), (), elementwise, "`x³`", kernel=Cube)
'''

USES_CUBE = """
import sys
import numpy as np
import catdsl
from catdsl.std.doc_tables import primitive_table
from catdsl.std.library import KERNELS, PRIMITIVES
program = catdsl.loads(
    "import std.ml\\nobject X : Real[2]\\nmorphism Cube : X -> X = cube\\n"
    "let twice = Cube >> scale(2.0)"
)
print(program["twice"](np.array([2.0, -1.0])).tolist())
print(program["twice"].vjp(np.array([2.0, -1.0]), np.ones(2))["inputs"][0].tolist())
print("cube" in KERNELS and PRIMITIVES["cube"].module == "std.ml")
print([row for row in primitive_table("std.ml").splitlines() if "`cube`" in row][0])
"""


def test_a_new_primitive_is_one_file_and_nothing_else(tmp_path):
    """A module dropped into `catdsl/std/prims` is typed, run, differentiated and documented:
    no list names it (here in a copy of the package, so the real one is left alone)."""
    shutil.copytree(
        REPO / "catdsl", tmp_path / "catdsl", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(REPO / "grammars", tmp_path / "grammars")
    (tmp_path / "catdsl" / "std" / "prims" / "cube.py").write_text(CUBE, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", USES_CUBE], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "[16.0, -2.0]",
        "[24.0, 6.0]",
        "True",
        "| `cube` |  | `Real[*s] -> Real[*s]` | `x³` |",
    ]
