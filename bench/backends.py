"""A forward pass and an SGD training step on numpy and on PyTorch: where PyTorch starts to pay.

Cases: the iris MLP of programs/classify.cat (120 flowers, 4 → 16 → 3) and the Transformer
block of bench/transformer.py (post-norm, causal attention, ReLU feed-forward, readout,
sequence cross-entropy) at three sizes: small (d 64, T 32, V 100, 16 sequences, 4 heads, FFN
256), medium (d 256, T 64, V 1000, 8 sequences, 8 heads, FFN 1024) and large (d 512, T 128,
V 8000, 16 sequences, 8 heads, FFN 2048). Each is timed, in float64, as

- numpy: catdsl's numpy backend (a checked call of the compiled forward; one `TrainStep`);
- torch backend: the same call with `backend="torch"` (forward only; numpy in and out);
- to_torch: `program.to_torch(...)` eager (forward under `no_grad`; a step is zero_grad,
  `loss(...).mean().backward()` and `torch.optim.SGD.step()`);
- compiled: that module under `torch.compile` (`--compile-backend`, inductor by default); the
  compile time is reported apart, and the timed calls come after it.

The median of `--repetitions` timings is printed per cell in milliseconds. `--device cuda`
runs the torch columns on a GPU (skipped, with a line saying so, where there is none).

    .venv/bin/python bench/backends.py                    # the table in docs/performance.md
    .venv/bin/python bench/backends.py --case small --compile-backend aot_eager
"""

from __future__ import annotations

import argparse
import os
import sys

if __name__ == "__main__":  # the thread count must be fixed before numpy loads OpenBLAS
    _threads = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "1"
    for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_name] = _threads

import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import catdsl
from catdsl.semantics.loop import LoopHooks
from catdsl.semantics.training import initial_state, run_steps

REPO = Path(__file__).resolve().parent.parent
LR = 0.1


@dataclass(frozen=True)
class Block:
    name: str
    d: int
    t: int
    v: int
    n: int
    heads: int
    ffn: int


BLOCKS = (
    Block("small", 64, 32, 100, 16, 4, 256),
    Block("medium", 256, 64, 1000, 8, 8, 1024),
    Block("large", 512, 128, 8000, 16, 8, 2048),
)

FORWARD = """
let forward(x: Hidden, m: Mask) -> Logits = {
    n1 = Norm1(Residual(x, Project(Attend(x, m))))
    return Readout(Norm2(HiddenResidual(n1, FeedForward(n1))))
}
"""

MLP = """
import "classify.cat"

let sgd = TrainStep(loss, train, lr = 0.1)
"""


@dataclass
class Case:
    """One model: its program, the names of its forward, loss and step, and their inputs."""

    name: str
    path: str
    forward: str
    loss: str
    step: str
    inputs: tuple[np.ndarray, ...]  # of the forward
    targets: np.ndarray  # the loss's last input


def block_case(size: Block, folder: Path) -> Case:
    """The Transformer block of bench/transformer.py at `size`, with a forward definition."""
    from transformer import block_program

    text, (x, mask, targets) = block_program(size, folder)
    path = folder / f"{size.name}.cat"
    path.write_text(text + FORWARD)
    return Case(size.name, str(path), "forward", "loss", "step", (x, mask), targets)


def mlp_case() -> Case:
    """The iris MLP on its 120 training flowers, with a full-batch SGD step."""
    path = REPO / "programs" / "bench_mlp.cat"  # a name only: the text is given
    program = catdsl.loads(MLP, file=str(path))
    measurements, species = program["train"]()
    return Case("iris MLP", str(path), "scores", "loss", "sgd", (measurements,), species)


def load(case: Case, **options: str) -> catdsl.Program:
    if case.name == "iris MLP":
        return catdsl.loads(MLP, file=case.path, **options)
    return catdsl.load(case.path, **options)


def median_ms(run: Callable[[], object], repetitions: int) -> float:
    """The median time of `run` in milliseconds, after one untimed call."""
    run()
    samples = []
    for _ in range(repetitions):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3


def time_case(case: Case, args: argparse.Namespace) -> dict[str, float]:
    """Every cell of one row, in milliseconds (compile times in seconds, as `compile ...`)."""
    import torch

    cells: dict[str, float] = {}
    program = load(case)
    forward = program[case.forward]
    cells["numpy forward"] = median_ms(lambda: forward.run(case.inputs, {}), args.repetitions)
    step = program[case.step]
    state = initial_state(step.diagram, program.params)
    hooks = LoopHooks(progress=False)
    cells["numpy step"] = median_ms(
        lambda: run_steps(step.plan, state, 1, params=program.params, hooks=hooks),
        args.repetitions,
    )
    on_torch = load(case, backend="torch", device=args.device)[case.forward]
    cells["backend forward"] = median_ms(lambda: on_torch.run(case.inputs, {}), args.repetitions)
    device = torch.device(args.device)
    inputs = [torch.as_tensor(a, device=device) for a in case.inputs]
    targets = torch.as_tensor(case.targets, device=device)
    model = program.to_torch(case.forward, device=args.device)
    loss = program.to_torch(case.loss, device=args.device)
    optimizer = torch.optim.SGD(loss.parameters(), lr=LR)

    def train(fn: Callable[..., torch.Tensor]) -> Callable[[], None]:
        def one() -> None:
            optimizer.zero_grad()
            fn(*inputs, targets).mean().backward()
            optimizer.step()

        return one

    def infer(fn: Callable[..., torch.Tensor]) -> Callable[[], None]:
        def one() -> None:
            with torch.no_grad():
                fn(*inputs)

        return one

    cells["eager forward"] = median_ms(infer(model), args.repetitions)
    cells["eager step"] = median_ms(train(loss), args.repetitions)
    if args.compile_backend != "none":
        for key, fn, wrap in (("forward", model, infer), ("step", loss, train)):
            torch._dynamo.reset()
            compiled = wrap(torch.compile(fn, backend=args.compile_backend))
            start = time.perf_counter()
            compiled()
            cells[f"compile {key}"] = time.perf_counter() - start
            cells[f"compiled {key}"] = median_ms(compiled, args.repetitions)
    return cells


COLUMNS = (
    "numpy forward",
    "backend forward",
    "eager forward",
    "compiled forward",
    "numpy step",
    "eager step",
    "compiled step",
)


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    names = ["mlp", *(b.name for b in BLOCKS)]
    parser.add_argument("--case", choices=names, action="append", help="default: all")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="threads for numpy and torch")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument(
        "--compile-backend", default="inductor", help="torch.compile's backend, or none"
    )
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("--device cuda: no CUDA device here, skipped")
        return
    torch.set_num_threads(args.threads)
    chosen = args.case or names
    print(f"threads {args.threads}, device {args.device}, compile {args.compile_backend}")
    print("| case | " + " | ".join(COLUMNS) + " | compile (s) |")
    print("| --- " * (len(COLUMNS) + 2) + "|")
    for name in chosen:
        with tempfile.TemporaryDirectory(prefix="catdsl-bench-") as temp:
            if name == "mlp":
                case = mlp_case()
            else:
                case = block_case(next(b for b in BLOCKS if b.name == name), Path(temp))
            cells = time_case(case, args)
        shown = [f"{cells[c]:.2f}" if c in cells else "–" for c in COLUMNS]
        compile_s = (
            f"{cells['compile forward']:.0f} + {cells['compile step']:.0f}"
            if "compile step" in cells
            else "–"
        )
        print(f"| {case.name} | " + " | ".join(shown) + f" | {compile_s} |", flush=True)


if __name__ == "__main__":
    main()
