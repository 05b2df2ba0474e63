"""Laws drawn from real programs: the title is the source text of both sides, the arrows are
the factors of each side's `>>` (identities kept as `id[A]`), the left-hand side's path lies
above the right-hand side's, and the side string diagrams honour `--shapes` and `--expand`."""

from __future__ import annotations

import html
import json
import re
import subprocess
from pathlib import Path

import pytest
from conftest import PROGRAMS
from diagram_kit import DotGraph, needs_dot, read_dot

import catdsl
from catdsl.cli import main
from catdsl.frontend.drawing import dot_for
from catdsl.frontend.law_sides import ARROW_TEXT, law_sides

COURSE_LAWS = [
    (path.name, name)
    for path in sorted(PROGRAMS.glob("*.cat"))
    for name in re.findall(r"^law (\w+)", path.read_text(), re.MULTILINE)
]


def program(name: str):
    return catdsl.load(str(PROGRAMS / name))


def law_drawing(file: str, law: str, **options) -> DotGraph:
    return read_dot(dot_for(program(file), law, **options))


def text(markup: str) -> str:
    """The visible text of an HTML-like label."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def arrows(g: DotGraph) -> list[tuple[str, str, str, str]]:
    """The commutative part's arrows as (from node, to node, from object, to object, label),
    in the direction drawn."""
    out = []
    for e in g.edges:
        if e["tail"].startswith("law.") and e.get("style") != "invis":
            a, b = (e["head"], e["tail"]) if e.get("dir") == "back" else (e["tail"], e["head"])
            label = text(e.get("label") or e["xlabel"])
            out.append((a, b, g.nodes[a]["label"], g.nodes[b]["label"], label))
    return out


def path(g: DotGraph, side: str) -> list[tuple[str, str, str]]:
    """One side's arrows in order along its path, `law.src` -> `law.l0` -> ... -> `law.tgt`
    (`law.r0`, ... for the rhs), as (from object, to object, label)."""
    drawn, steps, node = arrows(g), [], "law.src"
    while node != "law.tgt":
        following = f"law.{side}{len(steps)}"
        head = following if following in g.nodes else "law.tgt"
        (arrow,) = [a for a in drawn if a[:2] == (node, head)]
        steps.append(arrow[2:])
        node = head
    return steps


def title(g: DotGraph) -> str:
    return g.clusters["cluster_law"]["label"]


def side_wire_labels(g: DotGraph, side: str) -> set[str]:
    return {e["label"] for e in g.edges if e["tail"].startswith(f"{side}.") and e.get("label")}


# ---------------------------------------------------------------------- what the law says


def test_a_side_that_is_not_one_chain_is_titled_and_labelled_by_its_source() -> None:
    g = law_drawing("composition.cat", "interchange")
    assert title(g) == (
        "interchange:  (AddOne * Double) >> (Double * Square)"
        " = (AddOne >> Double) * (Double >> Square)"
    )
    pair = "Scalar * Scalar"
    assert path(g, "l") == [(pair, pair, "AddOne * Double"), (pair, pair, "Double * Square")]
    assert path(g, "r") == [(pair, pair, "(AddOne >> Double) * (Double >> Square)")]
    assert "(left)" not in dot_for(program("composition.cat"), "interchange")


@pytest.mark.parametrize(
    ("file", "law", "equation", "left", "right"),
    [
        (
            "tiny_ml.cat",
            "left_identity",
            "TokenId >> predict = predict",
            [("TokenId", "TokenId", "id[TokenId]"), ("TokenId", "Distribution", "predict")],
            [("TokenId", "Distribution", "predict")],
        ),
        (
            "tiny_ml.cat",
            "right_identity",
            "predict >> Distribution = predict",
            [
                ("TokenId", "Distribution", "predict"),
                ("Distribution", "Distribution", "id[Distribution]"),
            ],
            [("TokenId", "Distribution", "predict")],
        ),
        (
            "composition.cat",
            "right_identity",
            "AddOne >> id[Scalar] = AddOne",
            [("Scalar", "Scalar", "AddOne"), ("Scalar", "Scalar", "id[Scalar]")],
            [("Scalar", "Scalar", "AddOne")],
        ),
        (
            "composition.cat",
            "identity_value",
            "v123 >> Vec3 = v123",
            [("Unit", "Vec3", "v123"), ("Vec3", "Vec3", "id[Vec3]")],
            [("Unit", "Vec3", "v123")],
        ),
    ],
)
def test_identity_laws_keep_the_identity(file: str, law: str, equation: str, left, right) -> None:
    g = law_drawing(file, law)
    assert title(g) == f"{law}:  {equation}"
    assert (path(g, "l"), path(g, "r")) == (left, right)
    assert len(arrows(g)) == len(left) + len(right)


def test_associativity_keeps_its_brackets() -> None:
    g = law_drawing("tiny_ml.cat", "associativity")
    assert title(g) == (
        "associativity:  (Embedding >> LinearToLogits) >> Softmax"
        " = Embedding >> (LinearToLogits >> Softmax)"
    )
    assert [label for _, _, label in path(g, "l")] == ["Embedding >> LinearToLogits", "Softmax"]
    assert [label for _, _, label in path(g, "r")] == ["Embedding", "LinearToLogits >> Softmax"]


def test_a_constant_side_is_named_and_the_tolerance_kept() -> None:
    g = law_drawing("composition.cat", "add_then_double")
    assert title(g) == "add_then_double:  four >> AddOne >> Double = ten"
    assert path(g, "l") == [
        ("Unit", "Scalar", "four"),
        ("Scalar", "Scalar", "AddOne"),
        ("Scalar", "Scalar", "Double"),
    ]
    assert path(g, "r") == [("Unit", "Scalar", "ten")]
    card = law_drawing("card.cat", "fused_is_composed")
    assert title(card) == "fused_is_composed:  pipeline = FusedCrossEntropy   (within 1e-09)"
    assert sorted(a[2:] for a in arrows(card)) == [
        ("Logits", "Loss", "FusedCrossEntropy"),
        ("Logits", "Loss", "pipeline"),
    ]


def test_a_law_written_over_lines_reads_as_one_line_and_long_arrows_are_cut() -> None:
    source = """import std.ml
object Scalar : Real
morphism Double : Scalar -> Scalar = scale(2)
law long : (Double >> Double >> Double >> Double >> Double)
             * Scalar
        == (Double >> Double >> Double >> Double >> Double) * Scalar
"""
    prog = catdsl.loads(source, "long.cat")
    lhs, rhs = law_sides(prog.checked.laws["long"], prog.checked.sources)
    assert lhs.text == "(Double >> Double >> Double >> Double >> Double) * Scalar"
    assert rhs.text == lhs.text
    ((label, obj),) = lhs.steps
    assert obj == "Scalar * Scalar" and len(label) == ARROW_TEXT and label.endswith("…")


# ---------------------------------------------------------------------- options


def test_shapes_and_expand_reach_the_side_diagrams() -> None:
    plain = law_drawing("tiny_ml.cat", "composed_is_direct")
    shaped = law_drawing("tiny_ml.cat", "composed_is_direct", shapes=True)
    for side in ("lhs", "rhs"):
        assert "TokenId" in side_wire_labels(plain, side)
        assert "TokenId : Index[5]" in side_wire_labels(shaped, side)
        assert "Distribution : Simplex[5]" in side_wire_labels(shaped, side)
    opened = law_drawing("tiny_ml.cat", "composed_is_direct", expand=1)
    assert frames_in(opened, "cluster_rhs") == ["cluster_rhs.b3"]  # DirectPredict, opened
    assert frames_in(plain, "cluster_rhs") == []


def frames_in(g: DotGraph, cluster: str) -> list[str]:
    return [c for c, parent in g.parent.items() if parent == cluster and c.startswith("cluster")]


def test_the_cli_passes_its_draw_options_to_laws(tmp_path: Path, capsys) -> None:
    out = tmp_path / "law.dot"
    code = main(["draw", str(PROGRAMS / "card.cat"), "fused_is_composed", "-o", str(out)])
    assert code == 0
    shaped = tmp_path / "law_shapes.dot"
    argv = ["draw", str(PROGRAMS / "card.cat"), "fused_is_composed", "-o", str(shaped)]
    assert main([*argv, "--shapes"]) == 0
    capsys.readouterr()
    assert "Logits : Real[5]" in side_wire_labels(read_dot(shaped.read_text()), "lhs")
    assert "Logits : Real[5]" not in side_wire_labels(read_dot(out.read_text()), "lhs")


# ---------------------------------------------------------------------- layout


def laid_out(source: str) -> dict:
    result = subprocess.run(["dot", "-Tjson"], input=source, capture_output=True, text=True)
    return json.loads(result.stdout)


def spline_ys(edge: dict) -> list[float]:
    points = [p for p in edge["pos"].split() if not p.startswith(("e,", "s,"))]
    return [float(p.split(",")[1]) for p in points]


def law_arrows(data: dict, lhs_label: str | None) -> tuple[list[dict], list[dict]]:
    """The drawn arrows of the commutative part, the left-hand side's and the right-hand
    side's: by their objects (`law.l0`, `law.r0`, ...), and an arrow straight from source to
    target by its label (`lhs_label`, the left-hand side's label if it is one arrow)."""
    names = {o["_gvid"]: o["name"] for o in data["objects"]}
    left: list[dict] = []
    right: list[dict] = []
    for e in data["edges"]:
        ends = {names[e["tail"]], names[e["head"]]}
        if not names[e["tail"]].startswith("law.") or e.get("style") == "invis":
            continue
        if ends == {"law.src", "law.tgt"}:
            on_left = text(e.get("label") or e["xlabel"]) == lhs_label
        else:
            on_left = any(n.startswith("law.l") for n in ends)
        (left if on_left else right).append(e)
    return left, right


SHAPES = """import std.ml
object Scalar : Real
data one : Real = 1.0
morphism AddOne : Scalar -> Scalar = Real * one >> add
morphism Double : Scalar -> Scalar = scale(2)
morphism Square : Scalar -> Scalar = <Real, Real> >> mul
let both = AddOne >> Double
law s12 : both == AddOne >> Double
law s13 : both >> Square == AddOne >> Double >> Square
law s31 : AddOne >> Double >> Square == both >> Square
law s14 : both >> (Square >> Double) == AddOne >> Double >> Square >> Double
law s33 : AddOne >> Double >> Square == Scalar >> both >> Square
"""


def left_above_right(prog, law: str) -> bool:
    """Whether the lhs arrows lie higher on average than the rhs arrows once laid out."""
    lhs, rhs = law_sides(prog.checked.laws[law], prog.checked.sources)
    single = lhs.steps[0][0] if len(lhs.steps) == 1 else None
    upper, lower = law_arrows(laid_out(dot_for(prog, law)), single)
    assert (len(upper), len(lower)) == (len(lhs.steps), len(rhs.steps))
    left = [y for e in upper for y in spline_ys(e)]
    right = [y for e in lower for y in spline_ys(e)]
    return sum(left) / len(left) > sum(right) / len(right)  # y grows upwards


@needs_dot
@pytest.mark.parametrize(("file", "law"), COURSE_LAWS)
def test_the_left_hand_path_lies_above_the_right_hand_path(file: str, law: str) -> None:
    assert left_above_right(program(file), law)


@needs_dot
@pytest.mark.parametrize("law", re.findall(r"^law (\w+)", SHAPES, re.MULTILINE))
def test_paths_of_any_lengths_keep_the_left_hand_side_on_top(law: str) -> None:
    assert left_above_right(catdsl.loads(SHAPES, "shapes.cat"), law)


@needs_dot
@pytest.mark.parametrize(("file", "law"), [("card.cat", "fused_is_composed")])
def test_two_single_arrows_bow_apart_with_their_labels_outside(file: str, law: str) -> None:
    data = laid_out(dot_for(program(file), law))
    source = next(o for o in data["objects"] if o["name"] == "law.src")
    middle = float(source["pos"].split(",")[1])
    (upper,), (lower,) = law_arrows(data, "pipeline")
    assert min(spline_ys(upper)) >= middle - 1 and max(spline_ys(lower)) <= middle + 1
    top, bottom = max(spline_ys(upper)) - middle, middle - min(spline_ys(lower))
    assert top > 10 and bottom > 10 and 0.5 < top / bottom < 2  # both bow, about as far
    upper_label = float(upper["lp"].split(",")[1])
    lower_label = float(lower["lp"].split(",")[1])
    assert upper_label > max(spline_ys(upper))  # the lhs label above its arrow
    assert upper_label - lower_label > 30  # the two labels well apart


@needs_dot
@pytest.mark.parametrize(("file", "law"), COURSE_LAWS)
def test_both_side_diagrams_start_straight(file: str, law: str) -> None:
    """No S-curve from a side's input dot into its first box (a few points of slack for dot's
    placement inside a frame)."""
    data = laid_out(dot_for(program(file), law))
    names = {o["_gvid"]: o["name"] for o in data["objects"]}
    firsts = [e for e in data["edges"] if names[e["tail"]] in ("lhs.in", "rhs.in")]
    single = [e for e in firsts if sum(f["tail"] == e["tail"] for f in firsts) == 1]
    for edge in single:
        ys = spline_ys(edge)
        assert max(ys) - min(ys) <= 4, (names[edge["tail"]], ys)
