"""The long fuzz run (`make fuzz`): N seeded mutations of the course programs.

Each input is one mutation class of `tests/fuzzkit.py` applied to one course program with one
seed, so `(class, program, seed)` reproduces it. Every input goes through `catdsl.loads`; one
in `--run-every` that checks also runs its points and its laws (small sizes only); one in
`--cli-every` also goes through the CLI (`catdsl check`, then `run` of a point and `laws`) in a
subprocess. A finding is an internal error: an exception other than `CatError` escaping the
API, a CLI exit 70 or a traceback, or no answer within `--time-limit` seconds (a hang).
Findings are grouped by what went wrong; the first input of each group is minimised (lines
dropped while the same error remains, within a small budget) and written to `--out`.

    python bench/fuzz.py                 # 100,000 inputs, seed 0
    python bench/fuzz.py --n 2000 --seed 7 --jobs 2
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import fuzzkit  # noqa: E402

MEMORY_LIMIT = 3 << 30  # bytes per worker: a huge allocation is a MemoryError, not a swap storm
CHUNK = 20
"""Inputs sent to a worker at a time."""
WORKER_CHUNKS = 50
"""Chunks a worker runs before a fresh one replaces it: address space left behind by earlier
inputs (freed arrays, fragmented arenas) grows under the memory limit, and after some
7,000–9,000 inputs in one process it turned later inputs into MemoryErrors that were not theirs."""
WORKER_DIED = "worker died"
"""The finding of an input whose worker process ended abruptly (killed, or a crash in native
code) while running it alone."""

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


class Timeout(Exception):
    pass


@dataclass(frozen=True)
class Case:
    kind: str
    program: str
    seed: int
    run: bool
    cli: bool


@dataclass
class Result:
    case: Case
    checked: bool = False
    points: int = 0
    laws: int = 0
    seconds: float = 0.0
    finding: str | None = None  # the signature of what went wrong


_SEEDS: dict[str, str] = {}
_DONORS: list[str] = []


def _init(time_limit: float) -> None:
    global _SEEDS, _DONORS, _LIMIT
    _SEEDS, _DONORS, _LIMIT = fuzzkit.seed_programs(), fuzzkit.donor_programs(), time_limit
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    signal.signal(signal.SIGALRM, _expire)


_LIMIT = 5.0


def _expire(*_: object) -> None:
    raise Timeout


def signature(exc: BaseException) -> str:
    """What went wrong, without the parts that vary between inputs (numbers, names)."""
    if isinstance(exc, Timeout):
        return "timeout"
    text = str(exc).splitlines()[0] if str(exc) else ""
    text = re.sub(r"\d+", "N", text)
    text = re.sub(r"`[^`]*`|'[^']*'|\"[^\"]*\"", "…", text)[:120]
    return f"{type(exc).__name__}: {text}"


def run_case(case: Case) -> Result:
    text = fuzzkit.mutate(case.kind, case.seed, _SEEDS[case.program], _DONORS)
    result = Result(case)
    began = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, _LIMIT)
    try:
        outcome = fuzzkit.run_text(text, run=case.run)
        result.checked, result.points, result.laws = outcome.checked, outcome.points, outcome.laws
    except (Exception, Timeout, RecursionError, MemoryError) as exc:
        result.finding = signature(exc)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    if case.cli and result.finding is None:
        result.finding = _cli(text, result.checked)
    result.seconds = time.perf_counter() - began
    return result


def run_chunk(chunk: Sequence[Case]) -> list[Result]:
    return [run_case(case) for case in chunk]


def drive(
    items: Sequence[Item],
    work: Callable[[Sequence[Item]], list[Outcome]],
    died: Callable[[Item], Outcome],
    jobs: int,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[object, ...] = (),
    chunk: int = CHUNK,
) -> Iterator[Outcome]:
    """`work`'s outcome for every item, in chunks over `jobs` worker processes, as they finish.

    A worker that dies (killed, or a crash in native code) breaks its pool, and every chunk
    not finished then fails with it. Those run again in a fresh pool, halved, until an item
    fails on its own; each such item then runs alone, and if its worker dies again its outcome
    is `died(item)`. So a death is reported against the input that caused it, and never hangs
    the run or drops the inputs around it."""
    pending = [list(items[i : i + chunk]) for i in range(0, len(items), chunk)]
    suspects: list[Item] = []
    while pending:
        failed: list[list[Item]] = []
        with _pool(jobs, initializer, initargs) as pool:
            futures = {pool.submit(work, part): part for part in pending}
            for future in as_completed(futures):
                try:
                    yield from future.result()
                except BrokenProcessPool:
                    failed.append(futures[future])
        pending = []
        for part in failed:
            if len(part) == 1:
                suspects.extend(part)
            else:
                half = len(part) // 2
                pending += [part[:half], part[half:]]
    for item in suspects:
        with _pool(1, initializer, initargs) as pool:
            try:
                yield from pool.submit(work, [item]).result()
            except BrokenProcessPool:
                yield died(item)


def _pool(
    jobs: int, initializer: Callable[..., None] | None, initargs: tuple[object, ...]
) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        jobs, initializer=initializer, initargs=initargs, max_tasks_per_child=WORKER_CHUNKS
    )


def _cli(text: str, checked: bool) -> str | None:
    """`catdsl check` (and, for a program that checks, `run` of its last point and `laws`) in a
    subprocess: exit 70, a traceback or a timeout is a finding."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "fuzz.cat"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        commands = [["check", str(path)]]
        if checked:
            point = _last_point(text)
            if point:
                commands.append(["run", str(path), point])
            commands.append(["laws", str(path), "--samples", "2"])
        for argv in commands:
            try:
                done = subprocess.run(
                    [sys.executable, "-m", "catdsl", *argv],
                    capture_output=True,
                    text=True,
                    timeout=max(_LIMIT, 10.0),
                    cwd=directory,
                    env={**os.environ, "PYTHONPATH": str(ROOT)},
                )
            except subprocess.TimeoutExpired:
                return f"timeout: catdsl {argv[0]}"
            if done.returncode == 70 or "Traceback" in done.stdout + done.stderr:
                return f"exit {done.returncode}: catdsl {argv[0]}: {signature_text(done.stderr)}"
    return None


def signature_text(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    return re.sub(r"\d+", "N", lines[-1])[:120] if lines else ""


def _last_point(text: str) -> str | None:
    import catdsl
    from catdsl.errors import CatError

    try:
        program = catdsl.loads(text, "fuzz.cat")
    except CatError:
        return None
    points = [n for n in program.names if not program[n].dom.atoms and not program[n].ports]
    small = [n for n in points if fuzzkit._work(program[n].term) <= fuzzkit.MAX_WORK]
    return small[-1] if small and fuzzkit._small(program) else None


def minimise(case: Case, found: str, budget: float = 20.0) -> str:
    """The input of `case` with lines (then characters of the longest line) dropped while
    `run_case` still finds `found`, within `budget` seconds."""
    text = fuzzkit.mutate(case.kind, case.seed, _SEEDS[case.program], _DONORS)
    if found.startswith(("timeout", "exit", WORKER_DIED)):  # (not re-run in this process)
        return text
    deadline = time.perf_counter() + budget

    def same(candidate: str) -> bool:
        signal.setitimer(signal.ITIMER_REAL, _LIMIT)
        try:
            fuzzkit.run_text(candidate, run=case.run)
        except (Exception, Timeout, RecursionError, MemoryError) as exc:
            return signature(exc) == found
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        return False

    lines = text.splitlines(True)
    chunk = max(1, len(lines) // 2)
    while chunk >= 1 and time.perf_counter() < deadline:
        i, shrunk = 0, False
        while i < len(lines) and time.perf_counter() < deadline:
            candidate = lines[:i] + lines[i + chunk :]
            if candidate and same("".join(candidate)):
                lines, shrunk = candidate, True
            else:
                i += chunk
        if not shrunk:
            chunk //= 2
    return "".join(lines)


@dataclass
class Tally:
    inputs: Counter = field(default_factory=Counter)
    checked: Counter = field(default_factory=Counter)
    points: Counter = field(default_factory=Counter)
    laws: Counter = field(default_factory=Counter)
    cli: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    timeouts: Counter = field(default_factory=Counter)
    seconds: Counter = field(default_factory=Counter)
    findings: dict = field(default_factory=lambda: defaultdict(list))

    def add(self, result: Result) -> None:
        kind = result.case.kind
        self.inputs[kind] += 1
        self.checked[kind] += result.checked
        self.points[kind] += result.points
        self.laws[kind] += result.laws
        self.cli[kind] += result.case.cli
        self.seconds[kind] += result.seconds
        if result.finding is not None:
            if result.finding.startswith("timeout"):
                self.timeouts[kind] += 1
            else:
                self.errors[kind] += 1
            self.findings[(kind, result.finding)].append(result.case)


def cases(n: int, seed: int, run_every: int, cli_every: int) -> list[Case]:
    import random

    rng = random.Random(seed)
    kinds, programs = sorted(fuzzkit.MUTATIONS), sorted(fuzzkit.seed_programs())
    return [
        Case(
            kinds[i % len(kinds)],
            rng.choice(programs),
            rng.randrange(2**32),
            run=(i // len(kinds)) % run_every == 0,  # every class gets its share
            cli=cli_every > 0 and (i // len(kinds)) % cli_every == 0,
        )
        for i in range(n)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="inputs (default 100,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--time-limit", type=float, default=5.0, help="seconds per input")
    parser.add_argument("--run-every", type=int, default=4, help="run points and laws of 1 in K")
    parser.add_argument("--cli-every", type=int, default=500, help="CLI of 1 in K (0: never)")
    parser.add_argument("--out", default="out/fuzz", help="where reproducers are written")
    parser.add_argument("--no-minimise", action="store_true")
    args = parser.parse_args(argv)

    todo = cases(args.n, args.seed, max(1, args.run_every), args.cli_every)
    tally = Tally()
    began = time.perf_counter()
    results = drive(
        todo,
        run_chunk,
        lambda case: Result(case, finding=WORKER_DIED),
        args.jobs,
        initializer=_init,
        initargs=(args.time_limit,),
    )
    for done, result in enumerate(results, 1):
        tally.add(result)
        if done % 1000 == 0:
            print(f"  {done}/{args.n} inputs, {time.perf_counter() - began:.0f} s", file=sys.stderr)
    elapsed = time.perf_counter() - began
    report(tally, args, elapsed)
    return 1 if tally.findings else 0


def report(tally: Tally, args: argparse.Namespace, elapsed: float) -> None:
    print(f"catdsl fuzz: {args.n} inputs, seed {args.seed}, {args.jobs} job(s), {elapsed:.0f} s")
    header = ("class", "inputs", "check ok", "points", "laws", "cli", "internal", "timeouts", "s")
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for kind in sorted(tally.inputs):
        counts = (tally.inputs, tally.checked, tally.points, tally.laws, tally.cli, tally.errors)
        row = (kind, *(c[kind] for c in counts), tally.timeouts[kind], f"{tally.seconds[kind]:.0f}")
        print("| " + " | ".join(str(c) for c in row) + " |")
    total = sum(tally.errors.values()) + sum(tally.timeouts.values())
    print(f"\n{total} finding(s) in {len(tally.findings)} group(s)")
    if not tally.findings:
        return
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _init(args.time_limit)
    for number, ((kind, found), found_cases) in enumerate(sorted(tally.findings.items()), 1):
        case = found_cases[0]
        text = (
            fuzzkit.mutate(case.kind, case.seed, _SEEDS[case.program], _DONORS)
            if args.no_minimise
            else minimise(case, found)
        )
        path = out / f"finding-{number:02d}-{kind}.cat"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        shown = text if len(text) <= 240 else text[:200] + f"… ({len(text)} characters)"
        print(f"\n[{number}] {kind} × {len(found_cases)}: {found}")
        call = f"fuzzkit.mutate({case.kind!r}, {case.seed}, seeds[{case.program!r}], donors)"
        print(f"    reproduce: {call}")
        print(f"    minimised: {path}")
        print("    " + shown.replace("\n", "\n    "))


if __name__ == "__main__":
    sys.exit(main())
