"""What a backend offers the front ends: compile a diagram, run it, pull cotangents back
through it, and iterate a training step with progress and checkpoints.

The numpy backend (`numpy_backend.NumpyBackend`) is the default and the reference; another
backend is one module implementing this protocol plus its kernel table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypeVar

from catdsl.diagram.ir import Diagram
from catdsl.semantics.loop import LoopHooks

Compiled = TypeVar("Compiled")


class Backend(Protocol[Compiled]):
    """Compiles diagrams to its own `Compiled` form and runs them."""

    def compile(self, diagram: Diagram) -> Compiled:
        """The runnable form of `diagram`; errors that need no values are raised here."""
        ...

    def run(
        self,
        compiled: Compiled,
        inputs: Sequence[Any],
        ports: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        check: bool = True,
        hooks: LoopHooks | None = None,
    ) -> tuple[Any, ...]:
        """The outputs for one input per domain wire, ports and params by name. `check`
        validates objects and scans for NaN/inf; `hooks` drive the first top-level loop."""
        ...

    def vjp(
        self,
        compiled: Compiled,
        inputs: Sequence[Any],
        ports: Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
        cotangents: Sequence[Any],
        wrt: set[str],
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The outputs, and the cotangents of the sources named in `wrt` (ports and params by
        name, `"inputs"` for one per input) for the output `cotangents` (None: zeros)."""
        ...

    def train(
        self,
        compiled: Compiled,
        state: Sequence[Any],
        n: int,
        *,
        ports: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        hooks: LoopHooks | None = None,
        check: bool = True,
    ) -> tuple[Any, ...]:
        """The compiled endomorphism applied n times to `state` (what `step ^ n` does), with
        progress, checkpoints and the loss history as `hooks` ask."""
        ...

    def initial_state(self, diagram: Diagram, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """The starting state of the training step found in `diagram`, from `params`."""
        ...
