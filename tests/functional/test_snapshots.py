"""Whole-screen SVG snapshots at 80x24, 100x30, 120x40 and 160x50, clocks and blinking off, and
a check that no visible line in those screens is cut without an ellipsis."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Label, Static

from arena.core.match import Seat
from arena.tui.app import ArenaApp
from arena.tui.screens.home import HomeScreen
from arena.tui.screens.live import LiveScreen
from arena.tui.screens.replay import ReplayScreen
from arena.tui.screens.replays import ReplaysScreen
from arena.tui.themes import MONO
from arena.tui.widgets.latency import LatencyTable
from arena.tui.widgets.log import EventLog
from arena.tui.widgets.matches import MatchTable
from arena.tui.widgets.players import PlayerCard
from arena.tui.widgets.ply_detail import PlyDetail
from arena.tui.widgets.speculation import SpeculationPanel

from .conftest import (
    BLACK_GUESSES,
    SCHOLAR,
    STORED,
    WHITE_GUESSES,
    ListSpeculator,
    ReplayedMatch,
    ScriptedActor,
    scholar_events,
    store_fixed_matches,
    wait_until,
)

NOTE = "No API keys found: playing stockfish vs stockfish; see README to plug in models"
SIZES = [(80, 24), (100, 30), (160, 50)]
SIZE_IDS = [f"{w}x{h}" for w, h in SIZES]

SnapCompare = Callable[..., bool]
Ready = Callable[[Pilot[None]], Awaitable[None]]


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
    await pilot.pause()


def fixed_db(tmp_path: Path) -> str:
    db = str(tmp_path / "arena.db")
    asyncio.run(store_fixed_matches(db))
    return db


def home_app(db: str | None) -> ArenaApp:
    async def factory(params: dict[str, str]) -> object:
        raise AssertionError("not started in this snapshot")

    return ArenaApp(db_path=db, note=NOTE, static=True, match_factory=factory)  # type: ignore[arg-type]


async def home_settled(pilot: Pilot[None]) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, HomeScreen)
    table = screen.query_one(MatchTable)
    await wait_until(pilot, lambda: screen.recent_error is not None or table.row_count > 0)
    await pilot.pause()


async def replays_settled(pilot: Pilot[None]) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, ReplaysScreen)
    await wait_until(pilot, lambda: screen.query_one(MatchTable).row_count == len(STORED))
    await pilot.pause()


def at_ply(n: int) -> Ready:
    async def ready(pilot: Pilot[None]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, ReplayScreen)
        await wait_until(pilot, lambda: bool(screen.plies))
        await pilot.press(*["right"] * n)
        await pilot.pause()

    return ready


# -- the live screen ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_live_match_at_its_end(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    """The live screen after Scholar's mate: status first, the board as big as fits, guesses with
    their sentence, timing and events (as tabs where short)."""
    assert snap_compare(finished_live_app(), terminal_size=size, run_before=until_finished)


def test_live_match_at_its_end_in_120x40(snap_compare: SnapCompare) -> None:
    """The same end state at 120x40, the size of the README's screenshots."""
    assert snap_compare(finished_live_app(), terminal_size=(120, 40), run_before=until_finished)


def test_live_match_flipped(snap_compare: SnapCompare) -> None:
    """`f` shows the board from Black's side with the cards swapped."""
    assert snap_compare(
        finished_live_app(), terminal_size=(120, 40), run_before=until_finished, press=["f"]
    )


def test_live_match_looking_back(snap_compare: SnapCompare) -> None:
    """← steps back through the moves: the board, the move list and the guesses of ply 3."""
    assert snap_compare(
        finished_live_app(),
        terminal_size=(100, 30),
        run_before=until_finished,
        press=["left"] * 4,
    )


def test_live_match_in_monochrome(snap_compare: SnapCompare) -> None:
    """The monochrome theme: greys only, last move and check reversed, White's pieces hollow."""
    app = finished_live_app()
    app.theme = MONO.name
    assert snap_compare(app, terminal_size=(120, 40), run_before=until_finished)


def test_help_explains_speculation(snap_compare: SnapCompare) -> None:
    """`?` opens the legend: what speculation is, every branch word, then the keys."""
    assert snap_compare(
        finished_live_app(), terminal_size=(100, 30), run_before=until_finished, press=["?"]
    )


# -- home, replays, the viewer -----------------------------------------------------------------


def test_home_without_a_database(snap_compare: SnapCompare) -> None:
    """The home screen: the start form, the note, and no saved matches yet."""
    assert snap_compare(home_app(None), terminal_size=(120, 40), run_before=home_settled)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_home(snap_compare: SnapCompare, size: tuple[int, int], tmp_path: Path) -> None:
    """The home screen with saved matches: the form, and the recent matches, date first."""
    app = home_app(fixed_db(tmp_path))
    assert snap_compare(app, terminal_size=size, run_before=home_settled)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_replays(snap_compare: SnapCompare, size: tuple[int, int], tmp_path: Path) -> None:
    """The replay browser: date, result, plies and saved lead; what does not fit ends in `…`."""
    app = ArenaApp(db_path=fixed_db(tmp_path), start_screen="replays", static=True)
    assert snap_compare(app, terminal_size=size, run_before=replays_settled)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_viewer(snap_compare: SnapCompare, size: tuple[int, int], tmp_path: Path) -> None:
    """The replay viewer at ply 6: White predicted Nf6 and its reply Qxf7# was used."""
    app = ArenaApp(db_path=fixed_db(tmp_path), start_screen=("replay", STORED[-1]), static=True)
    assert snap_compare(app, terminal_size=size, run_before=at_ply(6))


def test_viewer_opens_at_the_start(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """The viewer opens at ply 0 with the match's summary in view."""
    app = ArenaApp(db_path=fixed_db(tmp_path), start_screen=("replay", STORED[-1]), static=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=at_ply(0))


# -- nothing is cut silently -------------------------------------------------------------------

BORDER = "│╭╮╰╯─┃━ "


def source_lines(widget: Widget) -> list[str]:
    """What `widget` would show on an endless line: the text before any cut or wrap."""
    if isinstance(widget, SpeculationPanel | PlyDetail):
        return [line for text in widget.lines() for line in text.plain.splitlines()]
    if isinstance(widget, EventLog):
        return list(widget.entries)
    if isinstance(widget, Static | Label):
        content = widget.content
        plain = content.plain if isinstance(content, Text) else str(content)
        return plain.splitlines()
    console = Console(width=10_000, record=True, file=None)
    with console.capture() as capture:
        console.print(widget.render(), crop=False, soft_wrap=True)
    return capture.get().splitlines()


def visible_lines(widget: Widget) -> list[str]:
    """The lines `widget` draws in its region, without its border and padding."""
    width, height = widget.outer_size
    gutter = widget.gutter
    strips = widget.render_lines(Region(0, 0, width, height))
    rows = strips[gutter.top : height - gutter.bottom]
    return [s.text[gutter.left : width - gutter.right].rstrip() for s in rows]


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def silent_cuts(widget: Widget) -> list[str]:
    """Visible lines that stop short of their text without an ellipsis (wrapping is fine)."""
    sources = [squash(line) for line in source_lines(widget) if line.strip()]
    shown = [line for line in visible_lines(widget)]
    together = squash(" ".join(shown))
    cuts = []
    for line in shown:
        seen = squash(line)
        if not seen or seen.endswith("…"):
            continue
        for source in sources:
            if seen == source or seen not in source:
                continue
            if source.startswith(seen) and source not in together:
                cuts.append(f"{type(widget).__name__}: {line!r} of {source!r}")
            break
    return cuts


def table_cuts(table: MatchTable) -> list[str]:
    """Cells wider than their column that do not end in an ellipsis."""
    cuts = []
    widths = {c.key.value: c.width for c in table.ordered_columns}
    for row_key in table.rows:
        for column in table.ordered_columns:
            cell = table.get_cell(row_key, column.key)
            text = cell.plain if isinstance(cell, Text) else str(cell)
            if len(text) > widths[column.key.value] and not text.endswith("…"):
                cuts.append(f"{column.key.value}: {text!r}")
    return cuts


CHECKED = (Static, Label, PlayerCard, SpeculationPanel, LatencyTable, PlyDetail, EventLog)


async def assert_nothing_cut(pilot: Pilot[None]) -> None:
    screen = pilot.app.screen
    cuts: list[str] = []
    for widget in screen.query("*"):
        if not widget.display or not widget.region.area:
            continue
        if isinstance(widget, MatchTable):
            cuts.extend(table_cuts(widget))
        elif isinstance(widget, CHECKED):
            cuts.extend(silent_cuts(widget))
    assert not cuts, "\n".join(cuts)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
async def test_no_line_is_cut_without_an_ellipsis(size: tuple[int, int], tmp_path: Path) -> None:
    db = str(tmp_path / "arena.db")
    await store_fixed_matches(db)
    scenes: list[tuple[ArenaApp, Ready]] = [
        (finished_live_app(), until_finished),
        (home_app(db), home_settled),
        (ArenaApp(db_path=db, start_screen="replays", static=True), replays_settled),
        (ArenaApp(db_path=db, start_screen=("replay", STORED[-1]), static=True), at_ply(6)),
        (ArenaApp(db_path=db, start_screen=("replay", STORED[-1]), static=True), at_ply(0)),
    ]
    for app, ready in scenes:
        async with app.run_test(size=size) as pilot:
            await ready(pilot)
            await assert_nothing_cut(pilot)
