"""The rough edges a new user hits first: readable reprs, `_repr_html_`, a product input given
as separate arguments, `catdsl --version`, a quiet stop on a closed pipe, newline-terminated
JSON from every `--json`, and `--steps` saying that it overrides `step ^ n`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib

import numpy as np
import pytest
from conftest import PROGRAMS, REPO, TINY
from diagram_kit import needs_dot

import catdsl
from catdsl import CatError
from catdsl.cli import main
from catdsl.typesys.types import Prod


@pytest.fixture(scope="module")
def tiny() -> catdsl.Program:
    return catdsl.load(TINY)


def cli(capsys, *argv: object) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ============================================================== reprs
def test_dom_and_cod_show_as_catdsl_writes_them(tiny) -> None:
    assert repr(tiny["predict"].dom) == "TokenId"
    assert repr(tiny["predict"].cod) == "Distribution"
    assert repr(tiny["loss"].dom) == "TokenId * TokenId"
    assert repr(tiny["loss_before"].dom) == "Unit"
    assert repr([tiny["step"].dom]) == "[Params(loss)]"
    assert repr(tiny["predict"]) == "<Morphism predict : TokenId -> Distribution>"


def test_the_shown_types_are_still_products(tiny) -> None:
    dom = tiny["loss"].dom
    internal = tiny.checked.definitions["loss"].term.dom
    assert isinstance(dom, Prod) and type(internal) is Prod
    assert dom == internal and internal == dom and hash(dom) == hash(internal)
    assert [str(a) for a in dom.atoms] == ["TokenId", "TokenId"] and len(dom) == 2
    assert dom != tiny["predict"].dom


def test_html_without_graphviz_says_so(tiny, monkeypatch) -> None:
    import catdsl.render.output

    monkeypatch.setattr(catdsl.render.output, "repr_svg", lambda diagram: None)
    monkeypatch.setattr(catdsl.frontend.drawing, "program_svg", lambda program: None)
    html = tiny["predict"]._repr_html_()
    assert html == (
        "<div><p><code>predict : TokenId -&gt; Distribution</code></p>"
        "<p><i>(the drawing needs Graphviz's <code>dot</code>)</i></p></div>"
    )
    page = tiny._repr_html_()
    assert page.startswith(
        f"<div><p><code>&lt;Program {TINY}: 14 definitions, 4 laws&gt;</code></p><table>"
    )
    assert "<tr><td><code>loss</code></td><td><code>TokenId * TokenId -&gt; Loss</code>" in page
    assert page.count("<tr>") == len(tiny.names)


@needs_dot
def test_html_inlines_the_drawing(tiny) -> None:
    html = tiny["predict"]._repr_html_()
    assert html.startswith("<div><p><code>predict : TokenId -&gt; Distribution</code></p><svg")
    assert "<?xml" not in html and "<!DOCTYPE" not in html
    assert html.endswith("</svg>\n</div>")


# ============================================================== separate arguments
def test_a_product_input_as_separate_arguments(tiny) -> None:
    assert tiny["loss"](1, 2) == tiny["loss"]((1, 2))
    batch = tiny["loss"](np.array([1, 2, 3]), np.array([2, 3, 4]))
    assert np.array_equal(batch, tiny["loss"]((np.array([1, 2, 3]), np.array([2, 3, 4]))))
    card = catdsl.load(str(PROGRAMS / "card.cat"))["pipeline"]
    logits = np.array([0.5, -1.0, 2.0, 0.0, 1.5])
    assert card(logits, target=2) == card((logits), target=2)


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("loss", (1, 2, 3), "`loss` takes `TokenId * TokenId`: give 2 components, not 3"),
        ("predict", (1, 2), "`predict` takes `TokenId`: give one value, not 2"),
        ("loss_before", (1, 2), "`loss_before` is a point (`Unit -> Loss`) and takes no input"),
    ],
)
def test_the_wrong_number_of_arguments_is_e0803(tiny, name, args, message) -> None:
    with pytest.raises(CatError) as caught:
        tiny[name](*args)
    assert caught.value.first.code == "E0803"
    assert caught.value.first.message == message


# ============================================================== --version
def test_version(capsys) -> None:
    code, out, err = cli(capsys, "--version")
    with (REPO / "pyproject.toml").open("rb") as file:
        version = tomllib.load(file)["project"]["version"]
    assert (code, out, err) == (0, f"catdsl {version}\n", "")
    assert catdsl.__version__ == version


# ============================================================== closed pipes
def run_into_closed_pipe(*argv: str) -> subprocess.CompletedProcess:
    """Run `catdsl ARGV` with its stdout a pipe whose reading end is already closed."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "catdsl", *argv],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            check=False,
            timeout=120,
        )
    finally:
        os.close(write)


@pytest.mark.parametrize(
    "argv",
    [
        ["explain", "E0201"],  # small: buffered until the end
        ["run", TINY, "examples", "--json"],
    ],
)
def test_a_closed_pipe_stops_quietly(argv) -> None:
    done = run_into_closed_pipe(*argv)
    assert done.stderr == ""
    assert done.returncode == 141


def test_head_reads_a_large_output_quietly(tmp_path) -> None:
    np.save(tmp_path / "big.npy", np.arange(50_000, dtype=np.float64))
    (tmp_path / "big.cat").write_text('data big : Real[50000] = load("big.npy")\n')
    done = subprocess.run(
        f"{sys.executable} -m catdsl run big.cat big --json | head -c 30",
        shell=True,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
        timeout=120,
    )
    assert done.stdout == '{"name": "big", "type": "Unit '
    assert done.stderr == ""


# ============================================================== JSON ends with a newline
@pytest.mark.parametrize(
    "argv",
    [
        ["check", TINY, "--json"],
        ["check", str(PROGRAMS / "errors" / "duplicate.cat"), "--json"],
        ["run", TINY, "predict", "--input", "1", "--json"],
        ["run", TINY, "predcit", "--input", "1", "--json"],
        ["train", TINY, "step", "--steps", "2", "--json"],
        ["laws", TINY, "--samples", "2", "--json"],
        ["gradcheck", TINY, "loss", "--json"],
        ["explain", "E0201", "--json"],
    ],
)
def test_every_json_output_is_json_ending_in_one_newline(capsys, argv) -> None:
    _, out, _ = cli(capsys, *argv)
    assert out.endswith(("}\n", "]\n"))
    json.loads(out)


# ============================================================== --steps on a power
def test_steps_overriding_a_power_says_so(capsys) -> None:
    code, out, err = cli(capsys, "train", TINY, "trained", "--steps", "2")
    assert code == 0
    assert err == "--steps 2 overrides the 80 steps `trained` is written with\n"
    assert out.endswith("after 2 steps: loss 1.50912\n")


@pytest.mark.parametrize(
    "argv", [["trained", "--steps", "80"], ["step", "--steps", "2"], ["trained", "--json"]]
)
def test_steps_that_override_nothing_say_nothing(capsys, argv) -> None:
    if "--json" not in argv:
        argv = [*argv, "--json"]
    code, _, err = cli(capsys, "train", TINY, *argv)
    assert code == 0 and err == ""


def test_steps_of_reads_the_power(tiny) -> None:
    assert tiny.steps_of("trained") == 80
    assert tiny.steps_of("step") is None


def test_truth_values_print_as_a_program_writes_them():
    program = catdsl.loads(
        "object M : Bool[2, 3]\n"
        "data m : M = [[true, false, true], [false, false, true]]\n"
        "data t : Bool = true\n"
    )
    assert program["t"].format_value(program["t"]()) == "true"
    assert program["m"].format_value(program["m"]()) == "[[true false true]\n [false false true]]"
