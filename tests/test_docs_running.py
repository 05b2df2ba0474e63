"""The examples of docs/running.md, training.md, security.md, sketches.md and of the course's
chapters (docs/course/) are run, so the docs cannot drift.

Conventions of those files:

- a ```sh block holds `catdsl ...` commands, one per line (blank lines and `# ...` comment lines
  are allowed; nothing else is, so every command shown is run). A trailing `# exits N` says the
  command's exit code; without it the code must be 0.
- a ```python block is executed; all blocks of one file share one namespace.
- a ```text block right after a ```sh or ```python block (only blank lines between) is the
  exact output of that block: what the terminal shows, standard output then standard error,
  trailing whitespace ignored.
- a ```cat block is an excerpt of a program: each of its lines must occur in `programs/`.

Blocks run in document order, in-process (`catdsl.cli.main`), with the working directory a
scratch copy of the repository root: `programs/` is copied, `out/` and `docs/img/` are empty
directories, so relative paths work as from the root and examples never write into the tree.
"""

from __future__ import annotations

import difflib
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO

from catdsl.cli import main

REFERENCE = ("running.md", "training.md", "security.md", "sketches.md")
COURSE = tuple(
    str(p.relative_to(REPO / "docs")) for p in sorted((REPO / "docs/course").glob("*.md"))
)
DOCS = REFERENCE + COURSE
FENCE = re.compile(r"^```([\w-]*)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
EXITS = re.compile(r"#\s*exits\s+(\d+)\s*$")


@dataclass(frozen=True)
class Block:
    lang: str
    text: str
    line: int  # of the opening fence, 1-based
    start: int  # offsets of the whole fenced block in the file
    end: int


@dataclass(frozen=True)
class Example:
    block: Block
    expected: str | None  # the following ```text block, if any


def blocks(text: str) -> list[Block]:
    return [
        Block(m[1], m[2], text.count("\n", 0, m.start()) + 1, m.start(), m.end())
        for m in FENCE.finditer(text)
    ]


def examples(text: str) -> list[Example]:
    found = blocks(text)
    result = []
    for i, block in enumerate(found):
        if block.lang not in ("sh", "python"):
            continue
        after = found[i + 1] if i + 1 < len(found) else None
        adjacent = after is not None and not text[block.end : after.start].strip()
        expected = after.text if adjacent and after.lang == "text" else None
        result.append(Example(block, expected))
    return result


def normalise(output: str) -> str:
    return "\n".join(line.rstrip() for line in output.rstrip().splitlines())


def commands(block: Block) -> list[tuple[list[str], int, int]]:
    """(argv after `catdsl`, expected exit code, line number) for each command of a sh block."""
    result = []
    for k, line in enumerate(block.text.splitlines()):
        number = block.line + 1 + k
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        words = shlex.split(line, comments=True)
        assert words[0] == "catdsl", f"line {number}: only `catdsl` commands can be run: {line!r}"
        exits = EXITS.search(line)
        result.append((words[1:], int(exits[1]) if exits else 0, number))
    return result


@pytest.fixture
def scratch_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    # a copy, not a symlink: a program may not import through a symlink leading out of its tree
    shutil.copytree(REPO / "programs", root / "programs")
    (root / "out").mkdir()
    (root / "docs" / "img").mkdir(parents=True)
    monkeypatch.chdir(root)
    return root


def mismatch(doc: str, example: Example, actual: str) -> str:
    diff = difflib.unified_diff(
        normalise(example.expected or "").splitlines(),
        actual.splitlines(),
        "documented",
        "actual",
        lineterm="",
    )
    return f"docs/{doc}:{example.block.line}: the output differs\n" + "\n".join(diff)


def run_examples(doc: str, text: str, capsys, namespace: dict[str, object]) -> list[Example]:
    """Run a page's ```sh and ```python blocks in order and compare each with the ```text block
    after it; `doc` is the page's name under docs/ for messages. Returns the examples run."""
    found = examples(text)
    for example in found:
        capsys.readouterr()
        if example.block.lang == "sh":
            for argv, expected_code, number in commands(example.block):
                code = main(argv)
                if code != expected_code:
                    out, err = capsys.readouterr()
                    pytest.fail(
                        f"docs/{doc}:{number}: `catdsl {shlex.join(argv)}` exited {code}, "
                        f"expected {expected_code}\n{out}{err}"
                    )
        else:
            source = "\n" * example.block.line + example.block.text
            exec(compile(source, f"docs/{doc}", "exec"), namespace)
        out, err = capsys.readouterr()
        if example.expected is not None:
            actual = normalise(out + err)
            assert actual == normalise(example.expected), mismatch(doc, example, actual)
    return found


@pytest.mark.parametrize("doc", DOCS)
def test_examples_print_what_the_docs_say(doc: str, scratch_root: Path, capsys) -> None:
    namespace: dict[str, object] = {"__name__": f"docs_{doc.removesuffix('.md')}"}
    found = run_examples(doc, (REPO / "docs" / doc).read_text(), capsys, namespace)
    least = 5 if doc in REFERENCE else 1 if doc != "course/index.md" else 0
    assert sum(e.block.lang == "sh" for e in found) >= least
    assert sum(e.expected is not None for e in found) >= least


def test_the_loss_curve_example_draws_the_picture(scratch_root: Path, capsys) -> None:
    command = "catdsl train programs/tiny_ml.cat step --steps 80 --plot docs/img/tiny_loss.png"
    assert command in (REPO / "docs" / "training.md").read_text()
    assert main(shlex.split(command)[1:]) == 0
    drawn = (scratch_root / "docs" / "img" / "tiny_loss.png").read_bytes()
    assert drawn.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(drawn) > 10_000
    committed = REPO / "docs" / "img" / "tiny_loss.png"
    assert committed.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize("doc", DOCS)
def test_images_and_links_exist(doc: str) -> None:
    text = FENCE.sub("", (REPO / "docs" / doc).read_text())
    text = re.sub(r"`[^`\n]*`", "", text)
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if "://" in target or target in ("errors.md",):  # errors.md is written separately
            continue
        linked = (REPO / "docs" / doc).parent / target
        assert linked.exists(), f"docs/{doc} links to missing {target}"


@pytest.mark.parametrize("doc", DOCS)
def test_program_excerpts_are_in_the_programs(doc: str) -> None:
    programs = "\n".join(p.read_text() for p in sorted((REPO / "programs").rglob("*.cat")))
    lines = {line.rstrip() for line in programs.splitlines()}
    for block in blocks((REPO / "docs" / doc).read_text()):
        if block.lang != "cat":
            continue
        for k, line in enumerate(block.text.splitlines()):
            assert not line.strip() or line.rstrip() in lines, (
                f"docs/{doc}:{block.line + 1 + k}: not in programs/: {line!r}"
            )


def test_the_conventions_are_parsed() -> None:
    doc = (
        "intro\n\n```sh\ncatdsl check a.cat   # exits 1\n# a comment\n\ncatdsl run a.cat f\n```\n"
        "\n```text\nout\n```\n\n```python\nx = 1\n```\n\nprose\n\n```text\nnot mine\n```\n"
    )
    sh, python = examples(doc)
    assert sh.block.lang == "sh"
    assert sh.expected == "out\n"
    assert sh.block.line == 3
    assert commands(sh.block) == [(["check", "a.cat"], 1, 4), (["run", "a.cat", "f"], 0, 7)]
    assert python.expected is None
    with pytest.raises(AssertionError, match="only `catdsl` commands"):
        commands(Block("sh", "rm -rf out\n", 1, 0, 0))


def test_every_runtime_code_is_in_the_table() -> None:
    """The run-time codes the source raises and the R table of errors.md are the same set."""
    raised = set()
    for module in (REPO / "catdsl").rglob("*.py"):
        raised |= set(re.findall(r'"(R0\d{3})"', module.read_text()))
    listed = set(re.findall(r"^\| (R0\d{3}) \|", (REPO / "docs" / "errors.md").read_text(), re.M))
    assert raised and raised == listed
