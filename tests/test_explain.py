"""`catdsl explain CODE`: a code's entry of docs/errors.md, and every raised code has one."""

from __future__ import annotations

import json
import re

import pytest
from conftest import REPO

from catdsl.cli import main
from catdsl.frontend.explain import entries, errors_path, explain, suggestions

ERRORS_MD = REPO / "docs" / "errors.md"


def explain_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """Run `catdsl explain ARGV...` in-process: (exit code, stdout, stderr)."""
    code = main(["explain", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_a_checker_code_prints_its_heading_examples_and_fix(capsys) -> None:
    code, out, err = explain_cli(capsys, "E0201")
    assert (code, err) == (0, "")
    assert out.startswith("### E0201: composition of mismatched objects\n\nIn `f >> g`, the object")
    assert "```cat\nimport std.ml\n" in out
    assert "let predict = Embedding >> Softmax\n" in out  # the erroneous example
    assert "example.cat:16:28: error[E0201]: cannot compose `Embedding` with `Softmax`" in out
    assert "**Fix.** Insert the missing middle morphism" in out
    assert "let predict = Embedding >> LinearToLogits >> Softmax\n" in out  # the fixed one
    assert "<!--" not in out  # the tests' `expect` markers are not part of the entry
    assert "### E0202" not in out  # the entry stops at the next one


def test_codes_are_case_insensitive(capsys) -> None:
    assert explain_cli(capsys, "e0201") == explain_cli(capsys, "E0201")


def test_a_table_row_prints_its_meaning_fix_and_section(capsys) -> None:
    code, out, _ = explain_cli(capsys, "E0801")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith('### E0801: no definition with that name (`program["Predict"]`')
    assert "**Fix.** use a definition's exact name" in lines
    assert "`catdsl check` never emits them. Each exits with code 1." in out


def test_a_runtime_code_prints_its_meaning_and_exit_code(capsys) -> None:
    code, out, _ = explain_cli(capsys, "R0412")
    assert code == 0
    assert out.startswith("### R0412: an `Index` / `Nat` entry is out of range\n")
    assert "`catdsl` exits 1 for these, except\nthe file and Graphviz ones" in out


def test_a_code_that_cannot_occur_says_so(capsys) -> None:
    _, out, _ = explain_cli(capsys, "E0001")
    assert out.startswith("### E0001\n\n**E0001** is a safety net for a parser failure")
    assert out.rstrip().endswith("it should never be seen (report it if it is).")


def test_json_is_the_same_entry(capsys) -> None:
    _, text, _ = explain_cli(capsys, "E0201")
    code, out, _ = explain_cli(capsys, "E0201", "--json")
    assert code == 0
    entry = json.loads(out)
    assert entry == {
        "code": "E0201",
        "title": "composition of mismatched objects",
        "text": text.rstrip("\n"),
    }


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["E0299"], "no entry for `E0299` in errors.md; did you mean `E0209`?"),
        (["E201"], "`E201` is not a diagnostic code (codes look like E0201 or R0412); "
                   "did you mean `E0201`?"),
        (["r412"], "`r412` is not a diagnostic code (codes look like E0201 or R0412); "
                   "did you mean `R0412`?"),
        (["E9999"], "no entry for `E9999` in errors.md"),
        (["E0299", "--json"], "no entry for `E0299` in errors.md; did you mean `E0209`?"),
    ],
)  # fmt: skip
def test_an_unknown_code_is_a_usage_error_with_a_hint(capsys, argv, message) -> None:
    code, out, err = explain_cli(capsys, *argv)
    assert (code, out, err) == (2, "", f"catdsl: {message}\n")


def test_explain_without_a_code_is_a_usage_error(capsys) -> None:
    code, out, err = explain_cli(capsys)
    assert (code, out) == (2, "")
    assert "the following arguments are required: CODE" in err


def test_suggestions() -> None:
    known = ["E0201", "E0209", "E0301", "R0412"]
    assert suggestions("E201", known) == ["E0201"]
    assert suggestions("Z9", known) == []


def test_every_code_raised_in_the_source_has_an_entry() -> None:
    raised: set[str] = set()
    for module in (REPO / "catdsl").rglob("*.py"):
        raised |= set(re.findall(r'"([ER]0\d{3})"', module.read_text(encoding="utf-8")))
    documented = entries(ERRORS_MD.read_text(encoding="utf-8"))
    assert {"E0201", "E0801", "R0412"} <= raised  # the scan sees all three kinds
    assert sorted(raised - set(documented)) == []


def test_every_entry_is_documented_once() -> None:
    text = ERRORS_MD.read_text(encoding="utf-8")
    headings = re.findall(r"^### ([ER]\d{4}):", text, re.M)
    rows = re.findall(r"^\| ([ER]\d{4}) \|", text, re.M)
    named = headings + rows
    assert len(named) == len(set(named)), sorted(c for c in named if named.count(c) > 1)
    assert set(named) <= set(entries(text))


def test_the_package_copy_comes_first(tmp_path) -> None:
    package = tmp_path / "catdsl"
    (package / "docs").mkdir(parents=True)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "errors.md").write_text("checkout\n")
    assert errors_path(package) == tmp_path / "docs" / "errors.md"
    (package / "docs" / "errors.md").write_text("packaged\n")
    assert errors_path(package) == package / "docs" / "errors.md"
    assert errors_path() == ERRORS_MD  # this checkout has no packaged copy


def test_no_errors_md_is_an_io_error(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match=r"errors\.md not found"):
        errors_path(tmp_path / "catdsl")


def test_an_entry_from_another_page(tmp_path) -> None:
    page = tmp_path / "errors.md"
    page.write_text("# D\n\n### E0007: seven\n\nText.\n\n```cat\n# not a heading\n```\n\n## Next\n")
    entry = explain("E0007", page)
    assert (entry.title, entry.text) == (
        "seven",
        "### E0007: seven\n\nText.\n\n```cat\n# not a heading\n```",
    )
