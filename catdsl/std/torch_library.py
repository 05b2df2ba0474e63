"""`TORCH_RULES`: every standard primitive's torch rule, the table the torch backend is given
(as `library.KERNELS` is the numpy backend's).

The rules sit in torch modules of their own, not beside the numpy kernels in `std.prims`: every
one of those modules imports torch at its top, and the core must import without torch, so the
front end imports this module only when the torch backend is asked for. Three tables by
concern — std.ml's numeric primitives (`torch_rules`), std.attention's
(`torch_attention_rules`), the discrete ones: logic, comparisons, lists and evaluation metrics
(`torch_discrete_rules`) — are joined here; a name in two of them is a bug.
"""

from __future__ import annotations

from catdsl.semantics.torch_backend import TorchRule
from catdsl.std.torch_attention_rules import ATTENTION_RULES
from catdsl.std.torch_discrete_rules import DISCRETE_RULES
from catdsl.std.torch_rules import ML_RULES


def _joined(*tables: dict[str, TorchRule]) -> dict[str, TorchRule]:
    joined: dict[str, TorchRule] = {}
    for table in tables:
        for name, rule in table.items():
            if name in joined:
                raise ValueError(f"the primitive `{name}` has two torch rules")
            joined[name] = rule
    return joined


TORCH_RULES: dict[str, TorchRule] = _joined(ML_RULES, ATTENTION_RULES, DISCRETE_RULES)
"""Every standard primitive's torch rule, by name."""
