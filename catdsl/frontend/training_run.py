"""`catdsl train`: iterate a training endomorphism from the program's initial parameters.

NAME is a step (`TrainStep(...)`, `Momentum(...)`, `Adam(...)`) or its power `step ^ n`; the
number of steps is `--steps` or the power's n. Progress, checkpoints (atomic, resumable to a
bit-identical result) and the loss history come from `semantics.loop`.

A run that fails part way (a diverging step, see `semantics.training`) raises
`TrainingFailed`: a `CatError` whose diagnostic names the box or param that went bad and the
step (a note), with a note repeating the loss rows of the steps already done (the rows
`catdsl train` prints on success), and which keeps those losses for the Python API.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from catdsl.errors import CatError, CatRuntimeError, Diagnostic
from catdsl.frontend.program import BaseProgram, Morphism
from catdsl.typesys import terms as T
from catdsl.typesys.types import Record


@dataclass
class TrainResult:
    """The outcome of a run: steps done, the mean loss before each step, the final state."""

    steps: int
    losses: list[float]
    state: object
    params: dict
    resumed_from: int
    final_loss: float


@dataclass
class TrainingFailed(CatError):
    """A training run stopped by a run error: `losses` holds the mean loss before each step
    that went through (`steps_done` of them)."""

    losses: list[float] = field(default_factory=list)
    steps_done: int = 0


def _step_and_count(morphism: Morphism) -> tuple[T.Term, int | None]:
    term = morphism.term
    body = term.body if isinstance(term, T.Ref) else term
    if isinstance(body, T.Power):
        return body.base, body.n
    return term, None


def train_definition(
    program: BaseProgram,
    name: str,
    steps: int | None = None,
    checkpoint: str | None = None,
    progress: bool = False,
) -> TrainResult:
    from catdsl.files import check_write_target
    from catdsl.semantics.checkpoint import fingerprint
    from catdsl.semantics.loop import LoopHooks

    morphism = program[name]
    step_term, power = _step_and_count(morphism)
    dom = step_term.dom
    if not (step_term.is_endo and len(dom) == 1 and isinstance(dom.atoms[0], Record)):
        raise CatError(
            [
                Diagnostic(
                    "E0805",
                    f"`{name}` is `{morphism.type_text}`, not a training step",
                    help="train an endomorphism of a parameter state, e.g. "
                    "`let step = TrainStep(loss, data, lr = 0.1)` or `step ^ 80`",
                )
            ]
        )
    n = steps if steps is not None else power
    if n is None:
        raise CatError(
            [
                Diagnostic(
                    "E0806",
                    f"how many steps? `{name}` is one step",
                    help="pass `--steps N`, or train `step ^ N`",
                )
            ]
        )
    if n < 0:
        raise CatError([Diagnostic("E0806", f"--steps must be at least 0, not {n}")])
    if checkpoint:  # a FIFO there would block the resume's read; a symlink is never replaced
        check_write_target(checkpoint)
    step = Morphism(program, name, step_term)
    hooks = LoopHooks(
        checkpoint=checkpoint,
        every=max(1, n // 20) if checkpoint else 0,
        progress=progress or None,
        identity=fingerprint(step_term),
    )
    try:
        backend = program.backend
        state = backend.initial_state(step.diagram, program.params)
        final = backend.train(step.plan, state, n, params=program.params, hooks=hooks)
        final_loss = _loss_at(step, final, program)
    except CatRuntimeError as err:
        losses = list(hooks.loss_history)
        diagnostic = err.diagnostic
        if losses:
            rows = ", ".join(f"step {i} {loss:.6f}" for i, loss in sampled(losses))
            note = f"the losses so far, as `catdsl train` prints them: {rows}"
            diagnostic = dataclasses.replace(diagnostic, notes=(*diagnostic.notes, note))
        raise TrainingFailed(
            [diagnostic], program.checked.sources, losses, hooks.steps_done
        ) from None
    value = final[0]
    params = value if dom.atoms[0].kind == "Params" else value["params"]
    return TrainResult(
        hooks.steps_done, list(hooks.loss_history), value, params, hooks.resumed_from, final_loss
    )


def _loss_at(step: Morphism, state: tuple, program: BaseProgram) -> float:
    """The mean loss at the trained parameters: the loss a further step would start from
    (a step records the loss *before* its update, so the last one is not yet known)."""
    from catdsl.semantics.loop import LoopHooks

    probe = LoopHooks(progress=False)
    try:
        program.backend.train(step.plan, state, 1, params=program.params, hooks=probe, check=False)
    except CatRuntimeError as err:  # the last update diverged: say so, not "step 1 of 1"
        kept = err.diagnostic.notes[:-1]  # `iterate`'s note, the last, is about the probe
        note = "in the mean loss at the params the last step gave"
        err.diagnostic = dataclasses.replace(err.diagnostic, notes=(*kept, note))
        raise
    return probe.loss_history[0]


def sampled(losses: list[float], rows: int = 12) -> list[tuple[int, float]]:
    """About `rows` (step, loss) rows spread over the history, the last one included."""
    if not losses:
        return []
    stride = max(1, len(losses) // rows)
    picks = list(range(0, len(losses), stride))
    if picks[-1] != len(losses) - 1:
        picks.append(len(losses) - 1)
    return [(i, losses[i]) for i in picks]
