"""A progress bar for long loops: on a terminal only, and only once a loop has run ~0.5 s.

`rich` is imported lazily when the bar first appears, so short or non-interactive runs (tests,
pipes, CI) never pay for it and never print anything. A minibatch step (one epoch) reports its
batches through `BATCH_PROGRESS`, which a shown bar sets for the length of its loop: the bar
then has a second row for the batches of the current epoch.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Any

DELAY_SECONDS = 0.5

BatchReport = Callable[[int, int, float], None]
BATCH_PROGRESS: ContextVar[BatchReport | None] = ContextVar("batch_progress", default=None)
"""`report(done, total, loss)` after each minibatch of an epoch, or None (nobody listens)."""


class ProgressBar:
    """`with ProgressBar(total, label) as bar: bar.update(done)`; silent unless `enabled`
    (None: when stderr is a terminal) and the loop outlives `DELAY_SECONDS`."""

    def __init__(self, total: int, label: str, start: int = 0, enabled: bool | None = None):
        self.total, self.label, self.start = total, label, start
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._began = time.perf_counter()
        self._bar: Any = None
        self._task: Any = None
        self._batches: Any = None

    def __enter__(self) -> ProgressBar:
        return self

    @contextmanager
    def batches(self) -> Iterator[None]:
        """While inside, minibatch steps report their batches to this bar (when enabled)."""
        if not self.enabled:
            yield
            return
        token = BATCH_PROGRESS.set(self.batch)
        try:
            yield
        finally:
            BATCH_PROGRESS.reset(token)

    def batch(self, done: int, total: int, loss: float) -> None:
        """Record that `done` of the `total` minibatches of the current epoch are finished."""
        if self._bar is None:
            if time.perf_counter() - self._began < DELAY_SECONDS:
                return
            self._show()
        if self._batches is None:
            self._batches = self._bar.add_task("  batch", total=total, completed=0, info="")
        self._bar.update(self._batches, total=total, completed=done, info=f"loss {loss:.6g}")

    def update(self, done: int, loss: float | None = None) -> None:
        """Record that `done` of `total` steps are finished (cheap when no bar is shown)."""
        if not self.enabled:
            return
        if self._bar is None:
            if time.perf_counter() - self._began < DELAY_SECONDS:
                return
            self._show()
        suffix = f"loss {loss:.6g}" if loss is not None else ""
        self._bar.update(self._task, completed=done, info=suffix)

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"),
            console=Console(stderr=True),
            transient=False,
        )
        self._bar.start()
        self._task = self._bar.add_task(self.label, total=self.total, completed=self.start, info="")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
