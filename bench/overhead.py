"""Interpreter overhead: a catdsl training step against the same math written by hand in numpy.

Two models, each trained by full-batch SGD with the mean gradient:

- tiny: the course's next-token model (`programs/tiny_ml.cat`, `step`): lookup, affine,
  softmax, nll on 7 examples, V = 5, D = 4;
- mlp: `bench/mlp.cat`, three tanh hidden layers of width 256 and a readout to 10 classes with
  cross-entropy, on a batch of 512 (the data is generated into a temporary directory).

The catdsl side is the compiled step plan applied to the state as `f ^ n` applies it
(`run_steps`, checked as `catdsl train` runs it); the numpy side is one hand-written function
doing the same forward pass, chain-rule backward pass and update. Both run in this process,
alternating (the order flips every repetition); the figure is the median time per step over
the repetitions, and the ratio is catdsl / numpy. Before timing, both sides train a few steps
from the same parameters and must agree to 1e-9 relative (else the script exits with 1). The
minor page faults per step are shown too: on the MLP they, not the interpreter, decide the
ratio (glibc returns freed 1 MB temporaries to the kernel and faults them back in).

    .venv/bin/python bench/overhead.py                 # the table in docs/performance.md
    .venv/bin/python bench/overhead.py --profile tiny  # cProfile of catdsl's side, top 30
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import catdsl
from catdsl.semantics.loop import LoopHooks
from catdsl.semantics.plan import Plan
from catdsl.semantics.training import initial_state, run_steps

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 1.15
AGREEMENT = 1e-9  # the largest relative difference allowed between the two sides' params
FLOOR = 1e-9  # nll's clamp of p[t]

Arrays = dict[str, np.ndarray]
NumpyStep = Callable[[Arrays], Arrays]


@dataclass
class Case:
    """One benchmarked model: its compiled step, its start state and the hand-written step."""

    name: str
    plan: Plan
    state: tuple
    params: Arrays
    numpy_step: NumpyStep
    steps: int  # steps per timed repetition

    def run_catdsl(self, n: int) -> tuple:
        """n steps through catdsl, as `step ^ n` runs them."""
        hooks = LoopHooks(progress=False)
        return run_steps(self.plan, self.state, n, params=self.params, hooks=hooks)

    def run_numpy(self, n: int) -> Arrays:
        """n steps of the hand-written numpy step from the same start."""
        params = dict(self.state[0])
        for _ in range(n):
            params = self.numpy_step(params)
        return params


# ---------------------------------------------------------------- the hand-written steps


def tiny_numpy_step(tokens: np.ndarray, targets: np.ndarray, lr: float) -> NumpyStep:
    """The course model's SGD step: lookup, affine, softmax, nll (clamped), chain rule back."""
    n, rows = len(tokens), np.arange(len(tokens))

    def step(p: Arrays) -> Arrays:
        E, W, b = p["E"], p["W"], p["b"]
        h = E[tokens]
        z = h @ W + b
        e = np.exp(z - z.max(axis=1, keepdims=True))
        probs = e / e.sum(axis=1, keepdims=True)
        picked = probs[rows, targets]
        _mean = np.mean(-np.log(np.maximum(picked, FLOOR)))  # the loss catdsl records
        dpicked = np.where(picked >= FLOOR, -1.0 / (n * picked), 0.0)
        dprobs = np.zeros_like(probs)
        dprobs[rows, targets] = dpicked
        dz = probs * (dprobs - (dprobs * probs).sum(axis=1, keepdims=True))
        dE = np.zeros_like(E)
        np.add.at(dE, tokens, dz @ W.T)
        return {"E": E - lr * dE, "W": W - lr * (h.T @ dz), "b": b - lr * dz.sum(axis=0)}

    return step


def mlp_numpy_step(x: np.ndarray, labels: np.ndarray, lr: float) -> NumpyStep:
    """The MLP's SGD step: three tanh layers, a readout, cross-entropy, chain rule back."""
    n, rows = len(labels), np.arange(len(labels))
    onehot = np.zeros((n, 10))
    onehot[rows, labels] = 1.0

    def step(p: Arrays) -> Arrays:
        a1 = np.tanh(x @ p["W1"] + p["b1"])
        a2 = np.tanh(a1 @ p["W2"] + p["b2"])
        a3 = np.tanh(a2 @ p["W3"] + p["b3"])
        z = a3 @ p["W4"] + p["b4"]
        shifted = z - z.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        _mean = np.mean(np.log(total[:, 0]) - shifted[rows, labels])  # the loss catdsl records
        dz4 = (e / total - onehot) / n
        dz3 = (dz4 @ p["W4"].T) * (1 - a3 * a3)
        dz2 = (dz3 @ p["W3"].T) * (1 - a2 * a2)
        dz1 = (dz2 @ p["W2"].T) * (1 - a1 * a1)
        grads = {
            "W4": a3.T @ dz4, "b4": dz4.sum(axis=0),
            "W3": a2.T @ dz3, "b3": dz3.sum(axis=0),
            "W2": a1.T @ dz2, "b2": dz2.sum(axis=0),
            "W1": x.T @ dz1, "b1": dz1.sum(axis=0),
        }  # fmt: skip
        return {name: theta - lr * grads[name] for name, theta in p.items()}

    return step


# ---------------------------------------------------------------- the two cases


def tiny_case() -> Case:
    """The course's tiny model, `programs/tiny_ml.cat`, `step` (lr 1.0 on 7 pairs)."""
    program = catdsl.load(str(ROOT / "programs" / "tiny_ml.cat"))
    step = program["step"]
    corpus = np.array([1, 2, 3, 4, 1, 2, 3, 4])
    numpy_step = tiny_numpy_step(corpus[:-1], corpus[1:], lr=1.0)
    state = initial_state(step.diagram, program.params)
    return Case("tiny (V=5, D=4, 7 pairs)", step.plan, state, program.params, numpy_step, 200)


def mlp_case(directory: Path) -> Case:
    """`bench/mlp.cat` with 512 random examples saved next to a copy of it (lr 0.1)."""
    rng = np.random.default_rng(0)
    x, labels = rng.standard_normal((512, 64)), rng.integers(0, 10, 512)
    np.savez(directory / "mlp_data.npz", x=x, y=labels)
    shutil.copy(ROOT / "bench" / "mlp.cat", directory / "mlp.cat")
    program = catdsl.load(str(directory / "mlp.cat"))
    step = program["step"]
    state = initial_state(step.diagram, program.params)
    numpy_step = mlp_numpy_step(x, labels, lr=0.1)
    return Case("mlp (3x256 tanh, 512 rows)", step.plan, state, program.params, numpy_step, 5)


# ---------------------------------------------------------------- measuring


def agree(case: Case, steps: int = 10) -> float:
    """The largest relative difference between both sides' params after `steps` steps."""
    ours, theirs = case.run_catdsl(steps)[0], case.run_numpy(steps)
    return max(
        float(np.max(np.abs(ours[k] - theirs[k]) / (np.abs(theirs[k]) + 1e-300))) for k in theirs
    )


def per_step(run: Callable[[int], object], n: int) -> tuple[float, float]:
    """Seconds and minor page faults per step of one repetition of n steps."""
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start = time.perf_counter()
    run(n)
    seconds = (time.perf_counter() - start) / n
    return seconds, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / n


def measure(case: Case, repetitions: int) -> list[tuple[float, float]]:
    """Median (seconds, page faults) per step of catdsl, then of numpy, interleaved, the
    order flipping each repetition."""
    ours: list[tuple[float, float]] = []
    theirs: list[tuple[float, float]] = []
    for _ in range(3):  # warm up caches, BLAS threads, the plan's reverse steps
        case.run_catdsl(case.steps), case.run_numpy(case.steps)
    for i in range(repetitions):
        pair = [(case.run_catdsl, ours), (case.run_numpy, theirs)]
        for run, samples in pair if i % 2 == 0 else pair[::-1]:
            samples.append(per_step(run, case.steps))
    return [tuple(map(statistics.median, zip(*side, strict=True))) for side in (ours, theirs)]


def profile(case: Case, steps: int) -> None:
    """Print cProfile's top 30 functions (by own time) of catdsl's side."""
    case.run_catdsl(case.steps)
    profiler = cProfile.Profile()
    profiler.runcall(case.run_catdsl, steps)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repetitions", type=int, default=41, help="timed repetitions per side")
    parser.add_argument("--profile", choices=("tiny", "mlp"), help="profile one case instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="catdsl-bench-") as temp:
        cases = {"tiny": tiny_case(), "mlp": mlp_case(Path(temp))}
        if args.profile:
            profile(cases[args.profile], 2000 if args.profile == "tiny" else 40)
            return
        print(
            f"{'case':<28} {'catdsl':>12} {'numpy':>12} {'ratio':>6}  "
            f"{'faults/step':>11}  max rel. diff"
        )
        for case in cases.values():
            difference = agree(case)
            if not difference <= AGREEMENT:
                raise SystemExit(f"{case.name}: the two sides differ by {difference:.1e}")
            (ours, our_faults), (theirs, their_faults) = measure(case, args.repetitions)
            ratio = ours / theirs
            mark = "ok" if ratio <= TARGET_RATIO else f"above {TARGET_RATIO}"
            print(
                f"{case.name:<28} {ours * 1e6:>9.1f} µs {theirs * 1e6:>9.1f} µs {ratio:>5.2f}x"
                f"  {our_faults:>5.0f} {their_faults:>5.0f}  {difference:.1e}  ({mark})"
            )


if __name__ == "__main__":
    main()
