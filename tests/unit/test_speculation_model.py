"""The speculation view-model, fed events by hand: no Textual, no match runner."""

from __future__ import annotations

import json
import subprocess
import sys

from arena.core.actor import Guess, Usage
from arena.core.events import (
    BranchAdopted,
    BranchCancelled,
    BranchFinished,
    BranchStarted,
    BranchStatus,
    GuessesMade,
    MoveCommitted,
)
from arena.core.ledger import PlyRecord
from arena.games.chess import ChessState
from arena.tui.speculation_model import (
    LABELS,
    PlyView,
    SavedBranch,
    Shown,
    SpeculationModel,
    shown,
)

MID = "m"
START = ChessState.from_fen(None)


def uci(state: ChessState, san: str) -> str:
    move = state.parse_move(san)
    assert move is not None
    return move


def guesses(model: SpeculationModel, state: ChessState, *moves: tuple[str, float]) -> None:
    model.guesses_made(
        GuessesMade(
            match_id=MID,
            t=0.0,
            ply=state.ply,
            side=1 - state.to_move,
            guesses=tuple(Guess(uci(state, m), p) for m, p in moves),
            predict_s=0.01,
        ),
        state,
    )


def start_branch(
    model: SpeculationModel, state: ChessState, branch_id: int, *path_san: str, rank: int = 1
) -> tuple[str, ...]:
    path = list(state.path)
    s = state
    for san in path_san:
        move = uci(s, san)
        path.append(move)
        s = s.apply(move)
    depth = len(path_san)
    model.branch_started(
        BranchStarted(
            match_id=MID,
            t=0.0,
            branch_id=branch_id,
            ply=s.ply,
            side=s.to_move,
            path=tuple(path),
            guess=path[state.ply],
            probability=0.5,
            rank=rank,
            depth=depth,
        )
    )
    return tuple(path)


def finish(
    model: SpeculationModel, branch_id: int, move: str | None, error: str | None = None
) -> None:
    model.branch_finished(
        BranchFinished(
            match_id=MID,
            t=0.0,
            branch_id=branch_id,
            ply=1,
            side=1,
            move=move,
            duration_s=0.8,
            usage=Usage(),
            error=error,
        )
    )


def commit(
    model: SpeculationModel,
    state: ChessState,
    san: str,
    *,
    hit: bool = False,
    rank: int | None = None,
    saved_s: float = 0.0,
    by_person: bool = False,
) -> ChessState:
    move = uci(state, san)
    after = state.apply(move)
    model.move_committed(
        PlyRecord(
            ply=state.ply,
            side=state.to_move,
            move=move,
            san=san,
            fen_after=after.position(),
            decision_s=1.0,
            wait_s=1.0 - saved_s,
            wall_s=1.0 - saved_s,
            saved_s=saved_s,
            hit=hit,
            rank=rank,
            speculated=True,
            by_person=by_person,
        )
    )
    return after


def test_a_hit_whose_ready_reply_is_adopted_reads_as_one_sentence() -> None:
    model = SpeculationModel()
    guesses(model, START, ("e4", 0.42), ("d4", 0.3))
    start_branch(model, START, 1, "e4")
    start_branch(model, START, 2, "d4", rank=2)
    view = model.view(0)
    assert view is not None
    assert [r.text for r in view.rows] == ["e4", "d4"]
    assert [r.shown for r in view.rows] == [Shown.RUNNING, Shown.RUNNING]
    finish(model, 1, uci(START.apply(uci(START, "e4")), "e5"))
    assert view.rows[0].shown == Shown.READY
    assert view.rows[0].branch is not None and view.rows[0].branch.move_text == "e5"
    assert view.sentence() == ""
    model.branch_cancelled(
        BranchCancelled(match_id=MID, t=1.0, branch_id=2, ply=1, side=1, running_s=0.9)
    )
    after = commit(model, START, "e4", rank=1)
    assert view.outcome(view.rows[0]) == "hit"
    assert view.outcome(view.rows[1]) == "miss"
    assert view.rows[1].shown == Shown.DROPPED
    model.branch_adopted(BranchAdopted(match_id=MID, t=1.0, branch_id=1, ply=1, side=1, ready=True))
    assert view.rows[0].shown == Shown.USED
    commit(model, after, "e5", hit=True, saved_s=1.0)
    assert view.saved_s == 1.0
    assert view.sentence() == (
        "Black predicted White's move e4 (#1, 42%) — reply was ready, 1.00s saved"
    )


def test_a_miss_drops_every_reply() -> None:
    model = SpeculationModel()
    guesses(model, START, ("d4", 0.6), ("c4", 0.2))
    start_branch(model, START, 1, "d4")
    start_branch(model, START, 2, "c4", rank=2)
    for branch_id in (1, 2):
        model.branch_cancelled(
            BranchCancelled(match_id=MID, t=1.0, branch_id=branch_id, ply=1, side=1, running_s=1)
        )
    commit(model, START, "e4")
    view = model.view(0)
    assert view is not None and view.hit is None
    assert {view.outcome(r) for r in view.rows} == {"miss"}
    assert {r.label.word for r in view.rows} == {LABELS[Shown.DROPPED].word}
    assert view.sentence() == "Black did not predict White's move e4 — its replies were dropped"


def test_a_reply_still_thinking_when_adopted_and_a_loss() -> None:
    model = SpeculationModel()
    guesses(model, START, ("e4", 0.5))
    start_branch(model, START, 1, "e4")
    after = commit(model, START, "e4", rank=1)
    model.branch_adopted(
        BranchAdopted(match_id=MID, t=1.0, branch_id=1, ply=1, side=1, ready=False)
    )
    commit(model, after, "c5", hit=True, saved_s=-0.25)
    view = model.view(0)
    assert view is not None
    row = view.rows[0]
    # The reply was never reported finished: the played move stands for it.
    assert row.branch is not None and row.branch.move_text == "c5"
    assert view.sentence().endswith("reply was still thinking, kept, 0.25s lost")


def test_a_failed_branch_and_a_guess_without_a_branch() -> None:
    model = SpeculationModel()
    guesses(model, START, ("e4", 0.5), ("a3", 0.0))
    start_branch(model, START, 1, "e4")
    finish(model, 1, None, error="engine died")
    view = model.view(0)
    assert view is not None
    assert view.rows[0].shown == Shown.FAILED
    assert view.rows[1].shown == Shown.NONE and view.rows[1].branch is None
    commit(model, START, "e4", rank=1)
    assert view.sentence().endswith("but its reply failed")


def test_depth_two_rows_hang_under_their_guess() -> None:
    model = SpeculationModel()
    guesses(model, START, ("e4", 0.5))
    start_branch(model, START, 1, "e4")
    start_branch(model, START, 2, "e4", "e5")
    e4 = START.apply(uci(START, "e4"))
    e5 = e4.apply(uci(e4, "e5"))
    finish(model, 2, uci(e5, "Nf3"))
    view = model.view(0)
    assert view is not None
    (deep,) = view.rows[0].deep
    assert deep.answer_text == "e5"
    assert deep.branch.shown == Shown.READY
    assert deep.branch.move_text == "Nf3"
    model.branch_adopted(BranchAdopted(match_id=MID, t=1.0, branch_id=2, ply=2, side=0, ready=True))
    assert deep.branch.shown == Shown.USED


def test_a_persons_move_is_hidden_until_played() -> None:
    model = SpeculationModel(persons={0})
    guesses(model, START, ("e4", 0.5))
    view = model.view(0)
    assert view is not None and view.is_hidden
    assert view.headline() == "ply 1: Black guesses your move"
    commit(model, START, "e4", rank=1, by_person=True)
    assert not view.is_hidden
    assert view.sentence().startswith("Black predicted your move e4 (#1, 50%)")


def test_feed_dispatches_events() -> None:
    model = SpeculationModel()
    event = GuessesMade(
        match_id=MID, t=0, ply=0, side=1, guesses=(Guess("e2e4", 1.0),), predict_s=0
    )
    model.feed(event, START)
    record = PlyRecord(
        ply=0,
        side=0,
        move="e2e4",
        san="e4",
        fen_after=START.apply("e2e4").position(),
        decision_s=1,
        wait_s=1,
        wall_s=1,
        saved_s=0,
        hit=False,
        rank=1,
        speculated=True,
    )
    model.feed(MoveCommitted(match_id=MID, t=1, record=record))
    assert model.last_ply == 0
    assert model.played_before(1) is model.view(0)


def test_a_saved_match_reads_the_same_as_its_events() -> None:
    e4 = uci(START, "e4")
    after = START.apply(e4)
    e5 = uci(after, "e5")
    records = [
        PlyRecord(
            ply=0,
            side=0,
            move=e4,
            san="e4",
            fen_after=after.position(),
            decision_s=1,
            wait_s=1,
            wall_s=1,
            saved_s=0,
            hit=False,
            rank=1,
            speculated=True,
            guesses=(Guess(e4, 0.42), Guess("d2d4", 0.3)),
        ),
        PlyRecord(
            ply=1,
            side=1,
            move=e5,
            san="e5",
            fen_after=after.apply(e5).position(),
            decision_s=1,
            wait_s=0,
            wall_s=0,
            saved_s=1.0,
            hit=True,
            rank=None,
            speculated=False,
            commit_latency_s=0.01,
        ),
    ]
    branches = [
        SavedBranch(
            branch_id=1,
            ply=1,
            depth=1,
            path=(e4,),
            guess=e4,
            probability=0.42,
            status=BranchStatus.ADOPTED,
            move=e5,
            error=None,
            duration_s=0.8,
        ),
        SavedBranch(
            branch_id=2,
            ply=1,
            depth=1,
            path=("d2d4",),
            guess="d2d4",
            probability=0.3,
            status=BranchStatus.CANCELLED,
            move=None,
            error=None,
            duration_s=0.9,
        ),
    ]
    model = SpeculationModel.from_saved([START, after], records, branches)
    view = model.view(0)
    assert isinstance(view, PlyView)
    assert [r.shown for r in view.rows] == [Shown.USED, Shown.DROPPED]
    assert view.sentence() == (
        "Black predicted White's move e4 (#1, 42%) — reply was ready, 1.00s saved"
    )
    assert model.view(1) is None


def test_one_label_table_covers_every_branch_state() -> None:
    assert {shown(s) for s in BranchStatus} | {shown(None), shown(BranchStatus.FINISHED, True)} == (
        set(Shown)
    )
    assert set(LABELS) == set(Shown)


def test_the_model_imports_no_textual() -> None:
    code = "import sys, json, arena.tui.speculation_model; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "textual" not in json.loads(out)
