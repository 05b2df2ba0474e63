"""Training families over a loss (Init, MeanLoss, TrainStep, Momentum, Adam and their state
conversions) and the types computed from a loss: `Params(loss)`, `AdamState(loss)`,
`MomentumState(loss)`."""

from __future__ import annotations

from collections.abc import Sequence

from catdsl.errors import Span
from catdsl.syntax import ast
from catdsl.typesys import messages as M
from catdsl.typesys import terms as T
from catdsl.typesys.environment import Environment
from catdsl.typesys.expressions import ExpressionChecker
from catdsl.typesys.literals import LiteralReader
from catdsl.typesys.reporting import Reporter
from catdsl.typesys.reserved import STATE_TYPES
from catdsl.typesys.types import UNIT, Carrier, Port, Prod, Record, carrier_of
from catdsl.typesys.unify import Mismatch, Subst

HYPER = {
    "TrainStep": ("lr",),
    "Momentum": ("lr", "beta"),
    "Adam": ("lr", "beta1", "beta2", "eps"),
}
"""The hyper-parameters each optimiser takes after the data, in order."""
HYPER_DEFAULTS = {"beta": 0.9, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
_WITHOUT_DATA = ("Init", "AdamInit", "MomentumInit", "AdamParams", "MomentumParams")


class FamilyChecker:
    """Types training families applied to a loss, and the state records they work on."""

    def __init__(
        self,
        env: Environment,
        reporter: Reporter,
        literals: LiteralReader,
        expressions: ExpressionChecker,
    ) -> None:
        self.env = env
        self.reporter = reporter
        self.literals = literals
        self.expressions = expressions

    # ---------------------------------------------------------------- families
    def check(self, name: str, e: ast.Call, subst: Subst) -> T.Term:
        """`name(loss, data, hyper-parameters...)`, a family applied to its arguments."""
        positional = [a for a in e.args if a.name is None]
        keywords = {a.name: a.value for a in e.args if a.name is not None}
        if not positional:
            raise self.reporter.fail(M.family_needs_loss(name), e.span)
        loss = self.expressions.check(positional[0].value, subst)
        loss_text = self.expressions.text(positional[0].value)
        record = self.params_record(loss, loss_text, name, positional[0].value.span)
        params = self._params(loss)
        if name in _WITHOUT_DATA:
            if len(positional) > 1 or keywords:
                raise self.reporter.fail(M.family_takes_only_loss(name), e.span)
            return self._state_conversion(name, record, loss, params, e.span)
        data = None
        rest = positional[1:]
        hyper_names = HYPER.get(name, ())
        user_ports = tuple(p for p in loss.ports if p.kind == "port")
        if loss.dom.atoms or user_ports:
            if not rest and "data" not in keywords:
                raise self.reporter.fail(M.missing_data(name, loss_text, loss.dom), e.span)
            data_expr = keywords.pop("data", None) or rest.pop(0).value
            data = self.expressions.check(data_expr, subst)
            self._check_data(name, loss, data, data_expr, subst, user_ports)
        hyper = self._hyper(name, hyper_names, rest, keywords, e)
        if name == "MeanLoss":
            if len(loss.cod) != 1:
                raise self.reporter.fail(M.mean_of_several(loss.cod), e.span)
            return T.Train(
                Prod((record,)), loss.cod, e.span, family=name, loss=loss, data=data, params=params
            )
        state = {
            "TrainStep": record,
            "Momentum": momentum_record(record),
            "Adam": adam_record(record),
        }[name]
        return T.Train(
            Prod((state,)),
            Prod((state,)),
            e.span,
            family=name,
            loss=loss,
            data=data,
            params=params,
            hyper=tuple(hyper.items()),
        )

    def _state_conversion(
        self, name: str, record: Record, loss: T.Term, params: tuple[Port, ...], span: Span
    ) -> T.Term:
        """`Init`, `AdamInit`, `MomentumInit` (points of a state) or `AdamParams`,
        `MomentumParams` (a state's params)."""
        initial = {
            "Init": record,
            "AdamInit": adam_record(record),
            "MomentumInit": momentum_record(record),
        }
        if name in initial:
            return T.Train(
                UNIT, Prod((initial[name],)), span, family=name, loss=loss, data=None, params=params
            )
        source = adam_record(record) if name == "AdamParams" else momentum_record(record)
        return T.Train(
            Prod((source,)), Prod((record,)), span, family=name, loss=loss, data=None, params=params
        )

    def _hyper(
        self,
        name: str,
        hyper_names: tuple[str, ...],
        rest: Sequence[ast.Arg],
        keywords: dict[str, ast.Expr],
        e: ast.Call,
    ) -> dict[str, float]:
        """The hyper-parameters, by position then by name, with defaults where they have one."""
        hyper: dict[str, float] = {}
        for key, value in zip(hyper_names, rest, strict=False):
            hyper[key] = float(self.literals.number(value.value))
        if len(rest) > len(hyper_names):
            raise self.reporter.fail(M.too_many_hyper(name, len(hyper_names)), e.span)
        for key, expr in keywords.items():
            if key not in hyper_names:
                usage = M.family_usage(name)
                raise self.reporter.fail(M.no_such_argument(name, key, usage), expr.span)
            if key in hyper:
                raise self.reporter.fail(M.hyper_twice(name, key, hyper[key]), expr.span)
            hyper[key] = float(self.literals.number(expr))
        for key in hyper_names:
            if key not in hyper:
                if key not in HYPER_DEFAULTS:
                    raise self.reporter.fail(M.hyper_missing(name, key), e.span)
                hyper[key] = HYPER_DEFAULTS[key]
        self._check_hyper(hyper, e.span)
        return hyper

    def _check_data(
        self,
        name: str,
        loss: T.Term,
        data: T.Term,
        data_expr: ast.Expr,
        subst: Subst,
        user_ports: tuple[Port, ...],
    ) -> None:
        """The data is a point of a list of the loss's inputs (and its ports' objects)."""
        elem_expected = loss.dom + Prod(tuple(p.atom for p in user_ports))
        carrier = carrier_of(data.cod.atoms[0]) if len(data.cod) == 1 else None
        if data.dom.atoms or not isinstance(carrier, Carrier) or carrier.kind != "List":
            message = M.data_not_a_list(name, elem_expected, data.dom, data.cod)
            raise self.reporter.fail(message, data_expr.span)
        assert carrier.elem is not None
        try:
            subst.unify_prod(elem_expected, carrier.elem)
        except Mismatch:
            message = M.data_elements(name, carrier.elem, elem_expected)
            raise self.reporter.fail(message, data_expr.span) from None

    def _check_hyper(self, hyper: dict[str, float], span: Span) -> None:
        lr = hyper.get("lr")
        if lr is not None and not (lr > 0 and lr != float("inf")):
            raise self.reporter.fail(M.learning_rate(lr), span)
        for key in ("beta", "beta1", "beta2"):
            if key in hyper and not 0 <= hyper[key] < 1:
                raise self.reporter.fail(M.decay_rate(key, hyper[key]), span)
        if "eps" in hyper and not hyper["eps"] > 0:
            raise self.reporter.fail(M.epsilon(hyper["eps"]), span)

    # ---------------------------------------------------------------- state types
    def state_type(self, expr: ast.TCall) -> Prod:
        """`Params(loss)`, `AdamState(loss)` or `MomentumState(loss)` in a type position."""
        if expr.name not in STATE_TYPES or len(expr.args) != 1:
            raise self.reporter.fail(M.not_a_type_call(expr.name), expr.span)
        argument = expr.args[0].value
        term = self.expressions.check(argument, Subst())
        record = self.params_record(term, self.expressions.text(argument), expr.name, argument.span)
        if expr.name == "AdamState":
            record = adam_record(record)
        elif expr.name == "MomentumState":
            record = momentum_record(record)
        return Prod((record,))

    def _params(self, loss: T.Term) -> tuple[Port, ...]:
        """The loss's learnable params, in declaration order."""
        learnable = (p for p in loss.ports if p.kind == "param")
        return tuple(sorted(learnable, key=lambda p: self.env.position(p.name)))

    def params_record(self, loss: T.Term, text: str, family: str, span: Span) -> Record:
        """The record of the loss's params in declaration order; a loss without params has
        nothing to train (E0321)."""
        params = self._params(loss)
        if not params:
            raise self.reporter.fail(M.nothing_to_train(family, text), span)
        return Record("Params", tuple((p.name, p.atom) for p in params), f"Params({text})")


def adam_record(params: Record) -> Record:
    """Adam's state: the params, both moment estimates and the step count."""
    inner = params.name[len("Params") :]
    return Record(
        "AdamState",
        (("params", params), ("m", params), ("v", params), ("step", Carrier("Nat"))),
        f"AdamState{inner}",
    )


def momentum_record(params: Record) -> Record:
    """Momentum's state: the params and their velocity."""
    inner = params.name[len("Params") :]
    return Record(
        "MomentumState", (("params", params), ("velocity", params)), f"MomentumState{inner}"
    )
