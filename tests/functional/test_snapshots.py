"""Whole-screen SVG snapshots, with clocks and blinking turned off."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from arena.core.match import Seat
from arena.tui.app import ArenaApp
from arena.tui.screens.live import LiveScreen
from arena.tui.themes import MONO

from .conftest import (
    BLACK_GUESSES,
    SCHOLAR,
    WHITE_GUESSES,
    ListSpeculator,
    ReplayedMatch,
    ScriptedActor,
    scholar_events,
    wait_until,
)

NOTE = "No API keys found: playing stockfish vs stockfish; see README to plug in models"

SnapCompare = Callable[..., bool]


def finished_live_app() -> ArenaApp:
    events, summary = scholar_events()
    seats = (
        Seat(
            ScriptedActor(SCHOLAR, spec="scripted-white"),
            ListSpeculator(WHITE_GUESSES, "list-white"),
        ),
        Seat(
            ScriptedActor(SCHOLAR, spec="scripted-black"),
            ListSpeculator(BLACK_GUESSES, "list-black"),
        ),
    )
    return ArenaApp(ReplayedMatch(events, summary, seats), note=NOTE, static=True)


async def until_finished(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, ArenaApp)
    await wait_until(pilot, lambda: app.summary is not None)
    screen = app.screen
    assert isinstance(screen, LiveScreen)
    await wait_until(pilot, lambda: screen.finished is not None)


def test_live_match_at_its_end(snap_compare: SnapCompare) -> None:
    """The live screen after Scholar's mate: board, moves, guesses, latency and log at 120x40."""
    assert snap_compare(finished_live_app(), terminal_size=(120, 40), run_before=until_finished)


def test_live_match_at_its_end_in_80x24(snap_compare: SnapCompare) -> None:
    """The same end state fits a classic 80x24 terminal (the log starts hidden there)."""
    assert snap_compare(finished_live_app(), terminal_size=(80, 24), run_before=until_finished)


def test_live_match_flipped(snap_compare: SnapCompare) -> None:
    """`f` shows the board from Black's side with the cards swapped."""
    assert snap_compare(
        finished_live_app(), terminal_size=(120, 40), run_before=until_finished, press=["f"]
    )


def test_live_match_in_monochrome(snap_compare: SnapCompare) -> None:
    """The monochrome theme: greys only, last move and check reversed, White's pieces hollow."""
    app = finished_live_app()
    app.theme = MONO.name
    assert snap_compare(app, terminal_size=(120, 40), run_before=until_finished)


def test_home_without_a_database(snap_compare: SnapCompare) -> None:
    """The home screen: the start form, the note, and no saved matches yet."""

    async def factory(params: dict[str, str]) -> object:
        raise AssertionError("not started in this snapshot")

    app = ArenaApp(note=NOTE, static=True, match_factory=factory)  # type: ignore[arg-type]

    async def settled(pilot: Pilot[None]) -> None:
        await wait_until(pilot, lambda: getattr(app.screen, "recent_error", None) is not None)

    assert snap_compare(app, terminal_size=(120, 40), run_before=settled)
