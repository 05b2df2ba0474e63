"""The kernel protocol: the numeric meaning of one box, as a forward pass and its VJP.

A compiled plan holds one `Kernel` per box. `forward` returns the outputs and a residual (whatever
the reverse pass needs); `vjp` maps the outputs' cotangents to one cotangent per input. Kernels are
batch-polymorphic: axes in front of an input's element axes are batch axes (the List functor).
As everywhere in numpy, a rank-0 result may come back as a numpy scalar (it has shape and dtype).
Outputs and cotangents may share memory with the inputs or with each other (and may be read-only
views), so callers must never modify them in place.

A kernel whose value depends on whether it runs in a training step (`dropout`) sets
`uses_mode` and implements `forward_in(mode, *xs)`: its plan op reads the run's `Mode` (training
or evaluation, and the training step's number) and passes it; `forward` stays its evaluation
pass. Training steps run their loss in training mode; everything else runs in evaluation mode.

Two optional refinements serve the training hot path: `trusted_forward` is `forward` without the
input validation (shapes, index ranges, finite logits) for inputs shaped like ones already
validated, and `vjp_for(needed)` gives a VJP that may skip the cotangents nobody asked for.
`trusted_run` does the same for a plain call: the output alone, as a plain function.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from catdsl.errors import CatRuntimeError

Forward = tuple[tuple[np.ndarray, ...], object]
"""What `Kernel.forward` returns: the outputs and the residual kept for the reverse pass."""

Cotangents = tuple[np.ndarray | None, ...]
"""What `Kernel.vjp` returns: one cotangent per input, None for a non-differentiable input."""


@dataclass(frozen=True)
class Mode:
    """What a run tells the kernels that ask (`Kernel.uses_mode`): whether the pass computes a
    training step's loss and gradient, and that step's number in the run (from 1), from which a
    kernel that draws at random (`dropout`) seeds its draw, so a run is reproducible."""

    training: bool = False
    step: int = 0


EVALUATION = Mode()
"""The mode of every pass that is not a training step's: running, `MeanLoss`, laws, gradcheck."""


@dataclass
class StepClock:
    """The number of training steps a run has taken, shared by the run's nested plans; each
    training step advances it and runs its loss in `Mode(True, steps)`."""

    steps: int = 0


class Morphism(Protocol):
    """A morphism argument of a primitive (`fold`'s `op`) as its kernel receives it, before its
    arrays: a function on flat component arrays (one per array of its domain's wires) with its
    taped forward pass and its VJP, run in the context of the call (checks, mode)."""

    def run(self, *xs: Any) -> tuple:
        """The outputs."""
        ...

    def forward(self, *xs: Any) -> Forward:
        """The outputs and the residual its `vjp` needs."""
        ...

    def vjp(self, residual: Any, *dys: Any) -> Cotangents:
        """One cotangent per input array (None where none flows)."""
        ...


class Kernel:
    """Base class of every kernel; subclasses set the class attributes and the two passes."""

    name: str = "kernel"
    n_in: int = 1
    n_out: int = 1
    differentiable: tuple[bool, ...] = (True,)
    uses_mode: bool = False
    trusted_run: Callable[..., Any] | None = None
    """For a one-output kernel whose validation looks at its inputs' shapes only (or that has
    none): a plain function (often a numpy ufunc) computing the output alone, as `forward`
    computes it, without the checks, the residual or a frame of the kernel's. A plain call runs
    it once a call with the same source shapes has been validated. None: `forward_only` runs."""
    validates: bool = True
    """Whether `forward` checks its inputs at all: a kernel that does not (an elementwise map)
    runs its `trusted_run` in every plain call, validated or not."""

    def __init__(self, in_ranks: tuple[int, ...] = ()) -> None:
        self.in_ranks = tuple(in_ranks)

    def forward(self, *xs: Any) -> Forward:
        """Compute the outputs and the residual that `vjp` needs."""
        raise NotImplementedError(f"kernel `{self.name}` has no forward pass")

    def vjp(self, residual: Any, *dys: Any) -> Cotangents:
        """Pull the outputs' cotangents back to one per input (None where not differentiable)."""
        raise NotImplementedError(f"kernel `{self.name}` has no reverse pass")

    def forward_in(self, mode: Mode, *xs: Any) -> Forward:
        """`forward` in a given mode, for kernels that set `uses_mode`; by default `forward`."""
        return self.forward(*xs)

    def trusted_forward(self, *xs: Any) -> Forward:
        """`forward` for inputs shaped like an already validated call (same shapes, same constant
        indices): kernels that validate override it to skip the checks; by default `forward`."""
        return self.forward(*xs)

    def vjp_for(self, needed: tuple[bool, ...]) -> Callable[..., Cotangents]:
        """The VJP for a reverse pass that wants only the `needed` inputs' cotangents (the others
        may come back as None); kernels that can save work override it; by default `vjp`."""
        return self.vjp

    def forward_only(self, *xs: np.ndarray) -> tuple[np.ndarray, ...]:
        """Compute the outputs for inference; by default `forward` without its residual."""
        return self.forward(*xs)[0]

    def __call__(self, *xs: np.ndarray) -> tuple[np.ndarray, ...]:
        return self.forward_only(*xs)

    def __repr__(self) -> str:
        return f"<kernel {self.name} ranks={self.in_ranks}>"


KernelFactory = Callable[..., Kernel]
"""`factory(in_ranks, **static) -> Kernel`: builds the kernel of one primitive box."""

KernelTable = Mapping[str, KernelFactory]
"""Kernel factories by primitive name: what a backend is given to bind primitives."""


def build_kernel(
    factory: KernelFactory, name: str, static: Mapping[str, object], in_ranks: tuple[int, ...]
) -> Kernel:
    """The kernel of one primitive box; constant arguments the factory does not take are R0404."""
    try:
        inspect.signature(factory).bind(tuple(in_ranks), **static)
    except TypeError as exc:
        raise CatRuntimeError("R0404", f"bad static arguments for `{name}`: {exc}") from None
    return factory(tuple(in_ranks), **static)


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `grad` over the axes that broadcasting added or stretched, so it has `shape` again."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)


def rows(x: np.ndarray, rank: int = 1) -> np.ndarray:
    """View `x` as a stack of its last-`rank`-axes elements: shape (batch size, *element shape)."""
    return x.reshape((-1, *x.shape[x.ndim - rank :]))


def element_shape(kernel: str, x: np.ndarray, rank: int) -> tuple[int, ...]:
    """The last `rank` axes of `x`; an input with fewer axes than its element rank is an error."""
    if x.ndim < rank:
        raise CatRuntimeError(
            "R0306",
            f"`{kernel}` expects an input of rank {rank} or more, found shape {x.shape}",
        )
    return x.shape[x.ndim - rank :]


def lift_rank(x: np.ndarray, rank: int, target: int) -> np.ndarray:
    """Append unit axes so an element of rank `rank` lines up with elements of rank `target`."""
    return x.reshape(x.shape + (1,) * (target - rank))
