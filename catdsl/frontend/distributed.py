"""`catdsl train FILE NAME --backend torch --nproc N`: one training run as N processes of
`torch.distributed` (data parallel).

Each process loads and checks the program, binds it on the torch backend, and trains the same
step from the same params; its objective computes every gradient over its share of the examples
(`torch_training.DataParallel`) and one `all_reduce` sums the shares, so every process applies
the same full-batch (or full-minibatch) update and holds the same state. Only rank 0 writes
checkpoints and the best params, and shows progress; its result is the run's.

The processes are started by `torch.multiprocessing` on this machine and meet through a file in
a private temporary directory (no network): `gloo` on the CPU, `nccl` on CUDA (rank r on GPU r).
Under `torchrun` (its `RANK`, `WORLD_SIZE`, `MASTER_ADDR` and `MASTER_PORT`), each process
started by it trains as its rank instead (`torchrun_rank`), across machines too.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from catdsl.errors import CatError
from catdsl.frontend.training_run import TrainingFailed, TrainResult, train_definition


@dataclass(frozen=True)
class Job:
    """What every process trains: the file and how to load it, the step and its options (the
    keyword arguments of `train_definition`)."""

    file: str
    name: str
    dtype: str = "float64"
    device: str = "cpu"
    allow_read: tuple[str, ...] = ()
    plugins: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)


def train_parallel(job: Job, nproc: int) -> TrainResult:
    """Train `job` as `nproc` processes on this machine; rank 0's result (its error, raised
    here, when the run fails)."""
    from catdsl.semantics.torch_backend import import_torch

    torch = import_torch()
    if job.device == "cuda" and torch.cuda.device_count() < nproc:
        found = torch.cuda.device_count()
        raise ValueError(f"--nproc {nproc} on cuda needs {nproc} GPUs, this machine has {found}")
    import torch.multiprocessing as mp

    with tempfile.TemporaryDirectory(prefix="catdsl-ddp-") as scratch:
        store = os.path.join(scratch, "rendezvous")
        outcome = os.path.join(scratch, "outcome.pickle")
        mp.spawn(_spawned, args=(nproc, store, outcome, job), nprocs=nproc, join=True)
        with open(outcome, "rb") as file:
            kind, value = pickle.load(file)
    if kind == "failed":
        diagnostics, sources, losses, steps_done = value
        raise TrainingFailed(diagnostics, sources, losses, steps_done)
    if kind == "error":
        diagnostics, sources = value
        raise CatError(diagnostics, sources)
    return value


def _spawned(rank: int, world: int, store: str, outcome: str, job: Job) -> None:
    """One process started by `train_parallel`: join through the file `store`, train, and (rank
    0) write the outcome."""
    import torch.distributed as dist

    engine = "nccl" if job.device == "cuda" else "gloo"
    dist.init_process_group(engine, init_method=f"file://{store}", rank=rank, world_size=world)
    try:
        kind, value = train_rank(job, rank, world, dist)
        if rank == 0:  # read by the parent once every process has ended
            with open(outcome, "wb") as file:
                pickle.dump((kind, value), file)
    finally:
        dist.destroy_process_group()


def train_rank(job: Job, rank: int, world: int, distributed: Any) -> tuple[str, Any]:
    """Train `job` as rank `rank` of `world` in the initialised process group: ("result",
    TrainResult), or the failure's parts ("failed" / "error")."""
    from catdsl.frontend.api import load_program
    from catdsl.frontend.backends import named_backend
    from catdsl.semantics.torch_training import DataParallel
    from catdsl.std.plugins import PluginResolver, import_plugin_module

    device = f"cuda:{rank % max(1, _gpus())}" if job.device == "cuda" else "cpu"
    sets = [s for target in job.plugins for s in import_plugin_module(target)]
    engine = named_backend("torch", job.dtype, device)
    try:
        plugins = PluginResolver.of(sets).given.values()
        program = load_program(job.file, job.dtype, engine, job.allow_read, plugins)
        program.backend.parallel = DataParallel(rank, world, distributed)  # type: ignore[attr-defined]
        options = dict(job.options)
        if rank:
            options["progress"] = False
        return "result", train_definition(program, job.name, saves=rank == 0, **options)
    except TrainingFailed as err:
        return "failed", (err.diagnostics, err.sources, err.losses, err.steps_done)
    except CatError as err:
        return "error", (err.diagnostics, err.sources)


def _gpus() -> int:
    import torch

    return int(torch.cuda.device_count())


def torchrun_rank() -> tuple[int, int] | None:
    """(rank, world size) when this process was started by `torchrun` for more than one
    process, else None."""
    rank, world = os.environ.get("RANK"), os.environ.get("WORLD_SIZE")
    if rank is None or world is None or int(world) < 2:
        return None
    return int(rank), int(world)


def train_torchrun(job: Job, rank: int, world: int) -> TrainResult | None:
    """Train `job` as the rank `torchrun` gave this process: rank 0's result, None on the
    others (which print nothing)."""
    import torch.distributed as dist

    engine = "nccl" if job.device == "cuda" else "gloo"
    dist.init_process_group(engine, init_method="env://", rank=rank, world_size=world)
    try:
        kind, value = train_rank(job, rank, world, dist)
    finally:
        dist.destroy_process_group()
    if kind == "failed":
        diagnostics, sources, losses, steps_done = value
        raise TrainingFailed(diagnostics, sources, losses, steps_done)
    if kind == "error":
        raise CatError(*value)
    return value if rank == 0 else None


def job_of(args: Any, options: dict[str, Any], plugins: Sequence[str]) -> Job:
    """The job of `catdsl train`'s parsed arguments."""
    return Job(
        args.file,
        args.name,
        args.dtype,
        args.device,
        tuple(str(p) for p in args.allow_read),
        tuple(plugins),
        options,
    )
