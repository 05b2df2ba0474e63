"""Checks of primitives' static arguments, run by the checker before a signature is built.

A primitive's `PrimSpec.validate` is a function of the static values that returns the argument
at fault and what is wrong with it (the checker reports E0360 at that argument), or None. The
builders here make such functions from one rule per argument, so `clip` says "`lo` must not
exceed `hi`" at check time instead of its kernel refusing at run time. Every rule also accepts
values the checker never produces (strings, None) and refuses them, so a kernel built by hand
gets the same answer from `make_kernel`'s R0404.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from catdsl.errors import CatRuntimeError

Fault = tuple[str, str] | None
"""The argument at fault and what is wrong with it, or None."""

Rule = Callable[[Mapping[str, object]], Fault]
"""One check of the static values."""


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def required(key: str, example: str) -> Rule:
    """`key` has a value (it has no default)."""

    def rule(values: Mapping[str, object]) -> Fault:
        return None if key in values else (key, f"needs a value, e.g. `{example}`")

    return rule


def whole(key: str, low: int, high: int | None = None) -> Rule:
    """`key`, when given, is a whole number from `low` to `high` (no upper end when None)."""

    def rule(values: Mapping[str, object]) -> Fault:
        if key not in values:
            return None
        value = values[key]
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= low
        if ok and (high is None or value <= high):  # type: ignore[operator]
            return None
        span = f"from {low} to {high}" if high is not None else f"of {low} or more"
        return key, f"must be a whole number {span}, not {value}"

    return rule


def real(
    key: str,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    open_low: bool = False,
    open_high: bool = False,
) -> Rule:
    """`key`, when given, is a number in the interval from `low` to `high` (ends open when
    asked); NaN is never in it."""

    def rule(values: Mapping[str, object]) -> Fault:
        if key not in values:
            return None
        value = values[key]
        if not _number(value) or math.isnan(float(value)):  # type: ignore[arg-type]
            return key, f"must be a number, not {value}"
        x = float(value)  # type: ignore[arg-type]
        if (x < low or (open_low and x == low)) or (x > high or (open_high and x == high)):
            left = "(" if open_low or math.isinf(low) else "["
            right = ")" if open_high or math.isinf(high) else "]"
            return key, f"must lie in {left}{_show(low)}, {_show(high)}{right}, not {value}"
        return None

    return rule


def ordered(low: str, high: str) -> Rule:
    """The value of `low` does not exceed that of `high` (both numbers when given)."""

    def rule(values: Mapping[str, object]) -> Fault:
        a, b = values.get(low), values.get(high)
        if _number(a) and _number(b) and float(a) > float(b):  # type: ignore[arg-type]
            return low, f"({a}) must not exceed `{high}` ({b})"
        return None

    return rule


def every(*rules: Rule) -> Callable[[Mapping[str, object]], Fault]:
    """The first fault any of `rules` finds, in order."""

    def check(values: Mapping[str, object]) -> Fault:
        for rule in rules:
            fault = rule(values)
            if fault is not None:
                return fault
        return None

    return check


def _show(x: float) -> str:
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    return str(int(x)) if x == int(x) else repr(x)


def enforce(kernel: str, check: Callable[[Mapping[str, object]], Fault], **values: object) -> None:
    """Raise R0404 for static values `check` faults: the kernel's own guard, for kernels built
    without the checker (`make_kernel`, other front ends)."""
    fault = check(values)
    if fault is not None:
        key, problem = fault
        raise CatRuntimeError("R0404", f"`{kernel}`'s `{key}` {problem}")


MAX_AXIS = 32
"""Axes are counted from the end of a value: −1 (the last) to −32."""


def axis(key: str) -> Rule:
    """`key`, when given, names an axis from the end: a whole number from −32 to −1."""
    return whole(key, -MAX_AXIS, -1)


def distinct(first: str, second: str) -> Rule:
    """The values of `first` and `second` differ."""

    def rule(values: Mapping[str, object]) -> Fault:
        if first in values and values.get(first) == values.get(second):
            return second, f"must differ from `{first}` ({values[first]})"
        return None

    return rule
