"""What the attention tests share: random per-head params and the heads computed one by one."""

from __future__ import annotations

import numpy as np

RANKS = (2, 3, 2, 3, 2, 3, 2)
MASKED_RANKS = (2, 2, 3, 2, 3, 2, 3, 2)


def params(heads: int, width: int, k: int, e: int, seed: int = 0) -> list[np.ndarray]:
    """Wq, bq, Wk, bk, Wv, bv for `self_attention` heads, random normal."""
    rng = np.random.default_rng(seed)
    shapes = [(heads, width, k), (heads, k), (heads, width, k), (heads, k)]
    shapes += [(heads, width, e), (heads, e)]
    return [rng.normal(scale=0.7, size=s) for s in shapes]


def reference(x, mask, wq, bq, wk, bk, wv, bv):
    """The heads one by one with a python loop, then concatenated: the meaning of the op."""
    outs = []
    for h in range(wq.shape[0]):
        q, k, v = x @ wq[h] + bq[h], x @ wk[h] + bk[h], x @ wv[h] + bv[h]
        s = q @ np.swapaxes(k, -1, -2) / np.sqrt(wq.shape[2])
        if mask is not None:
            s = np.where(mask, s, -1e6)
        a = np.exp(s - s.max(axis=-1, keepdims=True))
        outs.append(a / a.sum(axis=-1, keepdims=True) @ v)
    return np.concatenate(outs, axis=-1)
