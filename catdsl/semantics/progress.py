"""A progress bar for long loops: on a terminal only, and only once a loop has run ~0.5 s.

`rich` is imported lazily when the bar first appears, so short or non-interactive runs (tests,
pipes, CI) never pay for it and never print anything.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any

DELAY_SECONDS = 0.5


class ProgressBar:
    """`with ProgressBar(total, label) as bar: bar.update(done)`; silent unless `enabled`
    (None: when stderr is a terminal) and the loop outlives `DELAY_SECONDS`."""

    def __init__(self, total: int, label: str, start: int = 0, enabled: bool | None = None):
        self.total, self.label, self.start = total, label, start
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._began = time.perf_counter()
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> ProgressBar:
        return self

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
