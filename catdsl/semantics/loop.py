"""Iterating an endomorphism with the comforts of a long run: progress, callbacks, checkpoints.

`iterate` is how `f ^ n` runs when a caller passes `LoopHooks` (the CLI's `train` and `run`):
it resumes from a checkpoint when one exists, shows a progress bar on a terminal, calls
`on_step(step, state)` after every step, saves a checkpoint every `every` steps, at the end,
and when interrupted (Ctrl-C saves, then raises `TrainingInterrupted` with a clean message).
Training ops append each step's mean loss to `loss_history`.

A run error inside a step (a diverged training step, say) leaves the loop with a note naming
the step and where its state came from (`at_step`); the losses of the steps done stay in
`loss_history`. A state holding NaN or an infinity is never saved as a checkpoint: the loop
stops with R0413 naming the first bad entry (`diverged`) and the step that made it. With
`max_growth` set, a loss more than that many times the lowest loss so far (when that is > 0)
stops the loop too (R0610), before the step's state is saved or passed on.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from catdsl.errors import CatRuntimeError
from catdsl.semantics.checkpoint import (
    load_checkpoint,
    same_layout,
    save_checkpoint,
)
from catdsl.semantics.kernel import StepClock
from catdsl.semantics.progress import ProgressBar

Step = Callable[[tuple], tuple]


@dataclass
class LoopHooks:
    """Options and results of a hooked loop (see the module docstring).

    `progress`: True / False, or None to show a bar only when stderr is a terminal.
    After the loop, `steps_done` counts all completed steps (resumed ones included),
    `resumed_from` the step the loop started at, and `loss_history` holds one mean loss per
    training step (the loss at the parameters *before* that step's update).
    """

    on_step: Callable[[int, tuple], None] | None = None
    checkpoint: str | os.PathLike | None = None
    every: int = 0
    resume: bool = True
    progress: bool | None = None
    identity: str = ""  # what is being trained (`checkpoint.fingerprint`): kept in checkpoints
    max_growth: float | None = None  # the factor over the lowest loss that stops the loop
    epochs: bool = False  # each step is an epoch: messages count epochs, from 1
    saves: bool = True  # whether this process writes the checkpoint (one of a parallel run does)
    loss_history: list[float] = field(default_factory=list)
    steps_done: int = 0
    resumed_from: int = 0


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during a hooked loop; the message says where it stopped and what was saved."""

    def __init__(self, message: str, step: int):
        super().__init__(message)
        self.message, self.step = message, step

    def __str__(self) -> str:
        return self.message


def iterate(step: Step, state: tuple, n: int, hooks: LoopHooks, label: str) -> tuple:
    """Apply `step` to `state` until `n` steps are done, honouring `hooks`."""
    history = hooks.loss_history
    state, done = _resume(state, n, hooks, label)
    kept = len(history)
    with ProgressBar(n, label, done, hooks.progress) as bar, bar.batches():
        shown = bar.enabled  # a disabled bar is never updated
        try:
            while done < n:
                try:
                    state = step(state)
                except CatRuntimeError as exc:
                    del history[kept:]
                    raise at_step(exc, done + 1, n, label, hooks) from None
                if hooks.max_growth is not None:
                    _refuse_growth(history, hooks.max_growth, hooks.epochs, label)
                done += 1
                kept = len(history)
                hooks.steps_done = done
                if hooks.on_step is not None:
                    hooks.on_step(done, state)
                if hooks.checkpoint and hooks.every and done % hooks.every == 0:
                    _refuse_diverged(state, done, n, label)
                    if hooks.saves:
                        save_checkpoint(
                            hooks.checkpoint, state, done, history[:kept], hooks.identity
                        )
                if shown:
                    bar.update(done, history[-1] if history else None)
        except KeyboardInterrupt:
            del history[kept:]
            where = f"interrupted after step {done} of {n} of `{label}`"
            if not hooks.checkpoint:
                raise TrainingInterrupted(f"{where}; no checkpoint was asked for", done) from None
            if hooks.saves:
                save_checkpoint(hooks.checkpoint, state, done, history, hooks.identity)
            raise TrainingInterrupted(
                f"{where}; checkpoint saved to `{os.fspath(hooks.checkpoint)}` "
                "(run again with the same checkpoint to resume)",
                done,
            ) from None
    hooks.steps_done = done
    if hooks.checkpoint:
        if done > hooks.resumed_from:
            _refuse_diverged(state, done, n, label)
        if hooks.saves:
            save_checkpoint(hooks.checkpoint, state, done, history, hooks.identity)
    return state


def numbered(step: Step, clock: StepClock, hooks: LoopHooks) -> Step:
    """`step` for `iterate`, with the run's count of training steps (a `StepClock`) set before
    each to its count when the loop began plus the loop's steps done, those it resumed from
    included: the steps of a resumed loop are numbered as in the uninterrupted run (`dropout`
    draws from that number)."""
    start = clock.steps
    calls = 0

    def counted(state: tuple) -> tuple:
        nonlocal calls
        clock.steps = start + hooks.resumed_from + calls
        calls += 1
        return step(state)

    return counted


def at_step(
    exc: CatRuntimeError, step: int, n: int, label: str, hooks: LoopHooks
) -> CatRuntimeError:
    """`exc`, raised in step `step` of `n`, with a note saying so and where the step's state
    came from (the start, a checkpoint, or the step before)."""
    if step == 1:
        source = "the initial state"
    elif step - 1 == hooks.resumed_from and hooks.checkpoint:
        source = f"the state of checkpoint `{os.fspath(hooks.checkpoint)}` (step {step - 1})"
    else:
        source = f"the state after step {step - 1}"
    note = f"in step {step} of {n} of `{label}`, from {source}"
    exc.diagnostic = dataclasses.replace(exc.diagnostic, notes=(*exc.diagnostic.notes, note))
    return exc


def diverged(state: object) -> str | None:
    """What in a loop's state is NaN or infinite, worded for a training state (`the param
    `W``, `the m of the param `W``), or None when all of it is finite."""
    return _first_bad(state, None)


def _first_bad(value: object, field_name: str | None) -> str | None:
    if isinstance(value, tuple | list):
        for part in value:
            found = _first_bad(part, field_name)
            if found:
                return found
        return None
    if isinstance(value, dict):
        for key, part in value.items():
            if isinstance(part, dict):  # a state's field: params, m, v, velocity
                found = _first_bad(part, None if key == "params" else str(key))
            elif _nonfinite(part):
                found = (
                    f"the param `{key}`"
                    if field_name is None
                    else (f"the {field_name} of the param `{key}`")
                )
            else:
                found = None
            if found:
                return found
        return None
    return "the state" if _nonfinite(value) else None


def _nonfinite(value: object) -> bool:
    return (
        isinstance(value, np.ndarray | np.generic)
        and value.dtype.kind in "fc"
        and not bool(np.isfinite(value).all())
    )


def _refuse_growth(history: list[float], factor: float, epochs: bool, label: str) -> None:
    """Raise R0610 when the latest loss is more than `factor` times the lowest before it,
    naming both as `catdsl train` numbers its rows (steps from 0, epochs from 1)."""
    if len(history) < 2:
        return
    lowest = min(range(len(history) - 1), key=history.__getitem__)
    latest = history[-1]
    if history[lowest] > 0 and latest > factor * history[lowest]:
        unit, first = ("epoch", 1) if epochs else ("step", 0)
        where, best = f"{unit} {len(history) - 1 + first}", f"{unit} {lowest + first}"
        raise CatRuntimeError(
            "R0610",
            f"the loss of `{label}` grew to {latest:.6g} at {where}, more than {factor:g} "
            f"times its lowest, {history[lowest]:.6g} at {best}",
            help="the training is diverging: try a smaller `lr`, or a larger `--max-growth`",
        )


def _refuse_diverged(state: tuple, done: int, n: int, label: str) -> None:
    """Raise R0413 instead of checkpointing a state that holds NaN or an infinity."""
    bad = diverged(state)
    if bad is not None:
        raise CatRuntimeError(
            "R0413",
            f"{bad} is not finite after step {done} of `{label}`",
            help="the training diverged (try a smaller `lr`); no checkpoint of this state was "
            "saved",
        )


def _resume(state: tuple, n: int, hooks: LoopHooks, label: str) -> tuple[tuple, int]:
    """The state to start from and its completed step count: the checkpoint's, if any."""
    hooks.resumed_from = 0
    path = hooks.checkpoint
    if not (path and hooks.resume and os.path.exists(path)):
        return state, 0
    saved, done, losses, saved_by = load_checkpoint(path)
    if not same_layout(saved, state):
        raise CatRuntimeError(
            "R0607",
            f"checkpoint `{os.fspath(path)}` does not fit the state of `{label}`",
            help="delete it, or pass another checkpoint path, to start afresh",
        )
    if hooks.identity and saved_by and saved_by != hooks.identity:
        raise CatRuntimeError(
            "R0607",
            f"checkpoint `{os.fspath(path)}` holds the state of another training step than "
            f"`{label}` (a different loss, data or hyperparameters)",
            help="delete it, or pass another checkpoint path, to start afresh",
        )
    if done > n:
        raise CatRuntimeError(
            "R0607",
            f"checkpoint `{os.fspath(path)}` is at step {done}, beyond the {n} steps of `{label}`",
        )
    hooks.loss_history[:] = losses
    hooks.resumed_from = hooks.steps_done = done
    return saved, done
