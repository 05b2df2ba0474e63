"""Training on the torch backend: a train box's objective whose loss runs as a `TorchPlan` and
whose gradient comes from torch's autograd.

Everything else is the numpy backend's, shared rather than copied: the box's op
(`training.TrainOp`: its family's role, hyperparameters, options and step count), the update
rules (the optimizers' specs in `catdsl.std.optim`, run on numpy copies of the state, so an
update is the same arithmetic on both backends), minibatch order, schedules and clipping
(`optimizers`), the layout of data, ports and params among the loss's sources and the errors
that explain a diverged run (`training.LossLayout`), and the hooked loop (`training.hooked_steps`:
progress, checkpoints, the loss history, resuming).

The data is evaluated once (checked) and kept on the device; each pass moves the params there,
runs the loss unchecked (the rules still refuse operands that do not fit) and, for a gradient,
pulls the output cotangent 1/N per example back by autograd. A mean loss that is not finite is
explained as on numpy: a non-finite param (R0413), else the first box a checked re-run finds
producing NaN/inf (R0415) or refusing its input, else R0606. (The numpy backend also reports a
mean loss that only looks finite because `nll`'s floor hides a probability of 0 — R0606 at the
`nll` box; the torch rules keep no such record, so on torch that run goes on with a zero
gradient there.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from catdsl.diagram.ir import Diagram
from catdsl.errors import CatRuntimeError
from catdsl.semantics.kernel import EVALUATION, Mode
from catdsl.semantics.torch_plan import TensorRun, TorchPlan, to_numpy
from catdsl.semantics.training import LossLayout
from catdsl.semantics.values import zeros_like


@dataclass(frozen=True)
class DataParallel:
    """This process's part of a data-parallel run: its rank among `world` processes, and the
    `torch.distributed` module whose process group is initialised (`all_reduce` sums)."""

    rank: int
    world: int
    distributed: Any

    def shard(self, rows: np.ndarray) -> np.ndarray:
        """This rank's share of the examples `rows`: the world's near-equal contiguous parts
        (the first N mod world parts one longer), so every example is one rank's."""
        return np.array_split(rows, self.world)[self.rank]


class TorchObjective(LossLayout):
    """The mean loss over the data and its gradient w.r.t. the params, on torch."""

    def __init__(
        self,
        loss: TorchPlan,
        loss_diagram: Diagram,
        data: tuple | None,
        label: str,
        to_tensor: Any,
        torch: Any,
        parallel: DataParallel | None = None,
    ):
        """`data` is the flat tuple of the data point's numpy arrays (None without data);
        `to_tensor` puts a numpy value on the backend's device in its dtype; with `parallel`,
        each gradient is computed over this rank's share of the examples and summed over the
        ranks (`_parallel_gradient`)."""
        super().__init__(loss, loss_diagram, data, label)
        self.plan = loss
        self.torch, self.to_tensor = torch, to_tensor
        self.parallel = parallel if data is not None else None  # no data: nothing to share
        self._loss_shape: tuple[int, ...] = ()  # of a mean loss, known after a pass
        self.tensors: list[Any] = [None if v is None else to_tensor(v) for v in self.values]
        self._validated: tuple | None = None  # the param shapes of a validated pass

    def _sources(
        self, values: list, rows: np.ndarray | None = None, watch: bool = False
    ) -> tuple[list, dict[str, Any]]:
        """The loss plan's source tensors for the numpy `values` (the data already on the
        device, only the examples `rows` when given) and, with `watch`, the float params as
        leaves recording gradients, by name."""
        tensors = list(self.tensors)
        if rows is not None:
            index = self.torch.as_tensor(rows, device=self.tensors[0].device)
            for position in self.data_positions:
                tensors[position] = tensors[position][index]
        leaves: dict[str, Any] = {}
        for position, name in self.param_slots:
            tensor = self.to_tensor(values[position])
            if watch and getattr(tensor, "is_floating_point", lambda: False)():
                leaves[name] = tensor.requires_grad_(True)
            tensors[position] = tensor
        return tensors, leaves

    def mean(self, params: Mapping[str, np.ndarray]) -> np.ndarray:
        """The mean loss at `params`."""
        values = self._values(params)
        tensors, _ = self._sources(values)
        try:
            with self.torch.no_grad():
                (loss,) = self.plan.execute(tensors, TensorRun(False, {}))
        except CatRuntimeError:
            self._explain(values)
            raise
        mean = self._checked_mean(to_numpy(loss), values)
        self._loss_shape = mean.shape
        return mean

    def mean_and_gradient(
        self,
        params: Mapping[str, np.ndarray],
        rows: np.ndarray | None = None,
        mode: Mode = EVALUATION,
    ) -> tuple[np.ndarray, dict]:
        """The mean loss and its gradient over every example or only the examples `rows`
        (a minibatch's: every example is run once first, as on numpy, so a bad example in a
        later batch is reported where the numpy backend reports it). Rules that ask for it
        (`dropout`) run in `mode`, the training step's."""
        values = self._values(params)
        layout = tuple(np.shape(values[p]) for p, _ in self.param_slots)
        if (rows is not None or self.parallel is not None) and layout != self._validated:
            self.mean(params)  # every example checked on every rank: a refusal is everyone's
        if self.parallel is not None:
            return self._parallel_gradient(values, rows, mode, layout)
        count = self.count if rows is None else len(rows)
        tensors, leaves = self._sources(values, rows, watch=True)
        try:
            with self.torch.enable_grad():
                (loss,) = self.plan.execute(tensors, TensorRun(False, {}, mode))
        except CatRuntimeError:
            self._explain(values, mode)
            raise
        mean = self._checked_mean(to_numpy(loss), values, False, mode, count)
        self._validated = layout
        weight = 1.0 if count is None else 1.0 / count
        names = list(leaves)
        found: tuple = (None,) * len(names)
        if names and loss.requires_grad:
            seed = self.torch.full_like(loss, weight)
            watched = [leaves[n] for n in names]
            found = self.torch.autograd.grad((loss,), watched, (seed,), allow_unused=True)
        by_name = dict(zip(names, found, strict=True))
        grads = {}
        for position, name in self.param_slots:
            grad = by_name.get(name)
            grads[name] = zeros_like(values[position]) if grad is None else to_numpy(grad)
        return mean, grads

    def _checked_run(self, values: list, mode: Mode) -> None:
        tensors, _ = self._sources(values)
        with self.torch.no_grad():
            self.plan.execute(tensors, TensorRun(True, {}, mode))

    def _parallel_gradient(
        self, values: list, rows: np.ndarray | None, mode: Mode, layout: tuple
    ) -> tuple[np.ndarray, dict]:
        """The mean loss and gradient over `rows` (every example when None) from the ranks'
        sums: each rank sums the losses and gradients of its share (an empty share adds
        zeros), one `all_reduce` adds them up, and the totals are divided by the count, so
        shares of any sizes give the full batch's mean."""
        assert self.parallel is not None and self.count is not None
        chosen = np.arange(self.count) if rows is None else rows
        mine = self.parallel.shard(chosen)
        tensors, leaves = self._sources(values, mine, watch=True)
        torch = self.torch
        params = [leaves.get(name) for _, name in self.param_slots]
        if len(mine):
            try:
                with torch.enable_grad():
                    (loss,) = self.plan.execute(tensors, TensorRun(False, {}, mode))
            except CatRuntimeError:
                self._explain(values, mode)
                raise
            watched = [p for p in params if p is not None]
            found = list(
                torch.autograd.grad((loss,), watched, (torch.ones_like(loss),), allow_unused=True)
                if watched and loss.requires_grad
                else [None] * len(watched)
            )
            total = loss.detach().sum(0)
        else:
            found = [None] * sum(p is not None for p in params)
            total = torch.zeros(self._loss_shape, dtype=tensors[0].dtype, device=tensors[0].device)
        sums, parts = [total.reshape(-1)], []
        for (position, _), leaf in zip(self.param_slots, params, strict=True):
            grad = found.pop(0) if leaf is not None else None
            if leaf is not None:
                grad = torch.zeros_like(leaf) if grad is None else grad
                sums.append(grad.reshape(-1))
            parts.append((position, leaf))
        flat = torch.cat(sums)
        self.parallel.distributed.all_reduce(flat)
        flat = to_numpy(flat) / len(chosen)
        size = int(np.prod(self._loss_shape))
        mean = flat[:size].reshape(self._loss_shape)
        if not np.isfinite(mean).all():
            self._not_finite(values, False, mode)
        self._validated = layout
        grads, offset = {}, size
        for (position, name), (_, leaf) in zip(self.param_slots, parts, strict=True):
            if leaf is None:
                grads[name] = zeros_like(values[position])
                continue
            n = leaf.numel()
            grads[name] = flat[offset : offset + n].reshape(tuple(leaf.shape))
            offset += n
        return mean, grads
