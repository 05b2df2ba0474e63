"""The `mish` activation, x·tanh(softplus(x)), as a catdsl plugin: `import plugin.mish`."""

import numpy as np

import catdsl

prims = catdsl.PrimitiveSet("mish")


@prims.primitive("Real[*s] -> Real[*s]")
def mish(x):
    """x·tanh(softplus(x)), a smooth ReLU-like activation"""
    return x * np.tanh(np.logaddexp(0.0, x))


@mish.vjp
def mish_vjp(dy, x):
    t = np.tanh(np.logaddexp(0.0, x))  # softplus(x) = log(1 + e^x), computed stably
    sigmoid = np.exp(-np.logaddexp(0.0, -x))  # softplus'(x)
    return dy * (t + x * (1.0 - t * t) * sigmoid)
