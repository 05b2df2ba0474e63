"""A compiled definition as a `torch.nn.Module`, so PyTorch code can train, compile and export it.

The module holds a `TorchPlan` (the definition bound to torch rules) and the params the
definition reads as `nn.Parameter`s named as in the program; `forward` runs the plan on tensors
without the backend's numpy-side checks, so autograd sees every operation and `torch.optim`,
`torch.compile` and `torch.export` work on it as on any module. The rules still refuse the
operands the kernels refuse (an index out of range, non-finite logits) with the kernels' codes.
`Recorded` and `Replayed` let `torch.export` trace those value tests: each is answered as it
was on an example run whose checks passed, and asserted in the graph.

Importing this module imports torch: the front end imports it only when a module is asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from catdsl.semantics.kernel import EVALUATION, Mode
from catdsl.semantics.torch_backend import TensorRun, TorchPlan


class DefinitionModule(nn.Module):
    """A definition's forward pass on tensors: its inputs positionally, its ports by keyword,
    its params as this module's parameters; one output tensor, or a tuple of them.

    The run's mode follows `self.training`, as PyTorch's own modules do: after `module.train()`
    (a new module's state) each forward is a training step's pass, numbered from 1 in
    `steps`, so `dropout` drops the entries `catdsl train` drops at that step; after
    `module.eval()` it is the identity."""

    def __init__(self, plan: TorchPlan, params: Mapping[str, torch.Tensor]):
        super().__init__()
        self.steps = 0  # the training-mode forward passes so far
        self.plan = plan
        self.definition = plan.name or "morphism"
        self.ports = tuple(s.name for s in plan.sources if s.kind == "port")
        for source in plan.sources:
            if source.kind == "param":
                self.register_parameter(source.name, nn.Parameter(params[source.name]))

    def forward(self, *inputs: Any, **ports: Any) -> Any:
        """The definition's outputs for `inputs` (one tensor per domain wire) and `ports`."""
        unknown = [name for name in ports if name not in self.ports]
        if unknown:
            raise TypeError(
                f"`{self.definition}` has no port `{unknown[0]}` "
                f"(ports: {', '.join(self.ports) or 'none'})"
            )
        params = dict(self.named_parameters(recurse=False))
        values = self.plan.gather(inputs, ports, params)
        mode = EVALUATION
        if self.training:
            self.steps += 1
            mode = Mode(True, self.steps)
        outputs = self.plan.execute(values, TensorRun(False, {}, mode))
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def extra_repr(self) -> str:
        return f"definition={self.definition}, ports={list(self.ports)}"


class Recorded(TorchFunctionMode):
    """While active, the truth value of every tensor a rule tests (`if bad.any(): ...`), in
    order: what a trace of the same run is told (`Replayed`)."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[bool] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        if func is torch.Tensor.__bool__:
            self.answers.append(bool(result))
        return result


class Replayed(TorchFunctionMode):
    """While active (around `torch.export`), each truth test of a tensor is answered as the
    recorded run answered it, so the trace takes the path of a run whose checks pass; with
    `assert_answers`, the graph asserts each answer at run time (`torch._assert_async`), so
    the traced program refuses what the rules refuse."""

    def __init__(self, answers: list[bool], assert_answers: bool):
        super().__init__()
        self.answers = iter(answers)
        self.assert_answers = assert_answers

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is not torch.Tensor.__bool__:
            return func(*args, **(kwargs or {}))
        answer = next(self.answers, None)
        if answer is None:
            raise RuntimeError("the trace tested more values than the recorded run")
        if self.assert_answers:
            tested = args[0] if answer else ~args[0].bool()
            torch._assert_async(tested.bool(), "a check of the definition's rules failed")
        return answer

    def unused(self) -> int:
        """How many recorded answers the trace did not ask for (0 when it took the run's path)."""
        return sum(1 for _ in self.answers)
