"""One SGD training step of the Transformer block, catdsl against the same math in PyTorch.

The step: hidden sequences in (N × T × d, no embedding), the course's post-norm block with
causal self-attention (H heads of width d/H, output projection, residual, LayerNorm, ReLU
feed-forward, residual, LayerNorm), a readout to V logits per position, the sequence
cross-entropy averaged over every position, then θ ← θ − lr·∇θ for every param. catdsl runs
the compiled `TrainStep` of a generated program (`self_attention`-style batched attention, fused
softmax–cross-entropy); PyTorch runs eager CPU autograd on the same params with
`scaled_dot_product_attention`, `layer_norm` and `cross_entropy`, in float64.

Both sides run in this process, on the same number of threads (`--threads`, set for OpenBLAS
before numpy loads and for torch), alternating, the order flipping each repetition; the figure
is the median time per step and the ratio is catdsl / PyTorch. Before timing, one step on each
side from the same params must agree to 1e-9 of each param's largest entry (or of 1) (else
the script exits with 1).

It then times a plain checked call of a compiled morphism, a chain of 1,000 boxes
(`linear(W) >> tanh`, 500 times, on one 64-wide vector), against the same numpy loop,
with every box scanned for NaN/inf (the first way), and as a plain call runs it (boundary checks,
floating-point flags, straight-line code, trusted kernels: a rerun scans when a flag is raised),
alternating likewise; `--chain-only` times only this.

    .venv/bin/python bench/transformer.py                 # the tables in docs/performance.md
    .venv/bin/python bench/transformer.py --profile small # cProfile of catdsl's side
    .venv/bin/python bench/transformer.py --chain-only --cpu   # the chain, by CPU time
    valgrind --tool=cachegrind .venv/bin/python bench/transformer.py --calls call 100 500
"""

from __future__ import annotations

import argparse
import os
import sys

if __name__ == "__main__":  # the thread count must be fixed before numpy loads OpenBLAS
    _threads = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "1"
    for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_name] = _threads

import cProfile
import pstats
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import catdsl
from catdsl.semantics.loop import LoopHooks
from catdsl.semantics.plan import RunContext
from catdsl.semantics.training import initial_state, run_steps

TARGET_RATIO = 1.0
AGREEMENT = 1e-9
LR = 0.1


@dataclass(frozen=True)
class Size:
    name: str
    d: int
    t: int
    v: int
    n: int
    heads: int
    ffn: int
    steps: int  # steps per timed repetition


SIZES = (
    Size("course", 4, 3, 5, 2, 2, 8, 200),
    Size("small", 64, 32, 100, 16, 4, 256, 10),
    Size("medium", 256, 64, 1000, 8, 8, 1024, 2),
)

PROGRAM = """
import std.ml
import std.attention
dim T
dim D = {d}
dim V = {v}
dim H = {heads}
dim K = {k}
dim F = {ffn}
object Hidden : Real[T, D]
object Mask : AllowMask[T, T]
object MultiHeadOutput : Real[T, H * K]
object Projected : Real[T, D]
object Logits : Real[T, V]
object Targets : Index[T, V]
object Loss : Real
param Wq : Real[H, D, K] = normal(0, {scale}, seed = 1)
param bq : Real[H, K] = zeros
param Wk : Real[H, D, K] = normal(0, {scale}, seed = 2)
param bk : Real[H, K] = zeros
param Wv : Real[H, D, K] = normal(0, {scale}, seed = 3)
param bv : Real[H, K] = zeros
param Wo : Real[H * K, D] = normal(0, {scale}, seed = 4)
param bo : Real[D] = zeros
param g1 : Real[D] = ones
param s1 : Real[D] = zeros
param W1 : Real[D, F] = normal(0, {scale}, seed = 5)
param b1 : Real[F] = zeros
param W2 : Real[F, D] = normal(0, {scale}, seed = 6)
param b2 : Real[D] = zeros
param g2 : Real[D] = ones
param s2 : Real[D] = zeros
param Wr : Real[D, V] = normal(0, {scale}, seed = 7)
param br : Real[V] = zeros
morphism Attend : Hidden * Mask -> MultiHeadOutput = masked_self_attention(Wq, bq, Wk, bk, Wv, bv)
morphism Project : MultiHeadOutput -> Projected = affine(Wo, bo)
morphism Residual : Hidden * Projected -> Hidden = residual
morphism HiddenResidual : Hidden * Hidden -> Hidden = residual
morphism Norm1 : Hidden -> Hidden = layer_norm(g1, s1)
morphism FeedForward : Hidden -> Hidden = ffn(W1, b1, W2, b2)
morphism Norm2 : Hidden -> Hidden = layer_norm(g2, s2)
morphism Readout : Hidden -> Logits = readout(Wr, br)
morphism CrossEntropy : Logits * Targets -> Loss = cross_entropy >> mean
let loss(x: Hidden, m: Mask, t: Targets) -> Loss = {{
    n1 = Norm1(Residual(x, Project(Attend(x, m))))
    return CrossEntropy(Readout(Norm2(HiddenResidual(n1, FeedForward(n1)))), t)
}}
data examples : List[Hidden * Mask * Targets] = load("data.npz")
let step = TrainStep(loss, examples, lr = {lr})
"""


def block_program(size: Size, folder: Path) -> tuple[str, tuple[np.ndarray, ...]]:
    """The block's program text at `size` and its data (x, mask, targets), also written to
    `folder`/data.npz, where the program loads it from."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((size.n, size.t, size.d))
    mask = np.broadcast_to(np.tri(size.t, dtype=bool), (size.n, size.t, size.t)).copy()
    targets = rng.integers(0, size.v, (size.n, size.t))
    np.savez(folder / "data.npz", x=x, mask=mask, targets=targets)
    text = PROGRAM.format(
        d=size.d,
        v=size.v,
        heads=size.heads,
        k=size.d // size.heads,
        ffn=size.ffn,
        scale=1 / np.sqrt(size.d),
        lr=LR,
    )
    return text, (x, mask, targets)


def catdsl_case(size: Size, folder: Path) -> tuple:
    """The compiled step, its start state, the program's params and the data arrays."""
    text, (x, _mask, targets) = block_program(size, folder)
    (folder / "block.cat").write_text(text)
    program = catdsl.load(str(folder / "block.cat"))
    step = program["step"]
    return step.plan, initial_state(step.diagram, program.params), program.params, (x, targets)


def torch_step(params: dict, x, targets, heads: int):
    """One eager PyTorch SGD step on `params` (leaf tensors, updated in place)."""
    import torch
    import torch.nn.functional as F

    p = params
    n, t, d = x.shape
    k = d // heads
    wq = p["Wq"].permute(1, 0, 2).reshape(d, heads * k)
    wk = p["Wk"].permute(1, 0, 2).reshape(d, heads * k)
    wv = p["Wv"].permute(1, 0, 2).reshape(d, heads * k)
    q = (x @ wq + p["bq"].reshape(-1)).view(n, t, heads, k).transpose(1, 2)
    kk = (x @ wk + p["bk"].reshape(-1)).view(n, t, heads, k).transpose(1, 2)
    v = (x @ wv + p["bv"].reshape(-1)).view(n, t, heads, k).transpose(1, 2)
    attended = F.scaled_dot_product_attention(q, kk, v, is_causal=True)
    mh = attended.transpose(1, 2).reshape(n, t, d)
    a = F.layer_norm(x + mh @ p["Wo"] + p["bo"], (d,), p["g1"], p["s1"], 1e-5)
    f = torch.relu(a @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
    out = F.layer_norm(a + f, (d,), p["g2"], p["s2"], 1e-5)
    logits = out @ p["Wr"] + p["br"]
    loss = F.cross_entropy(logits.reshape(n * t, -1), targets.reshape(-1))
    grads = torch.autograd.grad(loss, list(p.values()))
    with torch.no_grad():
        for theta, g in zip(p.values(), grads, strict=True):
            theta.sub_(LR * g)
    return loss


def agree(plan, state, params, tparams, x, targets, heads) -> float:
    """The largest difference of the params after one step on each side, relative to the
    largest entry of each param or 1, whichever is larger (the key bias's gradient is 0 in
    exact arithmetic: both sides give it rounding noise)."""
    ours = run_steps(plan, state, 1, params=params, hooks=LoopHooks(progress=False))[0]
    torch_step(tparams, x, targets, heads)
    return max(
        float(np.max(np.abs(ours[k] - t.detach().numpy())) / max(np.max(np.abs(ours[k])), 1.0))
        for k, t in tparams.items()
    )


CHAIN = """
import std.ml
dim D = 64
object Hidden : Real[D]
param W : Real[D, D] = normal(0, 0.125, seed = 1)
let chain = {body}
"""


def chain_table(repetitions: int, clock=time.perf_counter, calls: tuple | None = None) -> None:
    """A plain checked call of a 1,000-box chain against the numpy loop: every box scanned (the
    first way), the plan's checked run (boundary checks, flags, straight-line code, trusted
    kernels once the shapes have passed) and the public call `program["chain"](x)`. `calls`
    (way, n, pairs) only makes n calls of one way after the warm-up, untimed, for counting
    instructions (valgrind) by the difference of two n."""
    pairs = 500 if calls is None else calls[2]
    program = catdsl.loads(CHAIN.format(body=" >> ".join(["linear(W) >> tanh"] * pairs)))
    morphism = program["chain"]
    plan, weight = morphism.plan, program.params["W"]
    x = np.random.default_rng(0).standard_normal(64)

    def scanned() -> object:  # the first checked call: a NaN/inf scan after every box
        values = plan.gather((x,), {}, program.params)
        ctx = RunContext(True, {})
        plan.check_sources(values, ctx.dims)
        return plan.execute(values, ctx)

    def boundary() -> object:
        return plan.run((x,), {}, program.params)

    def call() -> object:
        return morphism(x)

    def by_hand() -> object:
        y = x
        for _ in range(pairs):
            y = np.tanh(y @ weight)
        return y

    for _ in range(20):  # past the first runs: validated, written out
        assert np.array_equal(call(), by_hand()) and np.array_equal(boundary()[0], by_hand())
    assert np.array_equal(scanned()[0], by_hand())
    runs = {"scanned": scanned, "plan.run": boundary, "call": call, "numpy": by_hand}
    if calls is not None:
        for _ in range(calls[1]):
            runs[calls[0]]()
        return
    samples: dict[str, list[float]] = {k: [] for k in runs}
    for i in range(repetitions * len(runs)):
        order = list(runs.items())
        for key, run in order[i % len(runs) :] + order[: i % len(runs)]:
            start = clock()
            for _ in range(10):
                run()
            samples[key].append((clock() - start) / 10)
    median = {k: statistics.median(v) * 1e3 for k, v in samples.items()}
    least = {k: min(v) * 1e3 for k, v in samples.items()}
    print(f"\nplain call, 1,000-box chain (ms per call, median and min of {len(samples['call'])})")
    print(f"  {'numpy':<9} {median['numpy']:>7.2f} {least['numpy']:>7.2f}")
    for key in ("scanned", "plan.run", "call"):
        ratios = f"{median[key] / median['numpy']:.2f}x {least[key] / least['numpy']:.2f}x"
        print(f"  {key:<9} {median[key]:>7.2f} {least[key]:>7.2f}  {ratios}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repetitions", type=int, default=15, help="timed repetitions per side")
    parser.add_argument("--threads", type=int, default=1, help="threads for both sides")
    parser.add_argument("--size", choices=[s.name for s in SIZES], action="append")
    parser.add_argument("--profile", choices=[s.name for s in SIZES])
    parser.add_argument("--chain-only", action="store_true", help="only the plain-call chain")
    parser.add_argument(
        "--cpu", action="store_true", help="time by this process's CPU time (on a busy machine)"
    )
    parser.add_argument(
        "--calls",
        nargs=3,
        metavar=("WAY", "N", "PAIRS"),
        help="only N untimed calls of one way (numpy, call, plan.run, scanned) of a chain of "
        "PAIRS `linear >> tanh`, for counting instructions under valgrind",
    )
    args = parser.parse_args()
    if args.calls:
        way, n, pairs = args.calls
        chain_table(0, calls=(way, int(n), int(pairs)))
        return
    clock = time.process_time if args.cpu else time.perf_counter
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")
    if args.chain_only:
        chain_table(args.repetitions, clock)
        return
    import torch

    torch.set_num_threads(args.threads)
    chosen = [s for s in SIZES if s.name in (args.size or [s.name for s in SIZES])]
    print(f"threads {args.threads}")
    print(f"{'size':<8} {'catdsl':>12} {'pytorch':>12} {'ratio':>6}  max rel. diff")
    for size in chosen if not args.profile else [s for s in SIZES if s.name == args.profile]:
        with tempfile.TemporaryDirectory(prefix="catdsl-bench-") as temp:
            plan, state, params, (x, targets) = catdsl_case(size, Path(temp))
        hooks = LoopHooks(progress=False)

        def ours(n: int, plan=plan, state=state, params=params, hooks=hooks) -> None:
            run_steps(plan, state, n, params=params, hooks=hooks)

        if args.profile:
            ours(size.steps)
            profiler = cProfile.Profile()
            profiler.runcall(ours, size.steps * 5)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
            return

        def fresh(start: dict = state[0]) -> dict:
            return {k: torch.tensor(np.asarray(v), requires_grad=True) for k, v in start.items()}

        tx, tt = torch.tensor(x), torch.tensor(targets)
        difference = agree(plan, state, params, fresh(), tx, tt, size.heads)
        if not difference <= AGREEMENT:
            raise SystemExit(f"{size.name}: the two sides differ by {difference:.1e}")
        tparams = fresh()

        def theirs(n: int, tparams=tparams, tx=tx, tt=tt, heads=size.heads) -> None:
            for _ in range(n):
                torch_step(tparams, tx, tt, heads)

        samples: dict[str, list[float]] = {"ours": [], "theirs": []}
        for _ in range(2):
            ours(size.steps), theirs(size.steps)
        for i in range(args.repetitions):
            pair = [("ours", ours), ("theirs", theirs)]
            for key, run in pair if i % 2 == 0 else pair[::-1]:
                start = clock()
                run(size.steps)
                samples[key].append((clock() - start) / size.steps)
        a, b = statistics.median(samples["ours"]), statistics.median(samples["theirs"])
        mark = "ok" if a / b <= TARGET_RATIO else f"above {TARGET_RATIO}"
        print(
            f"{size.name:<8} {a * 1e3:>9.3f} ms {b * 1e3:>9.3f} ms {a / b:>5.2f}x  "
            f"{difference:.1e}  ({mark})",
            flush=True,
        )
    if not args.profile:
        chain_table(args.repetitions, clock)


if __name__ == "__main__":
    main()
