"""Training families over a loss (an optimizer's step, the families that start and read its
state, and `MeanLoss`) and the types computed from a loss: `Params(loss)` and each optimizer's
state (`AdamState(loss)`). What each family is comes from its spec in the registry."""

from __future__ import annotations

from collections.abc import Sequence

from catdsl.errors import Span
from catdsl.syntax import ast
from catdsl.typesys import messages as M
from catdsl.typesys import terms as T
from catdsl.typesys.environment import Environment
from catdsl.typesys.expressions import ExpressionChecker
from catdsl.typesys.family_spec import (
    SCHEDULE,
    TRAINING_OPTIONS,
    Family,
    FamilyRole,
    FieldKind,
    Hyper,
    HyperKind,
    OptimizerSpec,
    Schedule,
)
from catdsl.typesys.literals import LiteralReader
from catdsl.typesys.no_gradient import first_cut
from catdsl.typesys.primitives import NoGradient
from catdsl.typesys.reporting import Failed, Reporter
from catdsl.typesys.types import UNIT, Carrier, Port, Prod, Record, carrier_of
from catdsl.typesys.unify import Mismatch, Subst

OPTION_NAMES = frozenset((*(h.name for h in TRAINING_OPTIONS), SCHEDULE))


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
        self._ordered: dict[int, tuple[tuple[Port, ...], tuple[Port, ...]]] = {}
        """A loss's ports (kept alive) and its params in declaration order, by the ports'
        id: every use of one loss shares its ports, and each family applied to it asks."""

    # ---------------------------------------------------------------- families
    def check(self, name: str, e: ast.Call, subst: Subst) -> T.Term:
        """`name(loss, data, hyper-parameters...)`, a family applied to its arguments."""
        family = self.env.families[name]
        positional = [a for a in e.args if a.name is None]
        keywords = {a.name: a.value for a in e.args if a.name is not None}
        if not positional:
            raise self.reporter.fail(M.family_needs_loss(family), e.span)
        loss = self.expressions.check(positional[0].value, subst)
        loss_text = self.expressions.text(positional[0].value)
        record = self.params_record(loss, loss_text, name, positional[0].value.span)
        params = self._params(loss)
        spec = family.optimizer
        takes_model = family.role is FamilyRole.MEAN_LOSS or (spec is not None and spec.partial)
        if takes_model and "model" in keywords:
            record = self._model_record(keywords.pop("model"), loss, loss_text, params, name)
        only: tuple[str, ...] = ()
        partial_step = family.role is FamilyRole.STEP and spec is not None and spec.partial
        if partial_step and "only" in keywords:
            only = self._only(keywords.pop("only"), params, loss_text)
        if family.role in (FamilyRole.INIT, FamilyRole.READ, FamilyRole.COUNT):
            init_hyper = spec.init_hyper if spec is not None else ()
            if family.role is FamilyRole.INIT and init_hyper:
                hyper = self._hyper(family, positional[1:], keywords, e, init_hyper)
                return self._state_conversion(family, record, loss, params, e.span, hyper)
            if len(positional) > 1 or keywords:
                raise self.reporter.fail(M.family_takes_only_loss(family), e.span)
            return self._state_conversion(family, record, loss, params, e.span)
        data = None
        rest = positional[1:]
        user_ports = tuple(p for p in loss.ports if p.kind == "port")
        if loss.dom.atoms or user_ports:
            if not rest and "data" not in keywords:
                raise self.reporter.fail(M.missing_data(name, loss_text, loss.dom), e.span)
            data_expr = keywords.pop("data", None) or rest.pop(0).value
            data = self.expressions.check(data_expr, subst)
            self._check_data(name, loss, data, data_expr, subst, user_ports)
        schedule_expr = keywords.pop(SCHEDULE, None) if spec is not None else None
        hyper = self._hyper(family, rest, keywords, e)
        schedule = None
        if schedule_expr is not None:
            assert spec is not None
            if not spec.counts_steps:
                raise self.reporter.fail(M.option_needs_count(family, SCHEDULE), schedule_expr.span)
            schedule = self._schedule(schedule_expr)
        if "batch" in hyper and data is None:
            raise self.reporter.fail(M.batch_without_data(family, loss_text), e.span)
        if family.role is FamilyRole.STEP:
            self._differentiable(name, loss, loss_text, e.span, positional[0].value.span, subst)
        if spec is None:  # MeanLoss
            if len(loss.cod) != 1:
                raise self.reporter.fail(M.mean_of_several(loss.cod), e.span)
            return T.Train(
                Prod((record,)),
                loss.cod,
                e.span,
                family=name,
                loss=loss,
                data=data,
                params=params,
                spec=family,
            )
        state = state_record(spec, record)
        return T.Train(
            Prod((state,)),
            Prod((state,)),
            e.span,
            family=name,
            loss=loss,
            data=data,
            params=params,
            hyper=tuple(hyper.items()),
            spec=family,
            schedule=schedule,
            only=only,
        )

    def _differentiable(
        self, name: str, loss: T.Term, text: str, call: Span, at: Span, subst: Subst
    ) -> None:
        """A training step's loss reaches no box without a gradient from its params: a
        comparison or a count (E0330, at the box) or an evaluation morphism such as `argmax`
        (E0361, at the loss), else the params before it would silently stop learning."""
        cut = first_cut(loss, upstream=False, resolve=subst.prod)
        if cut is None:
            return
        if cut.kind is NoGradient.EVALUATION:
            message = M.train_through_evaluation(name, text, cut.prim, cut.definition)
            raise self.reporter.fail(message, at)
        message = M.train_through_discrete(name, text, cut.prim.name, cut.definition, call)
        raise self.reporter.fail(message, cut.prim.span)

    def _state_conversion(
        self,
        family: Family,
        record: Record,
        loss: T.Term,
        params: tuple[Port, ...],
        span: Span,
        hyper: dict[str, float] | None = None,
    ) -> T.Term:
        """An optimizer's init (a point of its state, with the rates it stores), reader (a
        state's params) or counter (a state's step count)."""
        assert family.optimizer is not None
        state = Prod((state_record(family.optimizer, record),))
        dom, cod = {
            FamilyRole.INIT: (UNIT, state),
            FamilyRole.READ: (state, Prod((record,))),
            FamilyRole.COUNT: (state, Prod((Carrier("Nat"),))),
        }[family.role]
        return T.Train(
            dom,
            cod,
            span,
            family=family.name,
            loss=loss,
            data=None,
            params=params,
            spec=family,
            hyper=tuple((hyper or {}).items()),
        )

    def _model_record(
        self, expr: ast.Expr, loss: T.Term, loss_text: str, params: tuple[Port, ...], family: str
    ) -> Record:
        """`model = f`: the state is f's params, which must hold every param of the loss."""
        model = self.expressions.check(expr, Subst())
        model_text = self.expressions.text(expr)
        record = self.params_record(model, model_text, family, expr.span)
        held = {name for name, _ in record.fields}
        missing = [p.name for p in params if p.name not in held]
        if missing:
            message = M.loss_outside_model(loss_text, model_text, missing[0])
            raise self.reporter.fail(message, expr.span)
        return record

    def _only(self, expr: ast.Expr, params: tuple[Port, ...], loss_text: str) -> tuple[str, ...]:
        """`only = [W, b]`: the params a step updates, each a param of the loss, once."""
        names = {p.name for p in params}
        if not isinstance(expr, ast.ListLiteral) or not expr.items:
            raise self.reporter.fail(M.only_not_a_list(loss_text, sorted(names)), expr.span)
        chosen: list[str] = []
        for item in expr.items:
            if not isinstance(item, ast.Name) or item.name not in names or item.name in chosen:
                text = self.expressions.text(item)
                message = M.only_not_a_param(text, loss_text, sorted(names), text in chosen)
                raise self.reporter.fail(message, item.span)
            chosen.append(item.name)
        return tuple(chosen)

    def _hyper(
        self,
        family: Family,
        rest: Sequence[ast.Arg],
        keywords: dict[str, ast.Expr],
        e: ast.Call,
        given: tuple[Hyper, ...] | None = None,
    ) -> dict[str, float]:
        """The hyper-parameters (`given`, else the optimizer's), by position then by name, with
        defaults where they have one, each in its kind's range; then, for an optimizer's own
        hyperparameters, the training options (by name only) when it counts its steps."""
        own: tuple[Hyper, ...] = given if given is not None else ()
        options: tuple[Hyper, ...] = ()
        if given is None and family.optimizer is not None:
            own, options = family.optimizer.hyper, family.optimizer.options
        specs = (*own, *options)
        names = tuple(h.name for h in own)
        hyper: dict[str, float] = {}
        for key, value in zip(names, rest, strict=False):
            hyper[key] = float(self.literals.number(value.value))
        if len(rest) > len(names):
            raise self.reporter.fail(M.too_many_hyper(family, len(names)), e.span)
        for key, expr in keywords.items():
            if key not in names and key not in {h.name for h in options}:
                if family.optimizer is not None and key in OPTION_NAMES:
                    raise self.reporter.fail(M.option_needs_count(family, key), expr.span)
                usage = M.family_usage(family)
                raise self.reporter.fail(M.no_such_argument(family.name, key, usage), expr.span)
            if key in hyper:
                raise self.reporter.fail(M.hyper_twice(family, key, hyper[key]), expr.span)
            hyper[key] = float(self.literals.number(expr))
        for h in specs:
            if h.name not in hyper and not h.optional:
                if h.default is None:
                    raise self.reporter.fail(M.hyper_missing(family, h.name), e.span)
                hyper[h.name] = h.default
        for h in specs:
            if h.name in hyper and not h.kind.admits(hyper[h.name]):
                assert family.optimizer is not None
                message = M.hyper_out_of_range(family.optimizer, h, hyper[h.name])
                raise self.reporter.fail(message, e.span)
        # in the spec's order whatever the call's, so the same step has one fingerprint
        return {h.name: _as_written(h, hyper[h.name]) for h in specs if h.name in hyper}

    def _schedule(self, expr: ast.Expr) -> Schedule:
        """`Cosine(steps = 1000)`: a schedule of the registry applied to its arguments, by
        position then by name, defaults filled in, each in its kind's range."""
        schedules = self.env.families.schedules
        func = expr.func if isinstance(expr, ast.Call) else expr
        name = func.name if isinstance(func, ast.Name) else ""
        if not isinstance(expr, ast.Call) or name not in schedules:
            raise self.reporter.fail(M.not_a_schedule(name, tuple(schedules)), expr.span)
        spec = schedules[name]
        names = tuple(h.name for h in spec.hyper)
        positional = [a for a in expr.args if a.name is None]
        if len(positional) > len(names):
            problem = f"takes {len(names)} argument(s)"
            raise self.reporter.fail(M.schedule_argument(spec, problem), expr.span)
        values = {
            key: float(self.literals.number(a.value))
            for key, a in zip(names, positional, strict=False)
        }
        for arg in expr.args:
            if arg.name is None:
                continue
            if arg.name not in names or arg.name in values:
                problem = (
                    f"is given `{arg.name}` twice"
                    if arg.name in values
                    else f"has no argument `{arg.name}`"
                )
                raise self.reporter.fail(M.schedule_argument(spec, problem), arg.span)
            values[arg.name] = float(self.literals.number(arg.value))
        for h in spec.hyper:
            if h.name not in values:
                if h.default is None:
                    problem = f"needs `{h.name}`"
                    raise self.reporter.fail(M.schedule_argument(spec, problem), expr.span)
                values[h.name] = h.default
            if not h.kind.admits(values[h.name]):
                message = M.schedule_out_of_range(spec, h, values[h.name])
                raise self.reporter.fail(message, expr.span)
        args = tuple((h.name, _as_written(h, values[h.name])) for h in spec.hyper)
        return Schedule(name, args, spec)

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

    # ---------------------------------------------------------------- state types
    def state_type(self, expr: ast.TCall) -> Prod:
        """`Params(loss)` or an optimizer's state, `AdamState(loss)`, in a type position."""
        families = self.env.families
        if expr.name not in families.state_types or len(expr.args) != 1:
            raise self.reporter.fail(M.not_a_type_call(expr.name), expr.span)
        argument = expr.args[0].value
        term = self.expressions.check(argument, Subst())
        record = self.params_record(term, self.expressions.text(argument), expr.name, argument.span)
        spec = families.state_of(expr.name)
        return Prod((record if spec is None else state_record(spec, record),))

    def _params(self, loss: T.Term) -> tuple[Port, ...]:
        """The loss's learnable params, in declaration order."""
        ports = loss.ports
        known = self._ordered.get(id(ports))
        if known is None or known[0] is not ports:
            position = self.env.position
            learnable = (p for p in ports if p.kind == "param")
            known = (ports, tuple(sorted(learnable, key=lambda p: position(p.name))))
            self._ordered[id(ports)] = known
        return known[1]

    def params_record(self, loss: T.Term, text: str, family: str, span: Span) -> Record:
        """The record of the loss's params in declaration order; a loss without params has
        nothing to train (E0321)."""
        params = self._params(loss)
        if not params and T.holds_hole(loss):
            raise Failed  # an unfinished loss: its hole is the one mistake, reported there
        if not params:
            raise self.reporter.fail(M.nothing_to_train(family, text), span)
        return Record("Params", tuple((p.name, p.atom) for p in params), f"Params({text})")


def _as_written(hyper: Hyper, value: float) -> float:
    """A whole-number hyperparameter (a batch size, a seed, a number of steps) as an `int`,
    so that it is shown as written (`batch=16`, not `batch=16.0`); the others as they are."""
    return int(value) if hyper.kind in (HyperKind.COUNT, HyperKind.SEED) else value


_FIELD_CARRIERS = {FieldKind.COUNT: "Nat", FieldKind.RATE: "Real"}
"""The carrier of a state field that is not params-shaped."""


def state_record(spec: OptimizerSpec, params: Record) -> Record:
    """An optimizer's state over the params record: the record itself when the optimizer keeps
    no state, else one field per entry of its spec (`AdamState(loss)`: params, m, v, step)."""
    if spec.state is None:
        return params
    inner = params.name[len("Params") :]
    fields = tuple(
        (name, params if kind is FieldKind.PARAMS else Carrier(_FIELD_CARRIERS[kind]))
        for name, kind in spec.fields
    )
    return Record(spec.state, fields, f"{spec.state}{inner}")
