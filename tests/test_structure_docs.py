"""docs/structure.md: the `catdsl laws` and `catdsl run` outputs it shows are what they print.

(`tests/test_docs_examples.py` checks that every ```cat block of the page checks.) A ```text
block starting `$ catdsl laws example.cat` shows the laws of the ```cat block before it.
"""

from __future__ import annotations

import json

from conftest import REPO

from catdsl.cli import main

PAGE = REPO / "docs" / "structure.md"


def _shown_laws() -> list[tuple[str, str]]:
    """(program, expected output) for each laws block of the page."""
    lines = PAGE.read_text(encoding="utf-8").splitlines()
    found, code = [], None
    i = 0
    while i < len(lines):
        fence = lines[i].strip()
        if fence in ("```cat", "```text"):
            j = i + 1
            while lines[j].strip() != "```":
                j += 1
            body = "\n".join(lines[i + 1 : j])
            if fence == "```cat":
                code = body + "\n"
            elif body.startswith("$ catdsl laws example.cat") and code is not None:
                found.append((code, body.split("\n", 1)[1] + "\n"))
            i = j
        i += 1
    return found


def test_the_page_shows_laws() -> None:
    assert len(_shown_laws()) == 3


def test_shown_laws_are_what_catdsl_laws_prints(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for code, expected in _shown_laws():
        (tmp_path / "example.cat").write_text(code, encoding="utf-8")
        capsys.readouterr()
        status = main(["laws", "example.cat"])
        out = capsys.readouterr().out
        assert out == expected
        assert status == (1 if "FAIL" in expected else 0)


def test_the_trace_and_both_ways_round_the_square(tmp_path, capsys, monkeypatch) -> None:
    text = PAGE.read_text(encoding="utf-8")
    blocks = text.split("```cat\n")[1:]
    trace = next(b.split("```")[0] for b in blocks if "monoid Trace" in b)
    square = next(b.split("```")[0] for b in blocks if "natural First" in b)
    monkeypatch.chdir(tmp_path)
    for code, name, value in (
        (trace, "trace", ["embedding", "linear", "softmax"]),
        (square, "both_ways", [10.0, 10.0]),
        (square, "both_ways_empty", [None, None]),
    ):
        (tmp_path / "example.cat").write_text(code, encoding="utf-8")
        capsys.readouterr()
        assert main(["run", "example.cat", name, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["value"] == value
