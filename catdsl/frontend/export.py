"""A checked definition handed to PyTorch: as an `nn.Module` (`to_torch`), and as a file of its
forward pass for `torch.export` (`.pt2`) or ONNX (`.onnx`).

The module runs the definition's diagram with the torch backend's rules, its params as
`nn.Parameter`s named as in the program and initialised from the program's current values.
A file is traced from that module on example inputs drawn from the definition's objects (two
examples in a batch; free dims of size 3); the batch axes and those of free dims are left
dynamic, so the file takes any batch size and sequence length. A rule's check on values (an
index in range, finite logits) is kept in a `.pt2` as a runtime assertion, so the exported
program refuses what catdsl refuses (ONNX has no assertion: the model keeps none). Files are
written atomically.

| code  | raised when |
| ----- | ----------- |
| E0840 | the definition trains (it holds a training step): only forward morphisms are exported |
| E0841 | an input, port or output is not an array (an `Option`, a record, a `Symbol`) |
| E0842 | a param's name cannot be a parameter of an `nn.Module` (it names a method, `eval`) |
| R0840 | PyTorch could not trace the definition for export |
| R0841 | the traced definition could not be converted to ONNX |
"""

from __future__ import annotations

import importlib
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from catdsl.errors import CatError, CatRuntimeError, Diagnostic

if TYPE_CHECKING:
    from catdsl.frontend.program import BaseProgram, Morphism
    from catdsl.semantics.torch_module import DefinitionModule

TORCH_HINT = "this needs PyTorch: install it with `pip install 'catdsl[torch]'`"
ONNX_HINT = (
    "exporting to ONNX needs onnx and onnxscript (and onnxruntime to run the file): "
    "install them with `pip install 'catdsl[onnx]'`"
)
EXAMPLE_BATCH = 2
"""How many examples the traced inputs hold on their leading (batch) axis."""


def require(module: str, hint: str) -> Any:
    """The module `module`; its absence is an `ImportError` saying what to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(hint) from None


def to_torch(
    program: BaseProgram, name: str, dtype: str | None = None, device: str = "cpu"
) -> DefinitionModule:
    """The definition `name` as an `nn.Module` in `dtype` (the program's by default) on
    `device`; without PyTorch an `ImportError` saying what to install."""
    morphism = program[name]
    _refuse_training(morphism)
    require("torch", TORCH_HINT)
    from catdsl.frontend.backends import named_backend
    from catdsl.semantics.torch_backend import TorchBackend
    from catdsl.semantics.torch_module import DefinitionModule

    backend = named_backend("torch", dtype or program.dtype.name, device)
    assert isinstance(backend, TorchBackend), "named_backend makes the torch backend"
    try:
        plan = backend.compile(morphism.diagram)
    except CatRuntimeError as err:
        raise CatError([err.diagnostic], program.checked.sources) from None
    names = [s.name for s in plan.sources if s.kind == "param"]
    _refuse_reserved(morphism, names)
    params = {n: backend.to_tensor(program.params[n]) for n in names}
    return DefinitionModule(plan, params)


def _refuse_training(morphism: Morphism) -> None:
    """E0840 for a definition that holds a training step."""
    from catdsl.semantics.training import find_train_box

    box = find_train_box(morphism.diagram)
    if box is not None:
        raise CatError(
            [
                Diagnostic(
                    "E0840",
                    f"`{morphism.name}` trains (it holds `{box.label}`): only forward "
                    "morphisms are exported",
                    help="export the morphism it trains, e.g. the loss or the predictor, and "
                    "train that module with torch.optim",
                )
            ]
        )


def _refuse_reserved(morphism: Morphism, names: list[str]) -> None:
    """E0842 for a param named as an attribute every `nn.Module` has (`eval`, `training`)."""
    from torch import nn

    taken = [n for n in names if hasattr(nn.Module, n) or n in ("plan", "definition", "ports")]
    if taken:
        raise CatError(
            [
                Diagnostic(
                    "E0842",
                    f"the param `{taken[0]}` of `{morphism.name}` cannot be a parameter of a "
                    "torch module: every module already has an attribute of that name",
                    help=f"rename the param (`{taken[0]}_` say) to export `{morphism.name}`",
                )
            ]
        )


def example_inputs(
    program: BaseProgram, module: DefinitionModule
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Inputs to trace `module` on: each domain wire a batch of `EXAMPLE_BATCH` values drawn
    from its object, each port one value (E0841 for one that is not an array)."""
    from catdsl.frontend.sampling import Case, Sampler

    plan = module.plan
    sampler = Sampler(np.random.default_rng(0), program.params, Case.PRESENT)
    to_tensor = module_tensor(module)
    inputs = tuple(
        to_tensor(_array(module, sampler.atom(a, (EXAMPLE_BATCH,)), f"input {i + 1}", a))
        for i, a in enumerate(plan.dom.atoms)
    )
    ports = {
        s.name: to_tensor(_array(module, sampler.atom(s.atom), f"the port `{s.name}`", s.atom))
        for s in plan.sources
        if s.kind == "port"
    }
    return inputs, ports


def module_tensor(module: DefinitionModule) -> Any:
    """A converter of numpy arrays to tensors on `module`'s device, floats in its dtype."""
    import torch

    first = next(module.parameters(), None)
    dtype = first.dtype if first is not None else torch.float64
    device = first.device if first is not None else torch.device("cpu")

    def convert(array: np.ndarray) -> Any:
        tensor = torch.as_tensor(array, device=device)
        return tensor.to(dtype) if tensor.is_floating_point() else tensor

    return convert


def _array(module: DefinitionModule, value: object, what: str, atom: object) -> np.ndarray:
    """`value` if it is an array of numbers or truth values, else E0841."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value
    raise _not_arrays(module.definition, f"{what} (`{atom}`)")


def _not_arrays(name: str, what: str) -> CatError:
    return CatError(
        [
            Diagnostic(
                "E0841",
                f"`{name}` cannot be exported: {what} is not an array",
                help="export a definition whose inputs, ports and outputs are arrays "
                "(not an Option, a record or a Symbol)",
            )
        ]
    )


def traced(
    program: BaseProgram, name: str, dtype: str | None = None, assert_at_run_time: bool = True
) -> tuple[Any, list[str]]:
    """The forward pass of `name` as a `torch.export.ExportedProgram` with dynamic axes, and
    the names of its inputs: `input_1`, ..., then the ports in the order it takes them.

    The rules test values (`if bad.any(): raise ...`), which a trace cannot: each test is
    answered as it was on the example inputs, where every check passes, and, with
    `assert_at_run_time`, kept in the graph as an assertion that the answer holds."""
    module = to_torch(program, name, dtype)
    module.eval()
    inputs, ports = example_inputs(program, module)
    torch = require("torch", TORCH_HINT)
    from catdsl.semantics.torch_module import Recorded, Replayed

    recorded = Recorded()
    with torch.no_grad():
        try:
            with recorded:
                outputs = module(*inputs, **ports)
        except CatRuntimeError as err:
            raise CatError([err.diagnostic], program.checked.sources) from None
    for i, y in enumerate(outputs if isinstance(outputs, tuple) else (outputs,)):
        if not isinstance(y, torch.Tensor):
            raise _not_arrays(module.definition, f"output {i + 1}")
    auto = torch.export.Dim.AUTO
    port_atoms = {s.name: s.atom for s in module.plan.sources if s.kind == "port"}
    shapes: dict[str, Any] = {
        "inputs": tuple(
            dict.fromkeys(free_axes(a, x.ndim), auto)
            for a, x in zip(module.plan.dom.atoms, inputs, strict=True)
        )
    }
    if ports:
        shapes["ports"] = {
            n: dict.fromkeys(free_axes(port_atoms[n], p.ndim), auto) for n, p in ports.items()
        }
    try:
        replayed = Replayed(recorded.answers, assert_at_run_time)
        with quiet(), replayed:
            exported = torch.export.export(module, inputs, ports, dynamic_shapes=shapes)
        if replayed.unused():
            raise RuntimeError("the trace tested fewer values than the recorded run")
    except Exception as exc:  # torch raises many kinds; each is told, never a traceback
        raise CatError(
            [Diagnostic("R0840", f"PyTorch could not export `{name}`: {_first_line(exc)}")]
        ) from None
    return exported, [*(f"input_{i + 1}" for i in range(len(inputs))), *ports]


def free_axes(atom: Any, ndim: int) -> list[int]:
    """The axes of a value of `atom` (of rank `ndim`) left dynamic in a traced file: the batch
    and list axes, and those of free dims (`T`); an axis of a dim with a value is fixed."""
    fixed = _fixed_element_axes(atom)
    lead = ndim - len(fixed)
    return [a for a in range(ndim) if a < lead or not fixed[a - lead]]


def _fixed_element_axes(atom: Any) -> tuple[bool, ...]:
    """For each trailing axis of one value of `atom`, whether its dim has a value."""
    from catdsl.typesys.types import Carrier, carrier_of

    carrier = carrier_of(atom)
    if not isinstance(carrier, Carrier):
        return ()
    if carrier.kind == "List":
        atoms = carrier.elem.atoms if carrier.elem is not None else ()
        return _fixed_element_axes(atoms[0]) if len(atoms) == 1 else ()
    return tuple(d.value is not None for d in carrier.shape.dims)


@contextmanager
def quiet() -> Iterator[None]:
    """PyTorch's log lines and warnings while it traces or converts (its report of the checks it
    turned into runtime assertions, notes on packages it does not need) kept off the screen."""
    logger = logging.getLogger("torch")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message (torch's run to pages)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def export_torch(program: BaseProgram, name: str, path: str, dtype: str | None = None) -> None:
    """Write the forward pass of `name` to `path` with `torch.export.save` (load it back with
    `torch.export.load(path).module()`)."""
    from catdsl.files import atomic_output

    torch = require("torch", TORCH_HINT)
    exported, _ = traced(program, name, dtype)
    with atomic_output(path, suffix=".pt2", what="exported program") as file:
        torch.export.save(exported, file)


def export_onnx(program: BaseProgram, name: str, path: str, dtype: str | None = None) -> None:
    """Write the forward pass of `name` to `path` as an ONNX model (inputs `input_1`, ...,
    then the ports by name; outputs `output_1`, ...)."""
    from catdsl.files import atomic_output

    torch = require("torch", TORCH_HINT)
    require("onnx", ONNX_HINT)
    require("onnxscript", ONNX_HINT)
    exported, inputs = traced(program, name, dtype, assert_at_run_time=False)
    outputs = [f"output_{i + 1}" for i in range(len(program[name].cod.atoms))]
    try:
        with quiet():
            onnx_program = torch.onnx.export(
                exported,
                input_names=inputs,
                output_names=outputs,
                dynamo=True,
                verbose=False,
            )
        data = onnx_program.model_proto.SerializeToString()
    except Exception as exc:  # the converter raises many kinds; each is told
        raise CatError(
            [Diagnostic("R0841", f"`{name}` could not be converted to ONNX: {_first_line(exc)}")]
        ) from None
    with atomic_output(path, suffix=".onnx", what="ONNX model") as file:
        file.write(data)
