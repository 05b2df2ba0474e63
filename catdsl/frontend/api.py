"""The Python API: `Program` (a checked file with its commands) and `Morphism` (a callable
typed definition), and loading programs from files or text.

`Program` adds the commands built on the core program (`program.BaseProgram`): training, law
checks, gradient checks and drawing, each in a module of its own that works on the core (so
none of them imports this module back). The commands are called through their modules, so a
test may replace one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from catdsl.frontend import drawing, export, law_check, overrides, training_run
from catdsl.frontend import gradcheck as gradient_check
from catdsl.frontend.program import BaseProgram, Morphism, html_card, init_param
from catdsl.loader import check_file, check_text
from catdsl.std.plugins import PluginResolver, PrimitiveSet

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Sequence
    from typing import Any

    from catdsl.semantics.backend import Backend
    from catdsl.typesys.primitives import PluginSpec

__all__ = ["Morphism", "Program", "init_param", "load_program", "loads_program"]


def load_program(
    path: str,
    dtype: str = "float64",
    backend: Backend[Any] | None = None,
    allow_read: Iterable[str | os.PathLike[str]] = (),
    plugins: Iterable[PrimitiveSet | PluginSpec] = (),
) -> Program:
    resolver = PluginResolver.of(plugins)
    checked = check_file(path, allow_read, resolver)
    if not checked.sources and checked.diagnostics:
        raise OSError(2, checked.diagnostics[0].message, path)
    return Program(checked, dtype, backend, resolver.kernels())


def loads_program(
    text: str,
    file: str = "<string>",
    dtype: str = "float64",
    backend: Backend[Any] | None = None,
    allow_read: Iterable[str | os.PathLike[str]] = (),
    plugins: Iterable[PrimitiveSet | PluginSpec] = (),
) -> Program:
    resolver = PluginResolver.of(plugins)
    checked = check_text(text, file, allow_read, resolver)
    return Program(checked, dtype, backend, resolver.kernels())


class Program(BaseProgram):
    """A checked program: its definitions as callable morphisms, its params and laws, and the
    commands that use them."""

    def train(
        self,
        name: str,
        steps: int | None = None,
        checkpoint: str | None = None,
        progress: bool = False,
        *,
        epochs: int | None = None,
        validate: Sequence[str] | None = None,
        keep_best: str | None = None,
        best: str = "max",
        max_growth: float | None = None,
        **hyperparameters: float,
    ) -> training_run.TrainResult:
        """Run the training step `name` from the current params and make its trained params
        the program's (`program.params`, which every morphism reads); return the result.

        Keyword arguments override the step's hyperparameters for this run (`lr=0.01`,
        `beta1=0.8`); a run that fails leaves the params as they were. A later call starts
        from the trained params with a fresh optimizer state; `checkpoint=` keeps that state
        too. `epochs`, `validate`, `keep_best`, `best` and `max_growth` are those of
        `frontend.training_run.train_definition`: passes over the data, the metrics computed
        after each step, the best params kept, the growth of the loss that stops a run."""
        keywords = (
            "steps",
            "checkpoint",
            "progress",
            "epochs",
            "validate",
            "keep_best",
            "best",
            "max_growth",
        )
        target = overrides.with_hyperparameters(self, name, hyperparameters, keywords)
        result = training_run.train_definition(
            target,
            name,
            steps=steps,
            checkpoint=checkpoint,
            progress=progress,
            epochs=epochs,
            validate=validate,
            keep_best=keep_best,
            best=best,
            max_growth=max_growth,
        )
        self.params.update(
            {key: np.array(value, dtype=self.dtype) for key, value in result.params.items()}
        )
        return result

    def check_laws(self, samples: int = 16, seed: int = 0) -> list[law_check.LawReport]:
        return law_check.check_laws(self, samples=samples, seed=seed)

    def gradcheck(self, name: str, eps: float = 1e-6, seed: int = 0) -> gradient_check.GradReport:
        return gradient_check.gradcheck(self, name, eps=eps, seed=seed)

    def to_torch(self, name: str, dtype: str | None = None, device: str = "cpu") -> Any:
        """The definition `name` as a `torch.nn.Module` (docs/export.md): its params as
        `nn.Parameter`s named as in the program, from their current values; `forward` takes
        the inputs as tensors and the ports by keyword. In the program's dtype unless `dtype`
        is given, on `device`. Training it changes the module's parameters, not the program's."""
        return export.to_torch(self, name, dtype, device)

    def steps_of(self, name: str) -> int | None:
        """The n of a definition written `step ^ n` (what `train` runs without `steps=`), or
        None for one that is not a power."""
        return overrides.written_steps(self[name].term)

    def _repr_svg_(self) -> str | None:
        return drawing.program_svg(self)

    def _repr_html_(self) -> str:
        """HTML for Jupyter: the file, a table of its definitions and their types, and the
        program's drawing when Graphviz is there."""
        rows = [(name, self[name].type_text) for name in self.names]
        return html_card(repr(self), rows, self._repr_svg_())
