"""Hostile input: what a program may read and write, and that nothing can make catdsl run code.

Each test is one of the refusals docs/security.md describes. Commands that could hang on a FIFO
or read `/dev/zero` forever run in a subprocess with a timeout, so a regression fails instead of
blocking the suite.
"""

from __future__ import annotations

import io
import os
import pickle
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, TINY

import catdsl
from catdsl import cli
from catdsl.errors import CatError, CatRuntimeError
from catdsl.files import (
    STALE_AFTER,
    atomic_output,
    load_array_file,
    load_named_arrays,
    save_npz_atomic,
)
from catdsl.loader import check_file, check_text

POINT = "object X : Real[3]\ndata w : X = [1.0, 2.0, 3.0]\n"


def run_cli(capsys, *argv: object) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_process(*argv: object, cwd: Path, env: dict[str, str] | None = None):
    """`python -m catdsl ARGV` in a subprocess that must end within 60 s."""
    return subprocess.run(
        [sys.executable, "-m", "catdsl", *map(str, argv)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
    )


def codes(program) -> list[str]:
    return [d.code for d in program.diagnostics]


def lying_npy(claimed: tuple[int, ...] = (10**10,)) -> bytes:
    """A .npy file whose header claims `claimed` float64s but which holds 64 bytes of data."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": claimed}
    )
    return header.getvalue() + b"\0" * 64


needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")


# ============================================================== imports read the program's tree
def test_import_of_etc_passwd_is_refused_without_echoing_it(tmp_path, capsys) -> None:
    (tmp_path / "a.cat").write_text('import "/etc/passwd"\n\ndim V = 5\n')
    code, out, err = run_cli(capsys, "check", tmp_path / "a.cat")
    assert code == 1
    assert "error[E0705]" in err and "`/etc/passwd`" in err
    assert "root:" not in out + err
    # the caret is under the string literal, not under `import`
    program = check_file(tmp_path / "a.cat")
    (diag,) = program.diagnostics
    assert (diag.span.line, diag.span.column, diag.span.end_column) == (1, 8, 21)


def test_import_of_proc_environ_is_refused(tmp_path, capsys) -> None:
    (tmp_path / "a.cat").write_text('import "/proc/self/environ"\n')
    code, out, err = run_cli(capsys, "check", tmp_path / "a.cat")
    assert code == 1 and "error[E0705]" in err
    assert "PATH=" not in out + err


@pytest.mark.parametrize(
    "written", ["../lib.cat", "sub/../../lib.cat", "{outside}/lib.cat"], ids=str
)
def test_imports_leading_out_of_the_tree_are_refused(tmp_path, capsys, written) -> None:
    outside, tree = tmp_path, tmp_path / "tree"
    tree.mkdir()
    (tree / "sub").mkdir()
    (outside / "lib.cat").write_text("dim V = 5\n")
    written = written.format(outside=outside)
    (tree / "main.cat").write_text(f'import "{written}"\n\nobject X : Real[V]\n')
    code, _, err = run_cli(capsys, "check", tree / "main.cat")
    assert code == 1
    assert "error[E0704]" in err and f"`{written}`" in err and str(tree) in err
    # allowed explicitly, on the command line and in the API
    code, out, _ = run_cli(capsys, "check", "--allow-read", outside, tree / "main.cat")
    assert code == 0 and "ok" in out
    assert catdsl.load(str(tree / "main.cat"), allow_read=[outside]).file


def test_a_symlink_leading_out_is_refused_one_inside_is_followed(tmp_path, capsys) -> None:
    outside, tree = tmp_path, tmp_path / "tree"
    tree.mkdir()
    (outside / "lib.cat").write_text("dim V = 5\n")
    (tree / "inner.cat").write_text("dim V = 5\n")
    (tree / "out.cat").symlink_to(outside / "lib.cat")
    (tree / "in.cat").symlink_to(tree / "inner.cat")
    (tree / "a.cat").write_text('import "out.cat"\n')
    (tree / "b.cat").write_text('import "in.cat"\n\nobject X : Real[V]\n')
    assert codes(check_file(tree / "a.cat")) == ["E0704"]
    assert "symbolic link" in check_file(tree / "a.cat").diagnostics[0].message
    assert codes(check_file(tree / "b.cat")) == []


def test_text_without_a_file_reads_from_the_working_directory(tmp_path, monkeypatch) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tmp_path / "lib.cat").write_text("dim V = 5\n")
    (tree / "lib.cat").write_text("dim V = 5\n")
    monkeypatch.chdir(tree)
    assert codes(check_text('import "lib.cat"\n')) == []
    assert codes(check_text('import "../lib.cat"\n')) == ["E0704"]
    assert codes(check_text('import "../lib.cat"\n', allow_read=[tmp_path])) == []
    with pytest.raises(CatError) as info:
        catdsl.loads('import "../lib.cat"\n')
    assert info.value.diagnostics[0].code == "E0704"
    assert catdsl.loads('import "../lib.cat"\n', allow_read=[str(tmp_path)]) is not None


@needs_fifo
def test_a_fifo_as_import_or_program_is_refused_without_hanging(tmp_path) -> None:
    os.mkfifo(tmp_path / "pipe.cat")
    (tmp_path / "a.cat").write_text('import "pipe.cat"\n')
    done = run_process("check", "a.cat", cwd=tmp_path)
    assert done.returncode == 1
    assert "error[E0703]" in done.stderr and "FIFO" in done.stderr
    done = run_process("check", "pipe.cat", cwd=tmp_path)
    assert done.returncode == 2
    assert "pipe.cat" in done.stderr and "FIFO" in done.stderr
    assert "Traceback" not in done.stderr


def test_dev_zero_as_program_or_import_is_refused_without_reading(tmp_path) -> None:
    done = run_process("check", "/dev/zero", cwd=tmp_path)
    assert done.returncode == 2
    assert "/dev/zero" in done.stderr and "character device" in done.stderr
    (tmp_path / "zero.cat").symlink_to("/dev/zero")
    (tmp_path / "a.cat").write_text('import "zero.cat"\n')
    done = run_process("check", "--allow-read", "/dev", "a.cat", cwd=tmp_path)
    assert done.returncode == 1
    assert "error[E0703]" in done.stderr and "character device" in done.stderr


def test_allow_read_must_name_a_directory(tmp_path, capsys) -> None:
    (tmp_path / "a.cat").write_text("dim V = 5\n")
    code, _, err = run_cli(capsys, "check", "--allow-read", tmp_path / "nope", tmp_path / "a.cat")
    assert code == 2 and "is not a directory" in err


# ============================================================== load("…") reads the tree too
def test_load_outside_the_tree_is_refused_at_the_string(tmp_path, capsys) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    np.save(tmp_path / "w.npy", np.arange(3.0))
    (tree / "a.cat").write_text('object X : Real[3]\ndata w : X = load("../w.npy")\n')
    code, _, err = run_cli(capsys, "run", tree / "a.cat", "w")
    assert code == 1
    assert "a.cat:2:19: error[E0704]: cannot load `../w.npy`" in err
    code, out, _ = run_cli(capsys, "run", tree / "a.cat", "w", "--allow-read", tmp_path)
    assert code == 0 and "[0. 1. 2.]" in out
    (tree / "b.cat").write_text('object X : Real[3]\ndata w : X = load("/etc/w.npy")\n')
    assert codes(check_file(tree / "b.cat")) == ["E0704"]


@needs_fifo
def test_load_of_a_fifo_is_refused_without_hanging(tmp_path) -> None:
    os.mkfifo(tmp_path / "w.npy")
    (tmp_path / "a.cat").write_text('object X : Real[3]\ndata w : X = load("w.npy")\n')
    done = run_process("run", "a.cat", "w", cwd=tmp_path)
    assert done.returncode == 2
    assert "error[R0505]" in done.stderr and "FIFO" in done.stderr
    done = run_process("run", "a.cat", "w", "--input", "w.npy", cwd=tmp_path)
    assert done.returncode == 2 and "error[R0505]" in done.stderr


def test_special_files_are_refused_by_the_array_readers() -> None:
    for reader in (load_array_file, load_named_arrays):
        with pytest.raises(CatRuntimeError) as info:
            reader("/dev/zero")
        assert info.value.diagnostic.code == "R0505"
        assert "/dev/zero" in info.value.diagnostic.message


# ============================================================== array headers before arrays
def test_a_lying_npy_header_is_a_clean_error_everywhere(tmp_path, capsys) -> None:
    (tmp_path / "big.npy").write_bytes(lying_npy())
    assert len(lying_npy()) == 192
    with pytest.raises(CatRuntimeError) as info:
        load_array_file(str(tmp_path / "big.npy"))
    message = info.value.diagnostic.message
    assert info.value.diagnostic.code == "R0506"
    assert "big.npy" in message and "(10000000000,)" in message
    # --input
    (tmp_path / "a.cat").write_text(POINT + "let f : X -> X = X\n")
    code, _, err = run_cli(capsys, "run", tmp_path / "a.cat", "f", "--input", tmp_path / "big.npy")
    assert code == 2 and "error[R0506]" in err and "(10000000000,)" in err
    # load("…") in the program
    (tmp_path / "b.cat").write_text('object X : Real[3]\ndata w : X = load("big.npy")\n')
    code, _, err = run_cli(capsys, "run", tmp_path / "b.cat", "w")
    assert code == 2 and "error[R0506]" in err and "big.npy" in err
    assert "MemoryError" not in err and "internal error" not in err


def test_a_lying_npz_member_is_a_clean_error(tmp_path, capsys) -> None:
    with zipfile.ZipFile(tmp_path / "p.npz", "w") as archive:
        archive.writestr("W.npy", lying_npy((10**5, 10**5)))
    for reader in (load_array_file, load_named_arrays):
        with pytest.raises(CatRuntimeError) as info:
            reader(str(tmp_path / "p.npz"))
        assert info.value.diagnostic.code == "R0506"
        assert "`W.npy`" in info.value.diagnostic.message
        assert "(100000, 100000)" in info.value.diagnostic.message
    (tmp_path / "a.cat").write_text("object X : Real[3]\nparam W : Real[3] = zeros\n")
    code, _, err = run_cli(capsys, "run", tmp_path / "a.cat", "W", "--params", tmp_path / "p.npz")
    assert code == 2 and "error[R0506]" in err


def test_an_honest_header_over_the_budget_is_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("catdsl.files.MAX_ARRAY_BYTES", 16)
    np.save(tmp_path / "w.npy", np.arange(3.0))
    with pytest.raises(CatRuntimeError) as info:
        load_array_file(str(tmp_path / "w.npy"))
    assert info.value.diagnostic.code == "R0506"
    assert "memory budget" in info.value.diagnostic.message


def test_honest_files_still_load(tmp_path) -> None:
    np.save(tmp_path / "w.npy", np.arange(6.0).reshape(2, 3))
    np.savez(tmp_path / "p.npz", W=np.ones(3), b=np.zeros(2))
    (w,) = load_array_file(str(tmp_path / "w.npy"))
    assert w.shape == (2, 3)
    assert sorted(load_named_arrays(str(tmp_path / "p.npz"))) == ["W", "b"]


def test_object_arrays_are_never_unpickled(tmp_path) -> None:
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(CatRuntimeError) as info:
        load_array_file(str(tmp_path / "o.npy"))
    assert info.value.diagnostic.code == "R0503"


# ============================================================== writes replace regular files only
@needs_fifo
def test_save_onto_a_fifo_leaves_the_fifo(tmp_path) -> None:
    (tmp_path / "a.cat").write_text(POINT)
    os.mkfifo(tmp_path / "out.npz")
    done = run_process("run", "a.cat", "w", "--save", "out.npz", cwd=tmp_path)
    assert done.returncode == 2
    assert "error[R0505]" in done.stderr and "`out.npz`" in done.stderr and "FIFO" in done.stderr
    assert (tmp_path / "out.npz").is_fifo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.cat", "out.npz"]


def test_save_onto_a_symlink_leaves_it_and_its_target(tmp_path, capsys) -> None:
    (tmp_path / "a.cat").write_text(POINT)
    (tmp_path / "target.npz").write_bytes(b"precious")
    (tmp_path / "link.npz").symlink_to(tmp_path / "target.npz")
    code, _, err = run_cli(capsys, "run", tmp_path / "a.cat", "w", "--save", tmp_path / "link.npz")
    assert code == 2 and "error[R0505]" in err and "symbolic link" in err
    assert (tmp_path / "link.npz").is_symlink()
    assert (tmp_path / "target.npz").read_bytes() == b"precious"


def test_save_onto_a_device_is_refused(tmp_path, capsys) -> None:
    (tmp_path / "a.cat").write_text(POINT)
    before = os.stat("/dev/null")
    code, _, err = run_cli(capsys, "run", tmp_path / "a.cat", "w", "--save", "/dev/null")
    assert code == 2 and "error[R0505]" in err and "character device" in err
    after = os.stat("/dev/null")
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)


def test_save_replaces_a_regular_file(tmp_path, capsys) -> None:
    (tmp_path / "a.cat").write_text(POINT)
    (tmp_path / "out.npz").write_bytes(b"old")
    code, _, _ = run_cli(capsys, "run", tmp_path / "a.cat", "w", "--save", tmp_path / "out.npz")
    assert code == 0
    with np.load(tmp_path / "out.npz") as saved:
        assert saved["value"].tolist() == [1.0, 2.0, 3.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.cat", "out.npz"]


def test_draw_plot_and_checkpoint_refuse_non_regular_targets(tmp_path, capsys) -> None:
    from catdsl.frontend.plots import plot_losses
    from catdsl.semantics.checkpoint import save_checkpoint

    (tmp_path / "a.cat").write_text(POINT)
    (tmp_path / "elsewhere").write_text("keep")
    for name in ("d.dot", "loss.svg", "state.npz"):
        (tmp_path / name).symlink_to(tmp_path / "elsewhere")
    code, _, err = run_cli(capsys, "draw", tmp_path / "a.cat", "w", "-o", tmp_path / "d.dot")
    assert code == 2 and "error[R0505]" in err
    pytest.importorskip("matplotlib")
    with pytest.raises(CatRuntimeError) as info:
        plot_losses([1.0, 0.5], str(tmp_path / "loss.svg"))
    assert info.value.diagnostic.code == "R0505"
    with pytest.raises(CatRuntimeError) as info:
        save_checkpoint(tmp_path / "state.npz", (np.ones(2),), 1)
    assert info.value.diagnostic.code == "R0505"
    assert (tmp_path / "elsewhere").read_text() == "keep"
    assert all((tmp_path / n).is_symlink() for n in ("d.dot", "loss.svg", "state.npz"))


def test_a_failed_or_interrupted_write_leaves_no_temporary(tmp_path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    for error in (ValueError("boom"), KeyboardInterrupt()):
        with pytest.raises(type(error)), atomic_output(target) as file:
            file.write(b"half")
            raise error
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_sigterm_during_a_write_removes_the_temporary(tmp_path, capsys, monkeypatch) -> None:
    target = tmp_path / "out.bin"

    def command(args) -> int:
        with atomic_output(target) as file:
            file.write(b"half")
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the signal arrives before this ends
        return 0

    monkeypatch.setattr(cli, "cmd_check", command)
    code, _, err = run_cli(capsys, "check", "x.cat")
    assert code == 143 and "terminated" in err
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is not cli._on_sigterm  # restored


def test_a_stale_temporary_of_a_killed_run_is_removed_by_the_next_save(tmp_path) -> None:
    stale = tmp_path / ".state.npz.catdsl-abcd1234.npz"
    legacy = tmp_path / ".catdsl-efgh5678.npz"  # the older naming
    fresh = tmp_path / ".state.npz.catdsl-live0000.npz"  # another run, writing right now
    for path in (stale, legacy, fresh):
        path.write_bytes(b"partial")
    old = time.time() - 2 * STALE_AFTER
    for path in (stale, legacy):
        os.utime(path, (old, old))
    save_npz_atomic(str(tmp_path / "state.npz"), {"x": np.ones(2)})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh.name, "state.npz"])


# ============================================================== nothing unpickled, no code loaded
PAYLOAD_MARK = "planted-cache-ran"


class _Planted:
    def __init__(self, mark: Path) -> None:
        self.mark = mark

    def __reduce__(self):
        return (open, (str(self.mark), "w"))


def test_a_planted_grammar_cache_runs_nothing(tmp_path) -> None:
    mark = tmp_path / PAYLOAD_MARK
    poison = pickle.dumps(_Planted(mark))
    home, cache, temp = tmp_path / "home", tmp_path / "cache", tmp_path / "tmp"
    for folder in (home / ".cache" / "catdsl", cache / "catdsl", temp):
        folder.mkdir(parents=True)
        (folder / "grammar.lark.cache").write_bytes(poison)
    # Lark's own default cache names, in case a cache were ever turned back on
    import lark

    for name in (f".lark_cache_x_{lark.__version__}.tmp", "catdsl.lark.cache"):
        (temp / name).write_bytes(poison)
    (tmp_path / "a.cat").write_text("dim V = 5\n")
    env = {"HOME": str(home), "XDG_CACHE_HOME": str(cache), "TMPDIR": str(temp)}
    done = run_process("check", "a.cat", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert not mark.exists()
    # the poison itself works: unpickling it would have made the mark
    pickle.loads(poison).close()
    assert mark.exists()


def test_the_parser_uses_no_lark_cache() -> None:
    from catdsl.syntax.parser import lark_parser

    assert not lark_parser().options.cache


def test_the_shipped_parser_tables_are_current_and_parse_alike() -> None:
    """The JSON tables beside the parser were made from today's grammar and Lark (else run
    `python -m catdsl.syntax.parser`), and parse every program exactly as the grammar does."""
    from lark import Lark

    from catdsl.syntax.parser import LARK_OPTIONS, _from_tables, grammar_path

    text = grammar_path().read_text(encoding="utf-8")
    shipped = _from_tables(text)
    assert shipped is not None, "stale tables: run `python -m catdsl.syntax.parser`"
    built = Lark(text, **LARK_OPTIONS)

    def outcome(parser: Lark, source: str) -> object:
        try:
            return parser.parse(source)
        except Exception as err:  # some programs show syntax errors: they must fail alike
            # (where and expecting what: Lark's own text lists the expected tokens in the
            # order of a set, which may differ between the two parsers in one process)
            where = (getattr(err, "line", None), getattr(err, "column", None))
            expected = sorted(getattr(err, "expected", None) or ())
            return (type(err).__name__, where, expected, str(getattr(err, "token", "")))

    programs = sorted((REPO / "programs").rglob("*.cat"))
    assert len(programs) > 10
    for program in programs:
        source = program.read_text(encoding="utf-8")
        assert outcome(shipped, source) == outcome(built, source), program
    assert _from_tables(text + "\n// changed\n") is None  # another grammar: built from the text


def test_tables_that_do_not_fit_are_not_used(tmp_path, monkeypatch) -> None:
    from catdsl.syntax import parser

    text = parser.grammar_path().read_text(encoding="utf-8")
    for content in ("", "not json", '{"key": {}}', pickle.dumps(_Planted(tmp_path / "m")).hex()):
        (tmp_path / "t.json").write_text(content)
        monkeypatch.setattr(parser, "TABLES", tmp_path / "t.json")
        assert parser._from_tables(text) is None
    assert not (tmp_path / "m").exists()


@needs_fifo
def test_train_refuses_a_fifo_checkpoint_or_plot_before_training(tmp_path) -> None:
    tiny = TINY
    os.mkfifo(tmp_path / "state.npz")
    os.mkfifo(tmp_path / "loss.png")
    for option, name in (("--checkpoint", "state.npz"), ("--plot", "loss.png")):
        done = run_process("train", tiny, "step", "--steps", "2", option, name, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert "error[R0505]" in done.stderr and f"`{name}`" in done.stderr
        assert "step " not in done.stdout  # refused before the first step
        assert (tmp_path / name).is_fifo()


def test_a_main_program_reached_through_a_symlink_reads_its_own_directory(tmp_path) -> None:
    shared, proj = tmp_path / "shared", tmp_path / "proj"
    shared.mkdir()
    proj.mkdir()
    (shared / "lib.cat").write_text("dim V = 5\n")
    (shared / "main.cat").write_text('import "lib.cat"\n\nobject X : Real[V]\n')
    (proj / "main.cat").symlink_to(shared / "main.cat")
    assert codes(check_file(proj / "main.cat")) == []
