"""The `catdsl` command: a thin front end over the phases.

Exit codes: 0 success, 1 errors in the program (diagnostics printed), 2 bad usage or I/O,
70 an internal bug (a short report, never a traceback for bad input). numpy, networkx and
graphviz are imported only by the commands that need them, so `catdsl check` starts fast.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from catdsl.errors import CatError, CatRuntimeError, Diagnostic

if TYPE_CHECKING:
    from catdsl.frontend.program import BaseProgram
    from catdsl.typesys.program import CheckedProgram

EXIT_OK, EXIT_PROGRAM, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 70
IO_CODES = ("R05", "R07")  # reading/writing files, drawing formats and Graphviz: exit 2


class UsageError(Exception):
    """Bad command-line use: exit code 2."""


def _color(stream) -> bool:
    return hasattr(stream, "isatty") and stream.isatty()


def _print_diagnostics(diags: list[Diagnostic], sources: dict[str, str], as_json: bool) -> None:
    from catdsl.diagnostics import render_all, to_json

    if as_json:
        print(to_json(diags))
    elif diags:
        print(render_all(diags, sources, color=_color(sys.stderr)), file=sys.stderr)


# ------------------------------------------------------------------ check
def cmd_check(args: argparse.Namespace) -> int:
    from catdsl.loader import check_file

    all_diags: list[Diagnostic] = []
    unreadable: list[Diagnostic] = []  # reported, and the other files still checked
    sources: dict[str, str] = {}
    plugins = _plugin_finder(args)
    for path in args.files:
        program = check_file(path, args.allow_read, plugins)
        if not program.sources and program.diagnostics and program.diagnostics[0].span is None:
            unreadable.append(program.diagnostics[0])
            if not args.json:
                print(f"catdsl: {program.diagnostics[0].message}", file=sys.stderr)
            continue
        all_diags.extend(program.diagnostics)
        sources.update(program.sources)
        if not args.json and not program.diagnostics:
            n = len(program.definitions)
            print(
                f"{path}: ok ({n} definition{'s' * (n != 1)}, {len(program.laws)} law"
                f"{'s' * (len(program.laws) != 1)})"
            )
        if args.classify and not program.diagnostics:
            _print_classes(program, args.json)
    _print_diagnostics([*unreadable, *all_diags] if args.json else all_diags, sources, args.json)
    if unreadable:
        return EXIT_USAGE
    return EXIT_PROGRAM if any(d.severity == "error" for d in all_diags) else EXIT_OK


# ------------------------------------------------------------------ shared helpers
def _load(args: argparse.Namespace, dtype: str = "float64"):
    import catdsl

    plugins = _plugin_finder(args).given.values()
    backend, device = getattr(args, "backend", "numpy"), getattr(args, "device", "cpu")
    if backend == "numpy" and device == "cpu":
        return catdsl.load(args.file, dtype, allow_read=args.allow_read, plugins=plugins)
    from catdsl.frontend.api import load_program
    from catdsl.frontend.backends import named_backend

    try:
        engine = named_backend(backend, dtype, device)
    except (ImportError, ValueError) as err:
        raise UsageError(str(err)) from None
    return load_program(args.file, dtype, engine, allow_read=args.allow_read, plugins=plugins)


def _backend_options(p: argparse.ArgumentParser) -> None:
    """`--backend numpy|torch` and `--device cpu|cuda`, which `_load` reads."""
    p.add_argument(
        "--backend",
        choices=("numpy", "torch"),
        default="numpy",
        help="what computes the values: numpy (the default) or PyTorch",
    )
    p.add_argument(
        "--device", choices=("cpu", "cuda"), default="cpu", help="the torch device (default cpu)"
    )


def _plugin_finder(args: argparse.Namespace):
    """The plugins of `--plugin MODULE` options (imported now, in order), and installed ones;
    one that cannot be imported is a usage error."""
    from catdsl.std.plugins import PluginError, PluginResolver, import_plugin_module

    sets = []
    try:
        for target in getattr(args, "plugin", []):
            sets.extend(import_plugin_module(target))
        return PluginResolver.of(sets)
    except (PluginError, ValueError) as err:
        raise UsageError(str(err)) from None


MAX_JSON_DEPTH = 64
"""The deepest nesting of brackets in `--input` / `--port` JSON (a value's rank, and more)."""
INT64_MAX = 2**63 - 1


def _parse_json_value(text: str, what: str):
    """`text` as JSON; too deep, a number out of range or bad JSON is a usage error (exit 2)."""
    depth = _json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise UsageError(
            f"{what} is nested {depth} deep: at most {MAX_JSON_DEPTH} levels of brackets"
        )

    def number(token: str) -> int | float:
        value: int | float = float(token)
        if not math.isfinite(value):
            shown = (
                token
                if len(token) <= 24
                else f"{token[:12]}…{token[-4:]} ({len(token)} characters)"
            )
            raise UsageError(
                f"{what}: the number {shown} is out of range (numbers go up to about 1.8e308)"
            )
        if "." not in token and "e" not in token.lower() and abs(value) <= INT64_MAX:
            return int(token)  # whole numbers that fit 64 bits stay exact (indices)
        return value

    try:
        return json.loads(text, parse_int=number, parse_float=number)
    except json.JSONDecodeError as err:
        raise UsageError(f"{what} is not valid JSON: {err.msg} at column {err.colno}") from None
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise UsageError(f"{what} is nested too deeply") from None


def _json_depth(text: str) -> int:
    """The deepest nesting of `[` and `{` in JSON text, strings skipped."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _read_input(text: str | None):
    if text is None:
        return None
    if text.endswith((".npy", ".npz")):
        from catdsl.files import load_array_file

        arrays = load_array_file(text)
        return arrays[0] if len(arrays) == 1 else list(arrays)
    return _parse_json_value(text, "--input")


def _ports(items: list[str]) -> dict:
    """`--port name=JSON` (or name=file.npy) options as values by name, each name once."""
    ports = {}
    for item in items or []:
        if "=" not in item:
            raise UsageError(f"--port takes name=JSON, got {item!r}")
        key, value = item.split("=", 1)
        if not key:
            raise UsageError(f"--port needs a name before `=`, got {item!r}")
        if key in ports:
            raise UsageError(f"port `{key}` is given twice")
        ports[key] = (
            _read_input(value)
            if value.endswith((".npy", ".npz"))
            else _parse_json_value(value, f"--port {key}")
        )
    return ports


def _print_classes(program: CheckedProgram, as_json: bool) -> None:
    """`check --classify`: each definition's boundary class, counting its inputs first."""
    from catdsl.frontend.classify import classify

    found = classify(program)
    if as_json:
        print(json.dumps({"file": program.file, "definitions": [c.to_json() for c in found]}))
        return
    width = max((len(c.name) for c in found), default=0)
    for c in found:
        print(f"  {c.name:<{width}}  {c.kind}: {c.type_text}; {c.why}")


# ------------------------------------------------------------------ run
def cmd_run(args: argparse.Namespace) -> int:
    program = _load(args, args.dtype)
    if args.params:
        _load_params(program, args.params)
    morphism = program[args.name]
    given = () if args.input is None else (_read_input(args.input),)  # `--input null` is none
    value = morphism(*given, **_ports(args.port))
    if args.save:
        program.save_value(args.save, value)
    if args.json:
        print(
            json.dumps(
                {"name": args.name, "type": morphism.type_text, "value": morphism.json_form(value)}
            )
        )
    else:
        print(f"{args.name} : {morphism.type_text}")
        print(morphism.format_value(value))
    return EXIT_OK


def _load_params(program, path: str) -> None:
    """`--params FILE`: params from an array file or a training checkpoint, which is said."""
    step = program.load_params(path)
    if step is not None:
        from catdsl.frontend.program import checkpoint_in_epochs

        counted = "epoch" if checkpoint_in_epochs(path) else "training step"
        print(f"params from the checkpoint {path}, after {step} {counted}s", file=sys.stderr)


def _say_steps_override(program, args: argparse.Namespace) -> None:
    """`--steps N` (or `--epochs N`) on a definition written `step ^ M` runs N steps: say so
    (on stderr)."""
    flag, count = ("--steps", args.steps) if args.steps is not None else ("--epochs", args.epochs)
    written = program.steps_of(args.name) if count is not None else None
    if written is not None and written != count:
        print(
            f"{flag} {count} overrides the {written} steps `{args.name}` is written with",
            file=sys.stderr,
        )


# ------------------------------------------------------------------ eval
def cmd_eval(args: argparse.Namespace) -> int:
    """Compute a point (a metric) at the params of a params file or a training checkpoint."""
    program = _load(args)
    _load_params(program, args.params)
    morphism = program[args.name]
    value = morphism(None)
    if args.json:
        form = morphism.json_form(value)
        print(json.dumps({"name": args.name, "type": morphism.type_text, "value": form}))
    else:
        print(f"{args.name} : {morphism.type_text}")
        print(morphism.format_value(value))
    return EXIT_OK


# ------------------------------------------------------------------ train
def cmd_train(args: argparse.Namespace) -> int:
    if args.plot:
        from catdsl.files import check_write_target
        from catdsl.frontend.plots import plot_format

        plot_format(args.plot)  # a bad name is refused before the run, not after it
        check_write_target(args.plot)  # and so is a FIFO, a device or a symlink
    if args.keep_best and not args.best:
        raise UsageError("--keep-best needs --best max or --best min (for the first --validate)")
    program = _load(args, args.dtype)
    _say_steps_override(program, args)
    result = _train(
        program,
        args,
        steps=args.steps,
        checkpoint=args.checkpoint,
        progress=not args.json and _color(sys.stderr),
        epochs=args.epochs,
        validate=args.validate if args.validate or args.no_validate else None,
        keep_best=args.keep_best,
        best=args.best or "max",
        max_growth=args.max_growth,
    )
    if result is None:  # a process of a torchrun launch other than rank 0: rank 0 reports
        return EXIT_OK
    if args.plot:
        from catdsl.frontend.plots import plot_epochs, plot_losses

        title = f"{args.name} on {args.file}"
        if result.minibatch:
            plot_epochs(result.losses, result.metrics, result.resumed_from, args.plot, title)
        else:
            plot_losses([*result.losses, result.final_loss], args.plot, title=title)
    if args.json:
        print(
            json.dumps(
                {
                    "name": args.name,
                    "steps": result.steps,
                    "resumed_from": result.resumed_from,
                    "losses": result.losses,
                    "final_loss": result.final_loss,
                    "params": program.params_json_form(result.params),
                    **_train_extras_json(result),
                }
            )
        )
        return EXIT_OK
    if result.minibatch or result.metrics:
        return _print_epochs(args, result)
    from catdsl.frontend.training_run import sampled

    if result.resumed_from:
        print(f"resumed from {args.checkpoint} at step {result.resumed_from}")
    for step, loss in sampled(result.losses):
        if step >= result.resumed_from:
            print(f"step {step:>6}  loss {loss:.6g}")
    print(f"after {result.steps} step{'s' * (result.steps != 1)}: loss {result.final_loss:.6g}")
    if args.plot:
        print(f"loss curve written to {args.plot}")
    return EXIT_OK


def _train(program, args: argparse.Namespace, **options):
    """`program.train(NAME, **options)`, or a data-parallel run on torch: `--nproc N` processes
    started here, or this process's rank under `torchrun` (None on the ranks but 0)."""
    from catdsl.frontend import distributed

    ranked = distributed.torchrun_rank() if args.backend == "torch" else None
    if args.nproc == 1 and ranked is None:
        return program.train(args.name, **options)
    if args.backend != "torch":
        raise UsageError("--nproc needs --backend torch (data-parallel runs are on PyTorch)")
    job = distributed.job_of(args, options, getattr(args, "plugin", []))
    try:
        if ranked is not None:
            result = distributed.train_torchrun(job, *ranked)
        else:
            result = distributed.train_parallel(job, args.nproc)
    except (ImportError, ValueError) as err:
        raise UsageError(str(err)) from None
    if result is not None:
        program.params.update(result.params)
    return result


def _train_extras_json(result) -> dict:
    """`train --json`'s keys for minibatches, validation metrics and the kept best params."""
    extras: dict = {}
    if result.minibatch:
        extras["epochs"] = True
    if result.metrics:
        extras["metrics"] = result.metrics
    if result.best is not None:
        extras["best"] = {"step": result.best[0], "value": result.best[1]}
    return extras


def _print_epochs(args: argparse.Namespace, result) -> int:
    """`train`'s rows for a minibatch step (one row per epoch: its training loss) or a run with
    validation metrics: the loss each step trained on and the metrics after it."""
    from catdsl.frontend.training_run import sampled

    unit = "epoch" if result.minibatch else "step"
    first = 1 if result.minibatch else 0  # epochs count from 1, steps (before them) from 0
    if result.resumed_from:
        where = f"after epoch {result.resumed_from}" if result.minibatch else "at step"
        print(
            f"resumed from {args.checkpoint} {where}"
            + f" {result.resumed_from}" * (not result.minibatch)
        )
    for index, loss in sampled(result.losses):
        if index < result.resumed_from:
            continue
        columns = "".join(
            f"  {name} {values[index - result.resumed_from]:.6g}"
            for name, values in result.metrics.items()
        )
        print(f"{unit} {index + first:>6}  loss {loss:.6g}{columns}")
    plural = "s" * (result.steps != 1)
    print(f"after {result.steps} {unit}{plural}: loss {result.final_loss:.6g}")
    if result.best is not None:
        step, value = result.best
        metric = next(iter(result.metrics))
        where = f"{unit} {step - 1 + first}" if result.minibatch else f"after step {step}"
        print(f"best {metric} {value:.6g} at {where}: params written to {args.keep_best}")
    if args.plot:
        print(f"loss curve written to {args.plot}")
    return EXIT_OK


# ------------------------------------------------------------------ laws
def cmd_laws(args: argparse.Namespace) -> int:
    program = _load(args)
    reports = program.check_laws(samples=args.samples, seed=args.seed)
    if args.json:
        print(json.dumps([r.to_json() for r in reports]))
    else:
        if not reports:
            print(f"{args.file}: no laws")
        for r in reports:
            mark = "ok  " if r.holds else "FAIL"
            count = f"{r.samples} sample{'s' * (r.samples != 1)}"
            if r.cases > 1:
                count += f" in {r.cases} cases"
            if r.failure is not None:
                print(f"{mark} {r.name:<28} did not run  ({count})\n       {r.failure}")
                continue
            print(
                f"{mark} {r.name:<28} max error {r.max_error:.3e}  (tolerance {r.tolerance:g}, "
                f"{count})"
            )
            if r.counterexample is not None:
                print("\n".join(f"       {line}" for line in r.counterexample.lines()))
    return EXIT_OK if all(r.holds for r in reports) else EXIT_PROGRAM


# ------------------------------------------------------------------ gradcheck
def cmd_gradcheck(args: argparse.Namespace) -> int:
    program = _load(args)
    if args.one_step:
        return _one_step_check(program, args)
    eps = 1e-6 if args.eps is None else args.eps
    report = program.gradcheck(args.name, eps=eps, seed=args.seed)
    if args.json:
        print(json.dumps(report.to_json()))
    else:
        for row in report.rows:
            mark = "ok  " if row.ok else "FAIL"
            print(
                f"{mark} {row.name:<20} max relative error {row.max_rel_error:.3e}  "
                f"({row.size} coordinates)"
            )
        for warning in report.warnings:
            print(f"warning: {warning}")
    return EXIT_OK if report.ok else EXIT_PROGRAM


def _one_step_check(program: BaseProgram, args: argparse.Namespace) -> int:
    """`gradcheck --one-step`: the course's check of one gradient-descent step."""
    from catdsl.frontend.gradcheck import one_step

    if args.start is None or args.loss is None:
        raise UsageError("gradcheck --one-step needs --start STATE and --loss LOSS")
    eps = 1e-3 if args.eps is None else args.eps
    report = one_step(program, args.name, args.start, args.loss, args.lr, eps, args.tolerance)
    if args.json:
        print(json.dumps(report.to_json()))
    else:
        for r in report.rows:
            mark = "ok  " if r.ok else "FAIL"
            note = "  (negligible gradient)" if r.negligible else ""
            strict = "" if r.close else "  not within 1e-3 relative"
            print(
                f"{mark} {r.name:<8} at {list(r.coordinate)!s:<10} inferred {r.inferred: .6e}  "
                f"fd {r.fd: .6e}  error {r.error:.1e}{strict}{note}"
            )
    return EXIT_OK if report.ok else EXIT_PROGRAM


# ------------------------------------------------------------------ draw
def cmd_draw(args: argparse.Namespace) -> int:
    from catdsl.frontend.drawing import draw_command

    args.plugins_found = _plugin_finder(args)
    return draw_command(args)


# ------------------------------------------------------------------ explain
def cmd_explain(args: argparse.Namespace) -> int:
    """Print a diagnostic code's entry of docs/errors.md; an unknown code is a usage error."""
    from catdsl.frontend.explain import UnknownCode, explain

    try:
        entry = explain(args.code)
    except UnknownCode as err:
        raise UsageError(str(err)) from None
    print(json.dumps(entry.to_json()) if args.json else entry.text)
    return EXIT_OK


# ------------------------------------------------------------------ learn
def cmd_learn(args: argparse.Namespace) -> int:
    """catlings: the course's exercises one at a time (frontend/learn.py)."""
    from catdsl.frontend import learn

    if args.name is not None and args.action not in ("reset", "quiz"):
        raise UsageError(f"`{args.name}`: only `reset` and `quiz` take a name")
    if args.watch + args.verify + (args.action is not None) > 1:
        raise UsageError("--watch and --verify each go alone, without hint/list/reset/quiz")
    if args.key and args.action != "quiz":
        raise UsageError("--key is for `catdsl learn quiz`")
    try:
        course = learn.open_course(args.exercises, args.dir, _color(sys.stdout))
        if args.verify:
            return learn.verify(course, print)
        if args.action == "quiz":
            from catdsl.frontend.learn_quiz import quiz_command

            return quiz_command(args.name, args.key, course.root, print)
        if args.action == "reset":
            return learn.reset(course, args.name, print)
        progress = learn.Progress.load(course.folder)
        if args.action == "hint":
            return learn.hint(course, progress, print)
        if args.action == "list":
            return learn.listing(course, progress, print)
        return (learn.watch if args.watch else learn.run)(course, progress, print)
    except learn.LearnUsage as err:
        raise UsageError(str(err)) from None


# ------------------------------------------------------------------ export
def cmd_export(args: argparse.Namespace) -> int:
    """`export FILE NAME --to torch|onnx -o OUT`: the forward pass of NAME as a file."""
    from catdsl.frontend.export import export_onnx, export_torch

    program = _load(args, args.dtype)
    if args.params:
        _load_params(program, args.params)
    write = export_torch if args.to == "torch" else export_onnx
    try:
        write(program, args.name, args.output, args.dtype)
    except ImportError as err:
        raise UsageError(str(err)) from None
    print(f"wrote {args.output}: `{args.name} : {program[args.name].type_text}` for {args.to}")
    return EXIT_OK


# ------------------------------------------------------------------ main
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="catdsl", description="Typed ML pipelines as category theory writes them."
    )
    parser.add_argument("--version", action="version", version=f"catdsl {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="parse and type-check; report every diagnostic")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="diagnostics as JSON")
    p.add_argument(
        "--classify",
        action="store_true",
        help="name each definition ordinary, endomorphism, product-input, product-input "
        "returning its first factor, or state endomorphism, and say why",
    )
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("run", help="run a definition on an input")
    p.add_argument("file", metavar="FILE")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--input", help="the input as JSON, or a .npy/.npz file")
    p.add_argument("--port", action="append", default=[], metavar="NAME=JSON")
    p.add_argument("--params", help="parameter values from a .npz file")
    p.add_argument("--save", help="save the result to a .npz file")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.add_argument("--json", action="store_true")
    _backend_options(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("train", help="iterate a training endomorphism and report the loss")
    p.add_argument("file", metavar="FILE")
    p.add_argument("name", metavar="NAME", help="a step (`TrainStep`, `Adam`, ...) or its power")
    p.add_argument(
        "--steps",
        type=int,
        default=None,
        help="number of steps (default: the power's n)",
    )
    p.add_argument(
        "--epochs",
        type=_at_least_zero,
        default=None,
        help="number of passes over the data: steps of a minibatch step (`batch = B`), "
        "of which each is an epoch; for a full-batch step the same as --steps",
    )
    p.add_argument("--plot", help="draw the loss curve to a .png/.svg/.pdf")
    p.add_argument("--checkpoint", help="save state atomically to this .npz and resume from it")
    p.add_argument(
        "--validate",
        action="append",
        default=[],
        metavar="NAME",
        help="a metric (a point of one number) to compute after each step (repeatable; "
        "default: the program's `val_...` metrics that use the trained params)",
    )
    p.add_argument(
        "--no-validate", action="store_true", help="compute no metric, not even the `val_...` ones"
    )
    p.add_argument(
        "--keep-best",
        metavar="PARAMS.npz",
        help="save the params of the best step by the first --validate metric to this file",
    )
    p.add_argument(
        "--best",
        choices=("max", "min"),
        help="whether the best metric is the largest (accuracy) or the smallest (a loss)",
    )
    p.add_argument(
        "--max-growth",
        type=_positive(float),
        metavar="FACTOR",
        help="stop with an error when the loss grows beyond FACTOR times its lowest so far",
    )
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.add_argument("--json", action="store_true")
    _backend_options(p)
    p.add_argument(
        "--nproc",
        type=_positive(int),
        default=1,
        metavar="N",
        help="with --backend torch: train as N data-parallel processes (docs/scaling.md)",
    )
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="compute a point (a metric) at a checkpoint's params")
    p.add_argument("file", metavar="FILE")
    p.add_argument("name", metavar="NAME")
    p.add_argument(
        "--params",
        required=True,
        metavar="FILE.npz",
        help="a checkpoint written by `train --checkpoint`, or a params file",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("draw", help="draw a definition or law as a string diagram")
    p.add_argument("file", metavar="FILE")
    p.add_argument("name", metavar="NAME", nargs="?")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="OUT.svg, .png, .pdf or .dot; with no NAME, also DIR/ (an SVG each and index.html)",
    )
    p.add_argument("--shapes", action="store_true", help="label wires with carriers and dims")
    p.add_argument(
        "--expand", type=_at_least_zero, default=0, metavar="DEPTH", help="open named definitions"
    )
    p.add_argument("--unroll", action="store_true", help="draw f ^ n as n copies")
    p.set_defaults(func=cmd_draw)

    p = sub.add_parser("laws", help="check every law numerically")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--samples", type=_positive(int), default=16, help="random points per law")
    p.add_argument("--seed", type=_seed, default=0, help="0 to 4294967295")
    p.add_argument("--json", action="store_true")
    _backend_options(p)
    p.set_defaults(func=cmd_laws)

    p = sub.add_parser("gradcheck", help="reverse-mode gradients against central differences")
    p.add_argument("file", metavar="FILE")
    p.add_argument("name", metavar="NAME")
    p.add_argument(
        "--eps", type=_positive(float), help="finite-difference step (1e-6; 1e-3 with --one-step)"
    )
    p.add_argument("--seed", type=_seed, default=0, help="0 to 4294967295")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--one-step",
        action="store_true",
        help="the course's check of the training step NAME: infer each param's gradient from "
        "its largest change and compare it with a central difference of --loss (eps 1e-3)",
    )
    p.add_argument("--start", metavar="STATE", help="with --one-step: the starting state")
    p.add_argument("--loss", metavar="LOSS", help="with --one-step: the state's loss")
    p.add_argument("--lr", type=_positive(float), help="with --one-step: the step's rate")
    p.add_argument(
        "--tolerance", type=_positive(float), default=1e-2, help="with --one-step: absolute"
    )
    _backend_options(p)
    p.set_defaults(func=cmd_gradcheck)

    p = sub.add_parser("export", help="write a forward morphism for PyTorch (torch.export) or ONNX")
    p.add_argument("file", metavar="FILE")
    p.add_argument("name", metavar="NAME")
    p.add_argument(
        "--to",
        choices=("torch", "onnx"),
        required=True,
        help="torch: a torch.export program (.pt2, `torch.export.load`); onnx: an ONNX model",
    )
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="model.pt2 / model.onnx")
    p.add_argument("--params", help="parameter values from a .npz file or a checkpoint")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("explain", help="print the entry of a diagnostic code (E0201, R0412, ...)")
    p.add_argument("code", metavar="CODE")
    p.add_argument("--json", action="store_true", help="the entry as JSON: code, title, text")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("learn", help="catlings: learn the course by fixing typed programs")
    p.add_argument("action", nargs="?", choices=("hint", "list", "reset", "quiz"))
    p.add_argument("name", nargs="?", metavar="NAME", help="reset: an exercise; quiz: a set")
    p.add_argument("--watch", action="store_true", help="check again on every save")
    p.add_argument("--verify", action="store_true", help="check every exercise and solution")
    p.add_argument("--key", action="store_true", help="quiz: print the answer key")
    p.add_argument("--dir", type=_directory, help="the learner's folder (default: here)")
    p.add_argument("--exercises", type=_directory, metavar="DIR", help="another exercise set")
    p.set_defaults(func=cmd_learn)

    for name, command in sub.choices.items():
        if name not in ("explain", "learn"):
            command.add_argument(
                "--allow-read",
                action="append",
                default=[],
                type=_directory,
                metavar="DIR",
                help="let the program import and load files under DIR too (repeatable; "
                "by default it reads only its own directory)",
            )
    for name, command in sub.choices.items():
        if name != "explain":
            command.add_argument(
                "--plugin",
                action="append",
                default=[],
                metavar="MODULE",
                help="Python primitives for `import plugin.NAME`: a module or a .py file that "
                "defines a catdsl.PrimitiveSet (repeatable; runs its code)",
            )
    return parser


def _version() -> str:
    from catdsl import __version__

    return __version__


def _directory(text: str) -> str:
    """An argparse type: an existing directory."""
    import os

    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"`{text}` is not a directory")
    return text


def _positive(kind: type) -> Callable[[str], object]:
    """An argparse type: a number of `kind` greater than zero."""

    def parse(text: str) -> object:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"`{text}` is not a number") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0, not {text}")
        return value

    parse.__name__ = kind.__name__  # what argparse names in its messages
    return parse


def _seed(text: str) -> int:
    """An argparse type: a random seed, a whole number from 0 to 2^32 - 1."""
    try:
        value = int(text) if len(text) < 40 else -1
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text[:40]}` is not a whole number") from None
    if not 0 <= value <= 2**32 - 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to 4294967295, not {text[:40]}")
    return value


def _at_least_zero(text: str) -> int:
    """An argparse type: a whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised as a Ctrl-C is (a KeyboardInterrupt) so that every `finally`
    (temporaries) runs and a training loop saves its checkpoint at its last completed step."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code not in (0, None) else EXIT_OK
    from catdsl.typesys.limits import BudgetSettingError, memory_budget

    try:
        memory_budget()  # a bad CATDSL_MEMORY_BUDGET is bad usage, told before anything runs
    except BudgetSettingError as err:
        print(f"catdsl: {err}", file=sys.stderr)
        return EXIT_USAGE
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return _flushed(_guarded(args.func, args))
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return _flushed(_guarded(args.func, args))
    finally:
        signal.signal(signal.SIGTERM, previous)


EXIT_CLOSED_PIPE = 141
"""128 + SIGPIPE: what a command killed by a closed pipe returns (`catdsl ... | head -1`)."""


def _flushed(code: int) -> int:
    """Write what is still buffered now, so a closed pipe is noticed here, not at exit."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return _closed_pipe()
    return code


def _closed_pipe() -> int:
    """The reader of the output went away: stop quietly, with stdout pointed at /dev/null so
    that the interpreter's last flush finds nothing to complain about."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file behind stdout (tests)
        pass
    return EXIT_CLOSED_PIPE


def _guarded(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Map every failure to its exit code; an unexpected exception is a bug (70)."""
    as_json = getattr(args, "json", False)
    try:
        return func(args)
    except CatError as err:
        _print_diagnostics(err.diagnostics, err.sources, as_json)
        io_only = all(d.code.startswith(IO_CODES) for d in err.diagnostics)
        return EXIT_USAGE if io_only and err.diagnostics else EXIT_PROGRAM
    except CatRuntimeError as err:
        _print_diagnostics([err.diagnostic], {}, as_json)
        return EXIT_USAGE if err.diagnostic.code.startswith(IO_CODES) else EXIT_PROGRAM
    except UsageError as err:
        print(f"catdsl: {err}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return _closed_pipe()
    except OSError as err:
        message = err.strerror or str(err)
        if err.filename and str(err.filename) not in message:
            message = f"{message}: {err.filename}"
        print(f"catdsl: {message}", file=sys.stderr)
        return EXIT_USAGE
    except Terminated:
        print("catdsl: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt as err:
        if isinstance(err.__context__, Terminated):  # a training loop stopped and saved
            print(f"catdsl: terminated: {err}", file=sys.stderr)
            return 143
        print(f"catdsl: {err}" if str(err) else "catdsl: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        print(
            f"catdsl: internal error: {type(err).__name__}: {err}\n"
            "This is a bug in catdsl; please report it with the program that caused it.",
            file=sys.stderr,
        )
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
