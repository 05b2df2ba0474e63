"""Primitives registered from Python: `PrimitiveSet`, the plugins a program imports.

A plugin is a `PrimitiveSet` named NAME; a program that uses its primitives says
`import plugin.NAME`, and nothing else makes them visible. A `.cat` file never runs Python by
itself: the set is handed over by the user (`catdsl.load(..., plugins=[prims])`, the CLI's
`--plugin MODULE`) or provided by an installed package under the entry-point group
`catdsl.primitives` (entry name NAME, value `package.module:the_set`), which is loaded only
when a program imports `plugin.NAME`.

Each primitive is a forward function and its VJP over numpy arrays, with a signature written as
text (`std.signature_text`). Its kernel calls them; an exception in either, or a result of the
wrong number or shape, is a run-time error naming the primitive (R0801-R0803), never a crash.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import keyword
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from catdsl.errors import CatRuntimeError
from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std.signature_text import SignatureError, SignatureText, parse_signature
from catdsl.typesys.carriers import CARRIER_KINDS
from catdsl.typesys.primitives import PLUGIN_PREFIX, PluginSpec, PrimSpec

ENTRY_POINT_GROUP = "catdsl.primitives"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")


def _std_names() -> set[str]:
    from catdsl.std.library import PRIMITIVES

    return set(PRIMITIVES)


def _check_name(name: object, what: str) -> str:
    if not isinstance(name, str) or not _IDENTIFIER.match(name) or keyword.iskeyword(name):
        raise ValueError(f"{what} must be a name such as `mish`, not {name!r}")
    return name


class Primitive:
    """One registered primitive: its signature, forward function and VJP. Calling it calls
    the forward function, so it can be used (and tested) as plain numpy code too."""

    def __init__(
        self,
        plugin: str,
        name: str,
        signature: SignatureText,
        signature_text: str,
        param_names: tuple[str, ...],
        forward: Callable[..., Any],
        vjp: Callable[..., Any] | None,
        static: Mapping[str, float | int],
        doc: str,
    ) -> None:
        self.plugin, self.name = plugin, name
        self.signature, self.signature_text = signature, signature_text
        self.param_names = param_names
        self.forward, self._vjp = forward, vjp
        self.static = dict(static)
        self.doc = doc

    def vjp(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator: set the VJP, `vjp(dy, *inputs, **static)` -> one cotangent per input
        (`dy` is a tuple when the primitive has several outputs)."""
        self._vjp = function
        return function

    @property
    def vjp_function(self) -> Callable[..., Any] | None:
        return self._vjp

    @property
    def module(self) -> str:
        return f"{PLUGIN_PREFIX}{self.plugin}"

    @property
    def spec(self) -> PrimSpec:
        """The spec the checker and the backends read, with its kernel factory."""
        return PrimSpec(
            self.name,
            self.module,
            self.param_names,
            tuple(self.static),
            self.signature.build,
            self.doc or f"registered by plugin `{self.plugin}`",
            defaults=dict(self.static),
            kernel=self.kernel_factory,
        )

    def kernel_factory(self, in_ranks: tuple[int, ...], **static: object) -> Kernel:
        """The kernel of one use of the primitive (what the backend binds)."""
        return PluginKernel(self, in_ranks, {**self.static, **static})

    def __call__(self, *args: Any, **static: Any) -> Any:
        return self.forward(*args, **{**self.static, **static})

    def __repr__(self) -> str:
        return f"<primitive {self.name} : {self.signature_text} ({self.module})>"


class PrimitiveSet:
    """A named set of primitives registered from Python; a program imports it as
    `import plugin.NAME`. Register with the `primitive` decorator:

        prims = PrimitiveSet("mish")

        @prims.primitive("Real[*s] -> Real[*s]")
        def mish(x): ...

        @mish.vjp
        def _(dy, x): ...
    """

    def __init__(self, name: str) -> None:
        self.name = _check_name(name, "a plugin's name")
        self._primitives: dict[str, Primitive] = {}

    def primitive(
        self,
        signature: str,
        *,
        name: str | None = None,
        params: Mapping[str, str] | None = None,
        static: Mapping[str, float | int] | None = None,
        vjp: Callable[..., Any] | None = None,
        doc: str = "",
    ) -> Callable[[Callable[..., Any]], Primitive]:
        """Decorator registering `forward(*inputs, *params, **static)` as a primitive named
        `name` (the function's name by default) of type `signature`; `params` are its
        learnable array arguments with their carriers (`{"W": "Real[n, m]"}`), `static` its
        constant keyword arguments with their defaults. A bad signature is a ValueError here,
        when the plugin is written, not when a program uses it."""

        def register(forward: Callable[..., Any]) -> Primitive:
            prim_name = _check_name(name or forward.__name__, "a primitive's name")
            if prim_name in _std_names():
                raise ValueError(
                    f"`{prim_name}` is a standard-library primitive; choose another name"
                )
            if prim_name in self._primitives:
                raise ValueError(f"plugin `{self.name}` already has a primitive `{prim_name}`")
            for key in [*(params or {}), *(static or {})]:
                _check_name(key, f"an argument of `{prim_name}`")
            try:
                parsed = parse_signature(signature, params or {})
            except SignatureError as err:
                raise ValueError(f"the signature of `{prim_name}`: {err}") from None
            doc_text = doc or (forward.__doc__ or "").strip().split("\n")[0]
            prim = Primitive(
                self.name,
                prim_name,
                parsed,
                signature,
                tuple(params or {}),
                forward,
                vjp,
                static or {},
                doc_text,
            )
            self._primitives[prim_name] = prim
            return prim

        return register

    def __getitem__(self, name: str) -> Primitive:
        return self._primitives[name]

    def __iter__(self) -> Iterator[Primitive]:
        return iter(self._primitives.values())

    def __len__(self) -> int:
        return len(self._primitives)

    def spec(self, origin: str = "") -> PluginSpec:
        """What the loader and backends are given: the primitives' specs by name."""
        specs = {name: prim.spec for name, prim in self._primitives.items()}
        return PluginSpec(self.name, specs, origin or f"PrimitiveSet({self.name!r})")

    def __repr__(self) -> str:
        names = ", ".join(self._primitives) or "no primitives"
        return f"<PrimitiveSet plugin.{self.name}: {names}>"


# ------------------------------------------------------------------ the kernel
class PluginKernel(Kernel):
    """A registered primitive's kernel: calls its functions and checks what they return."""

    def __init__(self, prim: Primitive, in_ranks: tuple[int, ...], static: dict) -> None:
        super().__init__(in_ranks)
        self.prim, self.static = prim, static
        self.name = prim.name
        inputs = prim.signature.inputs
        self.n_in, self.n_out = len(inputs), len(prim.signature.cod)
        self.differentiable = tuple(CARRIER_KINDS[w.kind].differentiable for w in inputs)

    def forward(self, *xs: Any) -> Forward:
        result = self._call(self.prim.forward, "forward function", *xs)
        outs = result if self.n_out > 1 else (result,)
        if not isinstance(outs, tuple | list) or len(outs) != self.n_out:
            raise CatRuntimeError(
                "R0802",
                f"the forward function of `{self.name}` returned {_count(outs)}, expected "
                f"{self.n_out} array{'s' * (self.n_out != 1)}",
            )
        return tuple(self._array(y, "forward function") for y in outs), xs

    def vjp(self, residual: Any, *dys: Any) -> Cotangents:
        function = self.prim.vjp_function
        if function is None:
            raise CatRuntimeError(
                "R0803",
                f"`{self.name}` ({self.prim.module}) has no VJP, so it cannot be differentiated",
                help=f"register one with `@{self.name}.vjp`",
            )
        xs = residual
        dy = dys[0] if self.n_out == 1 else tuple(dys)
        result = self._call(function, "VJP", dy, *xs)
        dxs = result if self.n_in > 1 else (result,)
        if not isinstance(dxs, tuple | list) or len(dxs) != self.n_in:
            raise CatRuntimeError(
                "R0802",
                f"the VJP of `{self.name}` returned {_count(dxs)}, expected one cotangent per "
                f"input ({self.n_in})",
            )
        out: list[np.ndarray | None] = []
        for k, (dx, x, flag) in enumerate(zip(dxs, xs, self.differentiable, strict=True)):
            if not flag or dx is None:
                out.append(None)
                continue
            array = self._array(dx, "VJP")
            if array.shape != np.shape(x):
                raise CatRuntimeError(
                    "R0802",
                    f"the VJP of `{self.name}` returned a cotangent of shape {array.shape} "
                    f"for input {k + 1}, of shape {np.shape(x)}",
                )
            out.append(array)
        return tuple(out)

    def _call(self, function: Callable[..., Any], what: str, *args: Any) -> Any:
        try:
            return function(*args, **self.static)
        except CatRuntimeError:
            raise
        except Exception as err:
            raise CatRuntimeError(
                "R0801",
                f"the {what} of `{self.name}` ({self.prim.module}) raised "
                f"{type(err).__name__}: {err}",
                help="the error is in the plugin's Python code",
            ) from None

    def _array(self, value: Any, what: str) -> np.ndarray:
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise CatRuntimeError(
                "R0802",
                f"the {what} of `{self.name}` returned {array.dtype} values, not numbers",
            )
        return array


def _count(value: object) -> str:
    if isinstance(value, tuple | list):
        return f"{len(value)} value{'s' * (len(value) != 1)}"
    return f"one {type(value).__name__}"


# ------------------------------------------------------------------ finding plugins
class PluginError(Exception):
    """A plugin that cannot be used: the message says which and why."""


def installed_plugin(name: str) -> PluginSpec | None:
    """The plugin NAME of an installed package (entry-point group `catdsl.primitives`), or
    None when none is installed; only that entry point is loaded."""
    found = list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP, name=name))
    if not found:
        return None
    if len(found) > 1:
        values = ", ".join(sorted({ep.value for ep in found}))
        raise PluginError(f"several installed packages provide `plugin.{name}`: {values}")
    (entry,) = found
    try:
        provided = entry.load()
    except Exception as err:
        raise PluginError(
            f"the installed plugin `{name}` ({entry.value}) failed to load: "
            f"{type(err).__name__}: {err}"
        ) from None
    if not isinstance(provided, PrimitiveSet):
        raise PluginError(
            f"the entry point `{name}` ({entry.value}) is a {type(provided).__name__}, "
            "not a catdsl.PrimitiveSet"
        )
    if provided.name != name:
        raise PluginError(
            f"the entry point `{name}` ({entry.value}) is the plugin `{provided.name}`; "
            "an entry point is named after the plugin it provides"
        )
    return provided.spec(entry.value)


def module_plugins(module: ModuleType) -> list[PrimitiveSet]:
    """The primitive sets a Python module defines at its top level."""
    return [value for value in vars(module).values() if isinstance(value, PrimitiveSet)]


def import_plugin_module(target: str) -> list[PrimitiveSet]:
    """`--plugin TARGET`: a Python file (`path/to/mish.py`) or an importable module
    (`mypackage.prims`), whose primitive sets are returned; `PluginError` when it cannot be
    imported or defines none."""
    try:
        if target.endswith(".py"):
            path = Path(target)
            if not path.is_file():
                raise PluginError(f"plugin file `{target}` not found")
            spec = importlib.util.spec_from_file_location(f"catdsl_plugin_{path.stem}", path)
            assert spec is not None and spec.loader is not None, "a .py file has a loader"
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(target)
    except PluginError:
        raise
    except Exception as err:
        raise PluginError(f"cannot load plugin `{target}`: {type(err).__name__}: {err}") from None
    sets = module_plugins(module)
    if not sets:
        raise PluginError(f"plugin `{target}` defines no catdsl.PrimitiveSet")
    return sets


class PluginResolver:
    """How the loader finds `import plugin.NAME`: among the sets it was given, then among
    installed packages; it records what it found, so the backend gets those kernels."""

    def __init__(self, given: Mapping[str, PluginSpec] = {}, installed: bool = True) -> None:
        self.given = dict(given)
        self.installed = installed
        self.found: dict[str, PluginSpec] = {}

    @classmethod
    def of(
        cls, plugins: Iterable[PrimitiveSet | PluginSpec], installed: bool = True
    ) -> PluginResolver:
        """A resolver for `plugins`: primitive sets or their specs."""
        specs: dict[str, PluginSpec] = {}
        for plugin in plugins:
            spec = plugin.spec() if isinstance(plugin, PrimitiveSet) else plugin
            if not isinstance(spec, PluginSpec):
                raise TypeError(f"plugins are catdsl.PrimitiveSet objects, not {plugin!r}")
            if spec.name in specs and specs[spec.name] is not spec:
                raise ValueError(f"two plugins are named `{spec.name}`")
            specs[spec.name] = spec
        return cls(specs, installed)

    def __call__(self, name: str) -> PluginSpec | None:
        """The plugin NAME, or None; `PluginError` when an installed one is broken."""
        spec = self.given.get(name)
        if spec is None and self.installed:
            spec = installed_plugin(name)
        if spec is not None:
            self.found[name] = spec
        return spec

    def kernels(self) -> dict[str, Callable[..., Kernel]]:
        """The kernel factories of the plugins found, by primitive name."""
        table: dict[str, Callable[..., Kernel]] = {}
        for spec in self.found.values():
            for name, prim in spec.primitives.items():
                if prim.kernel is not None:
                    table[name] = prim.kernel
        return table
