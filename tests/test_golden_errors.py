"""Golden failure cases of the course: `programs/errors/NAME.cat` and its `NAME.expected`.

Each case runs `catdsl check NAME.cat` in-process from `programs/errors` (so paths in the
output are relative), compares stderr with the `.expected` file byte for byte and expects
exit code 1. Partner files (`*_partner.cat`) are only imported by a case, never checked alone.

To rewrite the expected files after a deliberate change of wording, run

    CATDSL_UPDATE_GOLDENS=1 .venv/bin/pytest tests/test_golden_errors.py

and read every changed `.expected` (git diff) before committing. Cases listed in
`KNOWN_BUGS` hold the output the front end *should* give; they are never rewritten.
"""

from __future__ import annotations

import json
import os

import pytest
from conftest import PROGRAMS

from catdsl.cli import main

ERRORS = PROGRAMS / "errors"
UPDATE = os.environ.get("CATDSL_UPDATE_GOLDENS") == "1"

# case -> why its current output differs from the expected one (a front-end bug to fix).
KNOWN_BUGS: dict[str, str] = {}

# Programs that check but break a law: `catdsl laws NAME.cat` prints the failing law with its
# counterexample on stdout (compared with NAME.expected) and exits 1.
LAW_CASES = ("broken_naturality", "cover_ignores_false")

# Programs that check but whose named definition fails at run time (an invariant refusing a
# value where it enters an object): `catdsl run NAME.cat DEFINITION` prints the diagnostic on
# stderr (compared with NAME.expected) and exits 1.
RUN_CASES = {"zero_layer_budget": "layers"}


def _cases() -> list[str]:
    return sorted(
        p.stem
        for p in ERRORS.glob("*.cat")
        if not p.stem.endswith("_partner")
        and not p.stem.startswith("_")
        and p.stem not in LAW_CASES
        and p.stem not in RUN_CASES
    )


def _params():
    out = []
    for name in _cases():
        marks = ()
        if name in KNOWN_BUGS:
            marks = (pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name]),)
        out.append(pytest.param(name, marks=marks, id=name))
    return out


def _check(args: list[str], capsys, monkeypatch) -> tuple[int, str, str]:
    monkeypatch.chdir(ERRORS)
    capsys.readouterr()
    code = main(["check", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_every_case_has_an_expected_file():
    cases = [*_cases(), *LAW_CASES, *RUN_CASES]
    assert len(cases) >= 12
    missing = [c for c in cases if not (ERRORS / f"{c}.expected").exists()]
    assert not missing, f"cases without a .expected file: {missing}"
    orphans = [p.name for p in ERRORS.glob("*.expected") if p.stem not in cases]
    assert not orphans, f".expected files without a case: {orphans}"


@pytest.mark.parametrize("name", _params())
def test_golden(name, capsys, monkeypatch):
    code, out, err = _check([f"{name}.cat"], capsys, monkeypatch)
    expected_file = ERRORS / f"{name}.expected"
    if UPDATE and name not in KNOWN_BUGS:
        expected_file.write_text(err, encoding="utf-8")
    expected = expected_file.read_text(encoding="utf-8")
    assert code == 1
    assert out == ""
    assert err == expected


@pytest.mark.parametrize("name", LAW_CASES)
def test_golden_law(name, capsys, monkeypatch):
    monkeypatch.chdir(ERRORS)
    capsys.readouterr()
    code = main(["laws", f"{name}.cat"])
    out = capsys.readouterr().out
    expected_file = ERRORS / f"{name}.expected"
    if UPDATE:
        expected_file.write_text(out, encoding="utf-8")
    assert code == 1
    assert out == expected_file.read_text(encoding="utf-8")
    assert "COUNTEREXAMPLE" in out


@pytest.mark.parametrize("name", sorted(RUN_CASES))
def test_golden_run(name, capsys, monkeypatch):
    monkeypatch.chdir(ERRORS)
    capsys.readouterr()
    code = main(["run", f"{name}.cat", RUN_CASES[name]])
    captured = capsys.readouterr()
    expected_file = ERRORS / f"{name}.expected"
    if UPDATE:
        expected_file.write_text(captured.err, encoding="utf-8")
    assert code == 1
    assert captured.out == ""
    assert captured.err == expected_file.read_text(encoding="utf-8")


def test_goldens_are_plain_text_and_relative():
    for path in ERRORS.glob("*.expected"):
        if path.stem in LAW_CASES:
            continue
        text = path.read_text(encoding="utf-8")
        assert "\x1b[" not in text, f"{path.name} holds colour codes"
        assert str(ERRORS) not in text, f"{path.name} holds an absolute path"
        assert "Traceback" not in text
        first = text.splitlines()[0]
        assert first.startswith(path.stem), f"{path.name} does not start with its file name"
        assert ("error[R0" if path.stem in RUN_CASES else "error[E0") in first
        assert text.rstrip("\n").endswith("found")


def test_all_cases_at_once_report_every_error(capsys, monkeypatch):
    """Checking several files in one command prints every file's diagnostics."""
    names = [c for c in _cases() if c not in KNOWN_BUGS]
    code, _out, err = _check([f"{n}.cat" for n in names], capsys, monkeypatch)
    assert code == 1
    for name in names:
        where = (ERRORS / f"{name}.expected").read_text().split(":", 1)[0]  # e.g. a partner file
        assert f"{where}:" in err


def _json(name: str, capsys, monkeypatch) -> list[dict]:
    code, out, err = _check(["--json", f"{name}.cat"], capsys, monkeypatch)
    assert code == 1
    assert err == ""
    return json.loads(out)


def test_json_embedding_softmax(capsys, monkeypatch):
    (diag,) = _json("embedding_softmax", capsys, monkeypatch)
    assert diag == {
        "file": "embedding_softmax.cat",
        "line": 21,
        "column": 28,
        "end_line": 21,
        "end_column": 35,
        "severity": "error",
        "code": "E0201",
        "message": "cannot compose `Embedding` with `Softmax`: `Vector` is not `Logits`",
        "help": "insert `LinearToLogits : Vector -> Logits`: "
        "`Embedding >> LinearToLogits >> Softmax`",
        "notes": [],
    }


def test_json_unknown_name(capsys, monkeypatch):
    diags = _json("unknown_name", capsys, monkeypatch)
    got = [
        (d["file"], d["line"], d["column"], d["end_line"], d["end_column"], d["code"])
        for d in diags
    ]
    assert got == [
        ("unknown_name.cat", 10, 22, 10, 27, "E0401"),
        ("unknown_name.cat", 12, 25, 12, 31, "E0306"),
        ("unknown_name.cat", 13, 40, 13, 43, "E0306"),
    ]
    assert [d["message"] for d in diags] == [
        "unknown object or type `Logit`",
        "unknown name `Softmx`",
        "unknown name `rel`",
    ]
    assert [d["help"] for d in diags] == [
        "did you mean `Logits`?",
        "did you mean `Softmax`?",
        "did you mean `relu`?",
    ]
    assert all(d["severity"] == "error" and d["notes"] == [] for d in diags)


def test_json_and_text_agree_on_positions(capsys, monkeypatch):
    """The text header `file:line:col: error[CODE]: message` is the JSON record, rendered."""
    for name in _cases():
        if name in KNOWN_BUGS:
            continue
        diags = _json(name, capsys, monkeypatch)
        text = (ERRORS / f"{name}.expected").read_text(encoding="utf-8")
        headers = [line for line in text.splitlines() if ": error[" in line]
        rendered = [
            f"{d['file']}:{d['line']}:{d['column']}: error[{d['code']}]: {d['message']}"
            for d in diags
        ]
        assert headers == rendered, name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # `let both = Embed >> Project` fails; `let twice = both >> Embed` uses it: the real
        # E0201 at `Project`, and no E0003 (no cycle through `twice`).
        ("failed_composition_used_later", [("E0201", 12, 22, 12, 29)]),
        # The same after a `let` that takes a standard-library name (`relu`).
        ("failed_composition_after_std_name", [("E0002", 14, 5, 14, 9), ("E0201", 15, 22, 15, 29)]),
        # The failing composition is itself named like a primitive (`softmax`), and used twice.
        (
            "failed_composition_named_like_a_primitive",
            [("E0002", 15, 5, 15, 12), ("E0201", 15, 24, 15, 31)],
        ),
        # `object Params : ...` is refused (E0002) but still declared: its uses say nothing.
        ("refused_name", [("E0002", 5, 8, 5, 14)]),
    ],
)
def test_a_failed_declaration_is_reported_once(name, expected, capsys, monkeypatch):
    """A refused declaration still declares its name, and a failed definition's uses report
    nothing: no false cycle (E0003), no cascade of "unknown" errors."""
    diags = _json(name, capsys, monkeypatch)
    got = [(d["code"], d["line"], d["column"], d["end_line"], d["end_column"]) for d in diags]
    assert got == expected
    assert "E0003" not in {d["code"] for d in diags}
    assert not any("unknown" in d["message"] for d in diags)
