"""`arena tournament watch`: standings, crosstable and games in flight from a real store; enter
opens a game in flight full size."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Static

from arena.core.ledger import MatchStats
from arena.core.policy import SpeculationPolicy
from arena.store import Store
from arena.store.tournaments import get_games
from arena.tournament.config import Entrant, TournamentConfig
from arena.tournament.runner import Tournament
from arena.tui.screens.replay import ReplayScreen
from arena.tui.screens.tournament import TournamentApp, TournamentScreen, mini_board

from .conftest import wait_until

SIZE = (140, 44)


def config() -> TournamentConfig:
    return TournamentConfig(
        format="roundrobin",
        players=tuple(Entrant(name=f"r{i}", spec=f"random:seed={i}") for i in range(3)),
        games_per_pair=2,
        max_plies=4,
        speculator=None,
        policy=SpeculationPolicy(enabled=False),
    )


async def test_watch_shows_standings_crosstable_and_games_in_flight(tmp_path: Path) -> None:
    db = tmp_path / "arena.db"
    async with await Store.open(db) as store:
        tournament = await Tournament.create(store, config())
        [first, *rest] = await get_games(store, tournament.id)
        # Four games played; the fifth has started (its match runs), the last has not.
        for game in [first, *rest[:3]]:
            await store.create_match(
                game.match_id or "", f"random:seed={game.white[1]}",
                f"random:seed={(game.black or 'r0')[1]}", None, None,
                "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1", 4, 0, {},
            )  # fmt: skip
            await store.acquire_lease(game.match_id or "")
            await store.finish_match(game.match_id or "", "1-0", "checkmate", MatchStats())
        running = rest[3]
        await store.create_match(
            running.match_id or "", "random:seed=1", "random:seed=2", None, None,
            "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1", 4, 0, {},
        )  # fmt: skip
        await store.acquire_lease(running.match_id or "")
        app = TournamentApp(tournament.id, db_path=str(db), static=True)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            assert isinstance(screen, TournamentScreen)
            await wait_until(pilot, lambda: screen.report is not None)
            standings = screen.query_one("#t-standings", DataTable)
            assert standings.row_count == 3
            status = str(screen.query_one("#t-status", Static).render())
            assert "4/6 games" in status and "1 in flight" in status
            assert "crosstable" in str(screen.query_one("#t-crosstable", Static).render())
            live = screen.query_one("#t-live", DataTable)
            assert live.row_count == 1
            boards = str(screen.query_one("#t-boards", Static).render())
            assert f"game {running.n}" in boards and "r n b q k b n r" in boards
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen))
            await pilot.press("escape")
            await wait_until(pilot, lambda: isinstance(app.screen, TournamentScreen))


def test_mini_board_marks_the_last_move() -> None:
    text = mini_board("rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - 0 1", "e2e4")
    lines = text.plain.splitlines()
    assert lines[0] == "r n b q k b n r" and lines[4] == "· · · · P · · ·"
    assert any("underline" in str(span.style) for span in text.spans)
