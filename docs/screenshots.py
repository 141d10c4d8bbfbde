"""The README's screenshots, made by the app itself: `.venv/bin/python docs/screenshots.py`.

Every scene is deterministic, built the way the functional tests build theirs: the match is a
fixed list of events (Scholar's mate between scripted players, with made-up but fixed timings),
clocks and cursors are static, and the stored matches get fixed dates. So the SVGs change only when
the app's look does. Writes docs/live.svg, docs/home.svg, docs/replay.svg and docs/human.svg and
prints their paths.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
sys.path.insert(0, str(ROOT))

from textual.pilot import Pilot  # noqa: E402

from arena.core.events import (  # noqa: E402
    BranchAdopted,
    BranchCancelled,
    BranchFinished,
    BranchStarted,
    Event,
    GuessesMade,
    MoveCommitted,
    TurnStarted,
)
from arena.core.match import MatchSummary, Seat  # noqa: E402
from arena.players.human import HumanPlayer  # noqa: E402
from arena.tui.app import ArenaApp  # noqa: E402
from arena.tui.screens.home import HomeScreen  # noqa: E402
from arena.tui.screens.replay import ReplayScreen  # noqa: E402
from arena.tui.widgets.matches import MatchTable  # noqa: E402
from tests.functional.conftest import (  # noqa: E402
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

SIZE = (120, 40)
NOTE = "No API key found: these are scripted players; see README to plug in models."

Scene = Callable[[Pilot[None]], Awaitable[None]]


class HeldMatch(ReplayedMatch):
    """Publishes a fixed list of events, then waits, as a match whose player is thinking."""

    async def run(self) -> MatchSummary:
        await super().run()
        await asyncio.Event().wait()
        return self.summary


def seats(white: ScriptedActor | HumanPlayer | None = None) -> tuple[Seat, Seat]:
    return (
        Seat(
            white or ScriptedActor(SCHOLAR, spec="scripted-white"),
            ListSpeculator(WHITE_GUESSES, "list-white"),
        ),
        Seat(
            ScriptedActor(SCHOLAR, spec="scripted-black"),
            ListSpeculator(BLACK_GUESSES, "list-black"),
        ),
    )


def turn_index(events: list[Event], ply: int) -> int:
    return next(i for i, e in enumerate(events) if isinstance(e, TurnStarted) and e.ply == ply)


def thinking_on(events: list[Event], ply: int) -> list[Event]:
    """The events up to the commit of `ply`, less the cancellations that commit causes: the
    mover still thinks, the waiting side's replies are ready or running."""
    start = turn_index(events, ply)
    end = next(
        (i for i, e in enumerate(events) if i > start and isinstance(e, MoveCommitted)),
        len(events),
    )
    return [
        e for i, e in enumerate(events[:end]) if i < start or not isinstance(e, BranchCancelled)
    ]


def guessing_for_white(events: list[Event], ply: int) -> list[Event]:
    """For a person at White: the events up to Black's guesses and replies on White's turn `ply`,
    less White's own speculation (a person does not pre-think)."""
    start = turn_index(events, ply)
    end = next(
        i
        for i, e in enumerate(events)
        if i > start
        and not isinstance(e, TurnStarted | BranchAdopted | GuessesMade | BranchStarted)
    )
    white_speculation = (BranchAdopted, BranchStarted, BranchFinished, BranchCancelled)
    return [
        e
        for e in events[:end]
        if not (isinstance(e, white_speculation) and e.side == 0)
        and not (isinstance(e, GuessesMade) and e.side == 0)
    ]


async def shoot(app: ArenaApp, name: str, ready: Scene) -> Path:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.pause()
        path = Path(app.save_screenshot(filename=f"{name}.svg", path=str(DOCS)))
        app.exit()
    return path


async def live() -> Path:
    """Mid-match: Black thinks on ply 6 while White's reply to its likeliest guess is ready."""
    events, summary = scholar_events()
    held = HeldMatch(thinking_on(events, 5), summary, seats())
    app = ArenaApp(held, note=NOTE, static=True, theme_name="dark")

    async def ready(pilot: Pilot[None]) -> None:
        screen = app.live
        assert screen is not None
        await wait_until(pilot, lambda: screen.events_seen == len(held.events))

    return await shoot(app, "live", ready)


async def human() -> Path:
    """A person at White: Black guesses the move being typed and pre-thinks its replies."""
    events, summary = scholar_events()
    held = HeldMatch(guessing_for_white(events, 2), summary, seats(HumanPlayer()))
    app = ArenaApp(held, static=True, theme_name="dark")

    async def ready(pilot: Pilot[None]) -> None:
        screen = app.live
        assert screen is not None
        await wait_until(pilot, lambda: screen.events_seen == len(held.events))
        entry = screen.query_one("#move-entry")
        await wait_until(pilot, lambda: not entry.disabled and entry.has_focus)
        await pilot.press("B", "c")

    return await shoot(app, "human", ready)


async def home(db: str) -> Path:
    """The start form and the saved matches."""

    async def factory(params: dict[str, str]) -> ReplayedMatch:
        raise RuntimeError("no match is started for a screenshot")

    app = ArenaApp(db_path=db, note=NOTE, match_factory=factory, static=True, theme_name="dark")

    async def ready(pilot: Pilot[None]) -> None:
        screen = app.screen
        assert isinstance(screen, HomeScreen)
        await wait_until(pilot, lambda: screen.query_one(MatchTable).row_count == len(STORED))

    return await shoot(app, "home", ready)


async def replay(db: str) -> Path:
    """The newest saved match at ply 6: White guessed Nf6, and its reply Qxf7# was used."""
    app = ArenaApp(db_path=db, start_screen=("replay", STORED[-1]), static=True, theme_name="dark")

    async def ready(pilot: Pilot[None]) -> None:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await wait_until(pilot, lambda: bool(screen.plies))
        await pilot.press("home", *["right"] * 6)

    return await shoot(app, "replay", ready)


async def main() -> None:
    DOCS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "arena.db")
        await store_fixed_matches(db)
        paths = [await live(), await home(db), await replay(db), await human()]
    for path in paths:
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    asyncio.run(main())
