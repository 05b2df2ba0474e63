"""The Python API: `Program` (a checked file with its commands) and `Morphism` (a callable
typed definition), and loading programs from files or text.

`Program` adds the commands built on the core program (`program.BaseProgram`): training, law
checks, gradient checks and drawing, each in a module of its own that works on the core (so
none of them imports this module back). The commands are called through their modules, so a
test may replace one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from catdsl.frontend import drawing, law_check, training_run
from catdsl.frontend import gradcheck as gradient_check
from catdsl.frontend.program import BaseProgram, Morphism, init_param
from catdsl.loader import check_file, check_text

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Sequence
    from typing import Any

    from catdsl.semantics.backend import Backend

__all__ = ["Morphism", "Program", "init_param", "load_program", "loads_program"]


def load_program(
    path: str,
    dtype: str = "float64",
    backend: Backend[Any] | None = None,
    allow_read: Iterable[str | os.PathLike[str]] = (),
) -> Program:
    checked = check_file(path, allow_read)
    if not checked.sources and checked.diagnostics:
        raise OSError(2, checked.diagnostics[0].message, path)
    return Program(checked, dtype, backend)


def loads_program(
    text: str,
    file: str = "<string>",
    dtype: str = "float64",
    backend: Backend[Any] | None = None,
    allow_read: Iterable[str | os.PathLike[str]] = (),
) -> Program:
    return Program(check_text(text, file, allow_read), dtype, backend)


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
    ) -> training_run.TrainResult:
        """Train the step `name` (see `frontend.training_run.train_definition`)."""
        return training_run.train_definition(
            self,
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

    def check_laws(self, samples: int = 16, seed: int = 0) -> list[law_check.LawReport]:
        return law_check.check_laws(self, samples=samples, seed=seed)

    def gradcheck(self, name: str, eps: float = 1e-6, seed: int = 0) -> gradient_check.GradReport:
        return gradient_check.gradcheck(self, name, eps=eps, seed=seed)

    def _repr_svg_(self) -> str | None:
        return drawing.program_svg(self)
