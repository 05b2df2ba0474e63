"""`catdsl eval`: compute a definition (a metric, say) at params read from a file.

The file is either a params file (`run --save` of a `Params(loss)` point, `train --keep-best`)
or a checkpoint that `train --checkpoint` wrote, whose state holds the params (the whole state
of `TrainStep`, the `params` field of the others).
"""

from __future__ import annotations

import numpy as np

from catdsl.errors import CatError, Diagnostic
from catdsl.files import load_named_arrays
from catdsl.frontend.program import BaseProgram
from catdsl.semantics.checkpoint import LAYOUT, load_checkpoint


def load_params_file(program: BaseProgram, path: str) -> None:
    """Set the program's params from a params file or a training checkpoint."""
    if LAYOUT not in load_named_arrays(path):
        program.load_params(path)
        return
    state, _step, _losses, _identity = load_checkpoint(path)
    value = state[0] if len(state) == 1 else None
    if isinstance(value, dict) and isinstance(value.get("params"), dict):
        value = value["params"]
    if not isinstance(value, dict) or not all(isinstance(v, np.ndarray) for v in value.values()):
        raise _unfit(path, "its state holds no params record")
    new: dict[str, np.ndarray] = {}
    for name, array in value.items():
        info = program.checked.params.get(name)
        if info is None:
            raise _unfit(path, f"it holds the param `{name}`, which {program.file} does not have")
        if array.shape != info.shape or array.dtype.kind != "f":
            raise _unfit(
                path,
                f"its param `{name}` is {array.dtype} of shape {array.shape}, "
                f"expected reals of shape {info.shape}",
            )
        new[name] = array.astype(program.dtype)
    program.params.update(new)


def _unfit(path: str, reason: str) -> CatError:
    return CatError(
        [
            Diagnostic(
                "E0810",
                f"the checkpoint `{path}` does not fit the program: {reason}",
                help="evaluate with the program whose training step wrote the checkpoint",
            )
        ]
    )
