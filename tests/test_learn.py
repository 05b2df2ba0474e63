"""catlings (`catdsl learn`): the exercise set verifies, the grader tells a fix from a fix by
weakening, and the commands keep the learner's progress.

Each exercise's reference solution must pass and its broken file fail with its expected codes
(`catdsl learn --verify`). A learner's file is graded against the solution: the values it is
compared with are computed by the solution, so these tests never state an expected number
except where the course gives one (the cross-entropy of 0.9 is −ln 0.9).
"""

from __future__ import annotations

import json
import math
import re
import shutil
import threading
import time
from pathlib import Path

import pytest
from conftest import REPO

from catdsl.cli import main
from catdsl.frontend.learn import Course, watch
from catdsl.frontend.learn_exercises import TRACKS, load_exercises
from catdsl.frontend.learn_grade import grade
from catdsl.frontend.learn_progress import PROGRESS_FILE, Progress, bar
from catdsl.frontend.learn_quiz import compute, load_questions, quiz_command

EXERCISES = REPO / "exercises"
ALL = load_exercises(EXERCISES)
BY_KEY = {e.key: e for e in ALL}


def learn(capsys, folder: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["learn", "--dir", str(folder), *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def solve(folder: Path, key: str, text: str | None = None) -> Path:
    """Write the reference solution (or `text`) into the learner's copy of `key`."""
    path = folder / "catlings" / f"{key}.cat"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text if text is not None else BY_KEY[key].solution_path.read_text())
    return path


def variant(key: str, *edits: tuple[str, str]) -> str:
    """The reference solution of `key` with textual edits (each must apply)."""
    text = BY_KEY[key].solution_path.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return text


def graded(tmp_path: Path, key: str, text: str):
    path = solve(tmp_path, key, text)
    return grade(BY_KEY[key], path)


# ------------------------------------------------------------------ the exercise set
def test_verify_passes_on_every_exercise(capsys, tmp_path) -> None:
    code, out, err = learn(capsys, tmp_path, "--verify")
    assert (code, err) == (0, "")
    for exercise in ALL:
        assert re.search(rf"^ok +{exercise.key} +fails with {exercise.expect[0]}", out, re.M)
    assert f"{len(ALL)} exercises verified." in out


def test_the_ladder() -> None:
    assert [e.number for e in ALL] == list(range(1, len(ALL) + 1))
    tracks = [TRACKS.index(e.track) for e in ALL]
    assert tracks == sorted(tracks) and set(tracks) == set(range(len(TRACKS)))
    course = " ".join(e.course for e in ALL)
    assert "exercise 4" in course and "typed-AI fix 1" in course and "typed-AI fix 2" in course
    cases = sorted(set(re.findall(r"exercise 15, case (\d)", course)))
    assert cases == [str(n) for n in range(1, 8)]  # all seven mixed-boundary cases
    for e in ALL:
        header = e.exercise_path.read_text().splitlines()[0]
        assert header.startswith(f"# catlings {e.number:02d} ({e.track}): ")
        assert "Goal:" in e.goal and "Passes when:" in e.goal


def test_verify_reports_an_exercise_that_fails_differently(capsys, tmp_path) -> None:
    broken = tmp_path / "set"
    shutil.copytree(EXERCISES / "04_embedding_softmax", broken / "01_embedding_softmax")
    info = broken / "01_embedding_softmax" / "info.toml"
    info.write_text(info.read_text().replace('expect = ["E0201"]', 'expect = ["E0202"]'))
    code, out, _err = learn(capsys, tmp_path, "--verify", "--exercises", str(broken))
    assert code == 1
    assert "FAIL 01_embedding_softmax" in out
    assert "error[E0906]: 01_embedding_softmax: the exercise fails with E0201, not E0202" in out


def test_a_malformed_exercise_set_is_e0905(capsys, tmp_path) -> None:
    bad = tmp_path / "set" / "01_x"
    bad.mkdir(parents=True)
    for name in ("exercise.cat", "solution.cat"):
        (bad / name).write_text("# x\n")
    (bad / "info.toml").write_text('title = "x"\ntrack = "expert"\n')
    code, _out, err = learn(capsys, tmp_path, "--exercises", str(tmp_path / "set"))
    assert code == 1
    assert "error[E0905]: 01_x/info.toml needs `chapter`, a non-empty string" in err


# ------------------------------------------------------------------ grading
def test_a_fix_by_merging_objects_is_refused(tmp_path) -> None:
    text = variant(
        "04_embedding_softmax",
        ("dim D = 4", "dim D = 5"),
        ("object Logits       : Real[V]\n", "type   Logits       = Vector\n"),
        ("Embedding >> LinearToLogits >> Softmax", "Embedding >> Softmax"),
    )
    outcome = graded(tmp_path, "04_embedding_softmax", text)
    assert outcome.codes == ["E0900"]
    messages = [d.message for d in outcome.diagnostics]
    assert messages == [
        "the object `Vector` was weakened: it was `Real[D]` (with D = 4), it is now `Real[D]` "
        "(with D = 5)",
        "the object `Logits` was merged into `Vector`: `type Logits = Vector` makes them one "
        "object",
    ]
    assert "weakening the objects does not count" in outcome.diagnostics[0].notes[0]
    logits = outcome.diagnostics[1].span
    assert (logits.line, logits.column) == (10, 8)  # `Logits` in `type Logits = Vector`


def test_a_fix_by_changing_a_signature_is_refused(tmp_path) -> None:
    text = variant(
        "04_embedding_softmax",
        ("Logits -> Distribution = softmax", "Vector -> Distribution = affine(W, b) >> softmax"),
        ("Embedding >> LinearToLogits >> Softmax", "Embedding >> Softmax"),
    )
    outcome = graded(tmp_path, "04_embedding_softmax", text)
    assert [d.message for d in outcome.diagnostics] == [
        "`Softmax` was declared `Logits -> Distribution` and is now `Vector -> Distribution`"
    ]
    assert outcome.codes == ["E0901"]


def test_dropping_an_invariant_is_weakening(tmp_path) -> None:
    text = variant(
        "05_logits_are_not_probabilities",
        ("object Loss         : Real where finite and value >= 0", "object Loss : Real"),
    )
    outcome = graded(tmp_path, "05_logits_are_not_probabilities", text)
    assert outcome.codes == ["E0900"]
    assert "lost its invariant `finite`" in outcome.diagnostics[0].message


def test_an_object_the_fix_changes_may_change(tmp_path) -> None:
    # exercise 16 names `Projected` as the object to correct: its new carrier is accepted
    outcome = graded(
        tmp_path, "16_residual_dims", BY_KEY["16_residual_dims"].solution_path.read_text()
    )
    assert outcome.passed
    assert "Projected" in BY_KEY["16_residual_dims"].changes


def test_a_wrong_value_names_both_values(tmp_path) -> None:
    text = variant(
        "08_hole_head",
        ("Embedding >> LinearToLogits >> Softmax", "Embedding >> UntrainedHead >> Softmax"),
    )
    outcome = graded(tmp_path, "08_hole_head", text)
    assert outcome.codes == ["E0904"]
    (d,) = outcome.diagnostics
    assert d.message == "`predict` on 1 gives another value than the goal"
    assert d.notes[0] == "it gives [0.2 0.2 0.2 0.2 0.2]"  # W2 = 0: uniform logits
    assert (
        d.notes[1].startswith("the goal is [") and d.notes[1] != "the goal is [0.2 0.2 0.2 0.2 0.2]"
    )


def test_the_goal_type_is_kept(tmp_path) -> None:
    text = variant(
        "21_fix_the_context",
        ("let deep  = fixed ^ 2", "let deep  = layer"),
        ("let out  = x >> deep", "let out  = x >> fixed >> fixed"),
    )
    outcome = graded(tmp_path, "21_fix_the_context", text)
    assert [d.message for d in outcome.diagnostics] == [
        "`deep` is `Hidden * Mask -> Hidden`; the goal needs `Hidden -> Hidden`"
    ]
    assert outcome.codes == ["E0902"]


def test_laws_must_hold_and_stay(tmp_path) -> None:
    holds_not = graded(
        tmp_path, "13_safety_cover", BY_KEY["13_safety_cover"].exercise_path.read_text()
    )
    assert holds_not.codes == ["E0903"]
    assert holds_not.diagnostics[0].message.startswith(
        "the law `false_second_interval` does not hold: its sides differ by 1"
    )
    gone = variant(
        "13_safety_cover", ("law false_first_interval   : unsafe * safe >> Glue == unsafe\n", "")
    )
    outcome = graded(tmp_path, "13_safety_cover", gone)
    assert [d.message for d in outcome.diagnostics] == [
        "the law `false_first_interval` of the exercise is gone"
    ]


def test_a_mask_of_the_other_polarity_runs_but_is_not_the_goal(tmp_path) -> None:
    # anti-causal: every row may read something, so it runs; the values tell it apart
    text = variant(
        "18_mask_polarity", ("[[true, false], [true, true]]", "[[true, true], [false, true]]")
    )
    assert graded(tmp_path, "18_mask_polarity", text).codes == ["E0904"]


# ------------------------------------------------------------------ the commands
def test_learn_shows_then_moves_on(capsys, tmp_path) -> None:
    code, out, _ = learn(capsys, tmp_path)
    assert code == 1
    assert "catlings [" in out and " 0/22 done" in out
    assert "01 · beginner · A token id is not an integer" in out
    assert "Goal: `row` is the embedding row of token 3" in out
    assert "catlings/01_token_id.cat:21:16: error[E0201]: expected `TokenId`" in out
    assert (tmp_path / "catlings" / "01_token_id.cat").read_text() == ALL[
        0
    ].exercise_path.read_text()
    solve(tmp_path, "01_token_id")
    code, out, _ = learn(capsys, tmp_path)
    assert code == 1  # 01 solved, then 02 is shown unsolved
    assert "solved 01: A token id is not an integer." in out
    assert "It crossed the invariant boundary: a raw integer must pass through" in out
    assert "02 · beginner · Windowing needs two tokens" in out and "error[R0401]" in out
    data = json.loads((tmp_path / PROGRESS_FILE).read_text())
    assert data == {"version": 1, "done": ["01_token_id"], "hints": {}}


def test_hints_come_one_at_a_time(capsys, tmp_path) -> None:
    shown = [learn(capsys, tmp_path, "hint")[1] for _ in range(4)]
    assert "hint 1 of 3, from the diagnostic:" in shown[0]
    assert "help: a raw value is not a `TokenId`: build it at its boundary" in shown[0]
    assert "hint 2 of 3, the concept:" in shown[1] and "Objects are nominal" in shown[1]
    assert "hint 3 of 3, the fix:" in shown[2] and "data rust : TokenId = 3" in shown[2]
    assert "the last hint" in shown[2]
    assert shown[3] == shown[2]  # no fourth hint: the fix again
    assert Progress.load(tmp_path).hints == {"01_token_id": 3}


def test_list_and_reset(capsys, tmp_path) -> None:
    solve(tmp_path, "01_token_id")
    learn(capsys, tmp_path)
    code, out, _ = learn(capsys, tmp_path, "list")
    assert code == 0
    assert re.search(r"^  01  beginner +A token id is not an integer +done$", out, re.M)
    assert re.search(r"^  02  beginner +Windowing needs two tokens +current$", out, re.M)
    assert re.search(r"^  21  advanced +Fix the context, then iterate$", out, re.M)
    code, out, _ = learn(capsys, tmp_path, "reset", "1")
    assert code == 0
    assert (tmp_path / "catlings" / "01_token_id.cat").read_text() == ALL[
        0
    ].exercise_path.read_text()
    assert Progress.load(tmp_path).done == []
    code, _, err = learn(capsys, tmp_path, "reset", "no_such")
    assert code == 2 and "no exercise `no_such`" in err


def test_a_broken_progress_file_is_e0907(capsys, tmp_path) -> None:
    (tmp_path / PROGRESS_FILE).write_text("{not json")
    code, _, err = learn(capsys, tmp_path)
    assert code == 1 and "error[E0907]" in err and "catdsl learn reset" in err
    assert learn(capsys, tmp_path, "reset")[0] == 0
    assert Progress.load(tmp_path).done == []


def test_the_bar() -> None:
    assert bar(0, 16, 8) == "[........]  0/16 done"
    assert bar(4, 16, 8) == "[##......]  4/16 done"
    assert bar(16, 16, 8) == "[########] 16/16 done"


def test_watch_moves_on_when_the_file_is_fixed(tmp_path) -> None:
    """--watch in-process: it shows the error, waits, sees the save, and shows the next."""
    lines: list[str] = []
    stop = threading.Event()
    course = Course(ALL, tmp_path)
    progress = Progress.load(tmp_path)
    thread = threading.Thread(target=watch, args=(course, progress, lines.append, stop))
    thread.start()
    try:
        _wait(lambda: any("watching catlings/01_token_id.cat" in s for s in lines))
        assert any("error[E0201]" in s for s in lines)
        solve(tmp_path, "01_token_id")
        _wait(lambda: any("watching catlings/02_windowing.cat" in s for s in lines))
        assert any("solved 01" in s for s in lines)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert Progress.load(tmp_path).done == ["01_token_id"]


def _wait(condition, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


# ------------------------------------------------------------------ the quiz
def test_quiz_answers_come_from_the_programs() -> None:
    questions = {q.ask: q for q in load_questions(EXERCISES)}
    assert sum(q.set == "quiz" for q in questions.values()) == 10
    ce = next(q for a, q in questions.items() if a.startswith("Cross-entropy for target 0"))
    answer = compute(ce, EXERCISES)
    assert answer.numbers is not None
    assert answer.numbers[0] == pytest.approx(-math.log(0.9), abs=1e-12)  # the course's 0.105
    assert answer.numbers[1] == pytest.approx(-math.log(0.1), abs=1e-12)  # and 2.303
    proposal = next(q for a, q in questions.items() if "Which declared morphism" in a)
    assert compute(proposal, EXERCISES).text == "LinearToLogits"
    chain = next(q for a, q in questions.items() if "multiplication node" in a)
    assert compute(chain, EXERCISES).numbers == (3.0, 2.0)  # the course's exact gradients


@pytest.mark.parametrize("kind", ["quiz", "checkpoints"])
def test_quiz_scores_the_replies(kind: str) -> None:
    questions = [q for q in load_questions(EXERCISES) if q.set == kind]
    right = []
    for q in questions:
        answer = compute(q, EXERCISES)
        right.append("abc"[q.choices.index(answer.text)] if q.choices else answer.shown())
    out: list[str] = []
    assert quiz_command(kind, False, EXERCISES, out.append, iter(right).__next__) == 0
    assert out[-1] == f"{len(questions)} of {len(questions)} right."
    wrong = ["0"] * len(questions)
    out.clear()
    assert quiz_command(kind, False, EXERCISES, out.append, iter(wrong).__next__) == 1
    assert any("not quite: the program says" in line for line in out)


def test_quiz_key(capsys, tmp_path) -> None:
    code, out, _ = learn(capsys, tmp_path, "quiz", "--key")
    assert code == 0
    assert "answer: b) expected `TokenId`, found the integer `3`" in out
    assert "answer: 0.50, 0.00, 0.50" in out  # masked before softmax
    code, _, err = learn(capsys, tmp_path, "quiz", "finals")
    assert code == 2 and "no question set `finals`" in err


# ------------------------------------------------------------------ the docs
def test_errors_md_shows_what_learn_prints(tmp_path) -> None:
    text = (REPO / "docs" / "errors.md").read_text()
    section = text[text.index("## E09xx") :]
    program = re.search(r"```cat\n(.*?)```", section, re.S).group(1)
    shown = re.search(r"```text\n\$ catdsl learn\n\.\.\.\n(.*?)```", section, re.S).group(1)
    from catdsl.errors import render_all

    course = Course(ALL, tmp_path)
    solve(tmp_path, "04_embedding_softmax", program)
    outcome = course.grade(BY_KEY["04_embedding_softmax"])
    assert render_all(outcome.diagnostics, outcome.sources) + "\n" == shown


def test_learn_md_lists_the_exercises_and_shows_real_output(capsys, tmp_path) -> None:
    text = (REPO / "docs" / "learn.md").read_text()
    rows = re.findall(r"^\| (\d\d) \| (\w+) \| ([^|]+) \|", text, re.M)
    assert [(int(n), track, title.strip()) for n, track, title in rows] == [
        (e.number, e.track, e.title) for e in ALL
    ]
    first_screen = re.search(r"```text\n(catlings \[.*?)```", text, re.S).group(1)
    _, out, _ = learn(capsys, tmp_path)
    printed = out.splitlines()
    for line in first_screen.splitlines():
        if line != "..." and not line.startswith("watching "):
            assert line in printed, line


def test_a_value_the_goal_rejects_must_be_rejected(tmp_path) -> None:
    key = "22_design_a_boundary"
    accepted = graded(tmp_path, key, BY_KEY[key].exercise_path.read_text())
    assert [d.message for d in accepted.diagnostics] == [
        f"`{name}` is accepted, but the goal is that it is rejected (R0414)"
        for name in ("stuck", "uphill", "no_heads")
    ]
    too_strict = variant(key, ("where finite and value > 0", "where finite and value > 0.2"))
    outcome = graded(tmp_path, key, too_strict)
    assert outcome.codes == ["E0382"]  # now the literal `lr = 0.1` itself is refused, by check
    assert "the data `lr` is not a valid `LearningRate`" in outcome.diagnostics[0].message


@pytest.mark.parametrize(
    "argv",
    [["hint", "--watch"], ["list", "--verify"], ["--watch", "--verify"], ["list", "x"], ["--key"]],
)
def test_learn_usage_errors(capsys, tmp_path, argv) -> None:
    code, out, err = learn(capsys, tmp_path, *argv)
    assert (code, out) == (2, "")
    assert err.startswith("catdsl: ")


def test_the_last_exercise_ends_the_course(capsys, tmp_path) -> None:
    progress = Progress(tmp_path / PROGRESS_FILE, [e.key for e in ALL[:-1]], {})
    progress.save()
    solve(tmp_path, ALL[-1].key)
    code, out, _ = learn(capsys, tmp_path)
    assert code == 0
    assert f"solved {ALL[-1].number}: {ALL[-1].title}." in out
    assert f"All {len(ALL)} exercises are solved." in out and f"{len(ALL)}/{len(ALL)} done" in out
    code, out, _ = learn(capsys, tmp_path, "hint")
    assert code == 0 and f"All {len(ALL)} exercises are solved." in out


def test_a_wrong_unit_breaks_the_unit_laws(tmp_path) -> None:
    key = "14_resource_monoid"
    text = variant(key, ("data unit : Bundle = [0.0, 0.0]", "data unit : Bundle = [1.0, 2.0]"))
    outcome = graded(tmp_path, key, text)
    assert outcome.codes == ["E0903"]
    failing = [re.match(r"the law `(\w+)` does not hold", d.message) for d in outcome.diagnostics]
    assert [m.group(1) for m in failing if m] == ["left_unit", "right_unit"]


def test_changing_a_law_is_not_making_it_hold(tmp_path) -> None:
    key = "13_safety_cover"
    text = BY_KEY[key].exercise_path.read_text()
    claim = "law false_second_interval  : safe * unsafe >> Glue == unsafe"
    assert claim in text
    outcome = graded(tmp_path, key, text.replace(claim, claim.replace("== unsafe", "== safe")))
    assert [d.message for d in outcome.diagnostics] == [
        "the law `false_second_interval` was changed: the exercise states "
        "`law false_second_interval : safe * unsafe >> Glue == unsafe`"
    ]
    spaced = variant(key, ("law false_first_interval   :", "law false_first_interval :  # same\n"))
    assert graded(tmp_path, key, spaced).passed  # layout and comments are not the claim


def test_changing_the_given_data_is_not_a_fix(tmp_path) -> None:
    # a zero bias makes linear(W) equal affine(W, b): the law would hold, nothing is fixed
    zero_bias = BY_KEY["10_commuting_triangle"].exercise_path.read_text()
    zero_bias = zero_bias.replace("[0.1, 0.0, -0.1, 0.2, 0.0]", "zeros")
    outcome = graded(tmp_path, "10_commuting_triangle", zero_bias)
    assert [d.message for d in outcome.diagnostics] == [
        "the param `b` was changed: the exercise gives it another value"
    ]
    assert outcome.diagnostics[0].notes == (
        "it is [0. 0. 0. 0. 0.]",
        "the exercise gives [ 0.1 0. -0.1 0.2 0. ]",
    )
    # a false interval made true makes `fst` glue correctly on the given cases
    all_safe = BY_KEY["13_safety_cover"].exercise_path.read_text()
    all_safe = all_safe.replace("data unsafe : Bool = false", "data unsafe : Bool = true")
    outcome = graded(tmp_path, "13_safety_cover", all_safe)
    assert outcome.codes == ["E0904"]
    message = "`unsafe` was changed: the exercise gives it another value"
    assert outcome.diagnostics[0].message == message


def test_the_triangle_is_fixed_on_the_broken_path(tmp_path) -> None:
    # dropping the bias on the other path too makes the law hold, but changes LinearToLogits
    key = "10_commuting_triangle"
    text = variant(key, ("= affine(W, b)\n", "= linear(W)\n"))
    text = text.replace("lookup(E) >> affine(W, b) >> softmax", "lookup(E) >> linear(W) >> softmax")
    outcome = graded(tmp_path, key, text)
    assert [d.message for d in outcome.diagnostics] == [
        "`DirectPredict` on 1 gives another value than the goal",
        "`LinearToLogits` on [0.1, -0.2, 0.3, 0.4] gives another value than the goal",
    ]


# ------------------------------------------------------------------ the later drills
def test_a_transformation_that_looks_at_values_breaks_its_square(tmp_path) -> None:
    key = "11_naturality_square"
    broken = graded(tmp_path, key, BY_KEY[key].exercise_path.read_text())
    assert broken.codes == ["E0903"]
    failing = [re.match(r"the law `([\w.]+)` does not hold", d.message) for d in broken.diagnostics]
    assert {m.group(1) for m in failing if m} == {"square_on_batch", "Head.naturality"}
    # `last` chooses a position too, so it is natural: the square holds, the value is wrong
    last = variant(
        key, ("Head[Scalar] : List ⇒ Option = first", "Head[Scalar] : List ⇒ Option = last")
    )
    outcome = graded(tmp_path, key, last)
    assert [d.message for d in outcome.diagnostics] == [
        "`head_of_batch` gives another value than the goal"
    ]


def test_the_other_map_back_breaks_the_galois_law(tmp_path) -> None:
    key = "15_galois_law"
    half = variant(key, ("FeatureCount = Concretize", "FeatureCount = HalfFull"))
    outcome = graded(tmp_path, key, half)
    assert outcome.codes == ["E0903"]
    assert outcome.diagnostics[0].message.startswith("the law `galois` does not hold")


def test_masking_the_weights_is_refused_by_the_types(tmp_path) -> None:
    key = "19_mask_before_softmax"
    broken = graded(tmp_path, key, BY_KEY[key].exercise_path.read_text())
    assert broken.codes == ["E0201"]
    assert "`Hide` takes `Scores * Mask`, but is applied to `Weights * Mask`" in (
        broken.diagnostics[0].message
    )
    # retyping Hide to act on weights does not check either: masking is defined on scores
    retyped = variant(
        key,
        ("Hide   : Scores * Mask -> Scores", "Hide   : Weights * Mask -> Weights"),
        ("w = Attend(Hide(Score(h, h), m))", "w = Hide(Attend(Score(h, h)), m)"),
    )
    outcome = graded(tmp_path, key, retyped)
    assert outcome.codes == ["E0205"]
    assert outcome.diagnostics[0].message.startswith(
        "`Hide` is declared with domain `Weights * Mask`, but its body has domain `Real["
    )


def test_one_wide_head_fits_the_shape_but_is_not_two_heads(tmp_path) -> None:
    key = "20_head_widths"
    broken = graded(tmp_path, key, BY_KEY[key].exercise_path.read_text())
    assert broken.codes == ["E0205"]
    assert "`Attend` is declared with codomain `MultiHeadOutput`" in broken.diagnostics[0].message
    one_head = variant(key, ("dim H = 2 ", "dim H = 1 "), ("dim K = 2 ", "dim K = 4 "))
    outcome = graded(tmp_path, key, one_head)
    assert outcome.codes == ["E0904"]
    assert outcome.diagnostics[0].message == "`attended` gives another value than the goal"


def test_gluing_with_equality_fails_on_two_false_intervals(tmp_path) -> None:
    # `eq` agrees with `and` on the course's three cases; two false intervals tell them apart
    key = "13_safety_cover"
    text = variant(key, ("Bool * Bool -> Bool = and", "Bool * Bool -> Bool = eq"))
    outcome = graded(tmp_path, key, text)
    assert [d.message.split(":")[0] for d in outcome.diagnostics] == [
        "the law `both_unsafe_stay_unsafe` does not hold"
    ]


def test_every_chapter_has_a_checkpoint_question() -> None:
    questions = [q for q in load_questions(EXERCISES) if q.set == "checkpoints"]
    chapters = {q.chapter for q in questions}
    assert {"The seven sketches", "Exercises and challenges", "The Adam challenge"} <= chapters
    assert "The Transformer roadmap" in chapters and len(chapters) == 9
    adam = next(q for q in questions if q.chapter == "The Adam challenge")
    # Adam's first step moves each coordinate by lr against its gradient's sign (m̂/√v̂ = ±1)
    assert compute(adam, EXERCISES).numbers == pytest.approx((0.9, -0.9), abs=1e-8)
    exercise_4 = next(q for q in questions if q.chapter == "Exercises and challenges")
    assert compute(exercise_4, EXERCISES).text == "E0201"


def test_a_renamed_exercise_in_the_progress_is_not_counted(capsys, tmp_path) -> None:
    # exercises were renumbered once (11_signal_matrices became 12_signal_matrices)
    Progress(tmp_path / PROGRESS_FILE, ["01_token_id", "11_signal_matrices"], {}).save()
    code, out, _ = learn(capsys, tmp_path, "list")
    assert code == 0
    assert f" 1/{len(ALL)} done" in out.splitlines()[0]
    assert re.search(r"^  02  beginner +Windowing needs two tokens +current$", out, re.M)
    assert re.search(r"^  12  intermediate +Signal flow: matrices that compose$", out, re.M)
