"""Every program in programs/ runs on the torch backend to the numpy backend's values: each
definition that runs on numpy, with sampled inputs (alone and in a batch) or none, gives the
same outputs on torch (float64, to 1e-12), and what numpy refuses torch refuses with the same
code. No primitive is without a torch rule (R0810) — except a plugin's that brings none.
Definitions that train are left to the training tests (reverse mode on torch)."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from conftest import PROGRAMS
from torch_rule_kit import assert_same

import catdsl
from catdsl.diagram.schedule import Invoke, Loop, Map, Schedule, Train, schedule
from catdsl.frontend.sampling import Sampler

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

MODULES = {"transformer/block.cat"}
"""Programs that are imported by others (they use dims their importer declares), so they
check, and run, through their importers."""

FILES = sorted(
    str(p.relative_to(PROGRAMS))
    for p in PROGRAMS.rglob("*.cat")
    if p.relative_to(PROGRAMS).parts[0] != "errors"
)


@cache
def mish_plugin() -> catdsl.PrimitiveSet:
    """The plugin programs/plugins/mish.cat imports."""
    spec = importlib.util.spec_from_file_location("mish_for_torch", PROGRAMS / "plugins/mish.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.prims


@cache
def pair(file: str) -> tuple[catdsl.Program, catdsl.Program]:
    """The program on numpy and on torch."""
    path = str(PROGRAMS / file)
    plugins = [mish_plugin()] if file.startswith("plugins/") else []
    return tuple(catdsl.load(path, plugins=plugins, backend=b) for b in ("numpy", "torch"))  # type: ignore[return-value]


def trains(sched: Schedule) -> bool:
    """Whether a schedule (or one nested in it) holds a training box."""
    for step in sched.steps:
        if isinstance(step, Train):
            return True
        if isinstance(step, Loop | Map | Invoke) and trains(step.body):
            return True
    return False


def cases() -> list[tuple[str, str]]:
    found = []
    for file in FILES:
        if file in MODULES:
            continue
        numpy_program, _ = pair(file)
        found += [(file, name) for name in numpy_program.names]
    return found


def test_the_modules_are_imported_by_a_program() -> None:
    for module in MODULES:
        name = Path(module).stem
        importers = [
            f
            for f in FILES
            if f not in MODULES and f'import "{name}.cat"' in (PROGRAMS / f).read_text()
        ]
        assert importers, f"{module} is imported by no program"


class Refused(str):
    """The code of the error a run raised (apart from values, which may be strings too)."""


def outcome(program: catdsl.Program, name: str, inputs: tuple, ports: dict) -> object:
    """The outputs, or the code of the error raised."""
    try:
        return program[name](*inputs, **ports)
    except catdsl.CatError as exc:
        return Refused(exc.first.code)


@pytest.mark.parametrize(("file", "name"), cases())
def test_every_definition_gives_the_numpy_values_on_torch(file: str, name: str) -> None:
    numpy_program, torch_program = pair(file)
    morphism = numpy_program[name]
    sched = schedule(morphism.diagram)
    if trains(sched):
        pytest.skip("a training definition: reverse mode on torch is tested with training")
    atoms = morphism.diagram.dom.atoms
    for lead in [(), (3,)] if atoms else [()]:
        for seed in range(2):
            sampler = Sampler(np.random.default_rng(seed), numpy_program.params)
            try:
                inputs = tuple(sampler.atom(a, lead) for a in atoms)
                ports = {
                    s.name: sampler.atom(s.atom, lead) for s in sched.sources if s.kind == "port"
                }
            except catdsl.CatError:
                continue  # no value of these objects can be sampled in a batch
            expected = outcome(numpy_program, name, inputs, ports)
            got = outcome(torch_program, name, inputs, ports)
            if file.startswith("plugins/") and isinstance(got, Refused) and got == "R0810":
                continue  # the plugin's primitive has no torch rule: see the test below
            assert not isinstance(got, Refused) or got != "R0810", (
                f"`{name}` uses a primitive without a torch rule"
            )
            if isinstance(expected, Refused):
                assert isinstance(got, Refused) and got == expected
            else:
                assert_same(expected, got)


def test_a_plugin_primitive_without_a_torch_rule_is_R0810_naming_it() -> None:
    _, torch_program = pair("plugins/mish.cat")
    with pytest.raises(catdsl.CatError) as info:
        torch_program["Layer"](np.zeros(3))  # an Input : Real[3]
    assert info.value.first.code == "R0810" and "`mish`" in info.value.first.message
