"""`arena tournament watch ID`: a tournament's live standings, crosstable and games in flight.

The screen reads the store once a second, so it watches a tournament that another process (or
this one) runs: standings and crosstable as `arena tournament show` computes them, the progress
of the run, and the games in flight with small boards. Enter on a game opens it full size in the
replay viewer (its plies so far).
"""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import ClassVar

import chess
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker

from arena.store.tournaments import LiveGame, get_tournament, live_games
from arena.tournament.results import Report, build_report, load_results
from arena.tui.app import ArenaApp
from arena.tui.screens.base import ArenaScreen
from arena.tui.screens.replay import ReplayScreen

REFRESH_S = 1.0
MINI_BOARDS = 6
"""Games in flight drawn as small boards (the table lists them all)."""


def mini_board(fen: str, last_move: str | None = None) -> Text:
    """An 8-line board of piece letters; the last move's squares underlined."""
    board = chess.Board(fen)
    marked: set[int] = set()
    if last_move:
        try:
            move = chess.Move.from_uci(last_move)
            marked = {move.from_square, move.to_square}
        except ValueError:
            pass
    text = Text()
    for rank in range(7, -1, -1):
        for file in range(8):
            square = chess.square(file, rank)
            piece = board.piece_at(square)
            glyph = piece.symbol() if piece else "·"
            style = "bold" if piece and piece.color == chess.WHITE else "dim" if not piece else ""
            if square in marked:
                style += " underline"
            text.append(glyph + (" " if file < 7 else ""), style=style.strip() or None)
        if rank:
            text.append("\n")
    return text


class TournamentScreen(ArenaScreen):
    """Standings, crosstable, progress and the games in flight of one tournament."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reload", "Reload"),
        Binding("enter", "watch", "Watch game", show=True),
    ]

    def __init__(self, tournament_id: str) -> None:
        super().__init__()
        self.tournament_id = tournament_id
        self.report: Report | None = None
        """The standings as last read."""
        self.live: list[LiveGame] = []
        """The games in flight as last read."""
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(f" tournament {self.tournament_id} · loading…", id="t-status")
        with Horizontal(id="t-main"):
            with Vertical(id="t-left"):
                yield DataTable(id="t-standings", cursor_type="none", zebra_stripes=True)
                yield Static("", id="t-crosstable")
            with Vertical(id="t-right"):
                yield DataTable(id="t-live", cursor_type="row")
                yield Static("", id="t-boards")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        standings = self.query_one("#t-standings", DataTable)
        standings.add_columns("#", "player", "elo", "±95%", "games", "W", "D", "L", "forf", "score")
        live = self.query_one("#t-live", DataTable)
        live.add_columns("game", "round", "white", "black", "ply")
        live.focus()
        self.load()
        if not self.is_static:
            self.set_interval(REFRESH_S, self.load)

    @work(exclusive=True, group="store", exit_on_error=False)
    async def load(self) -> None:
        store = await self.store()
        row = await get_tournament(store, self.tournament_id)
        if row is None:
            self.error = f"no tournament {self.tournament_id}"
            self.query_one("#t-status", Static).update(f" {self.error}")
            return
        report = build_report(row, await load_results(store, self.tournament_id))
        self.live = await live_games(store, self.tournament_id)
        self._show(report)
        self.report = report  # once shown: whoever waits for it sees its tables filled

    def _show(self, report: Report) -> None:
        done = report.games_played
        scheduled = sum(1 for r in report.results if r.game.match_id is not None)
        spec = report.speculation
        stopped = f" · stopped by {report.stopped_by}" if report.stopped_by else ""
        self.query_one("#t-status", Static).update(
            f" tournament {report.tournament_id} · {report.config.format} · {done}/{scheduled}"
            f" games · {len(self.live)} in flight · {report.status}{stopped} · speculation saved"
            f" {spec.saved_s:.1f}s ({spec.saved_pct:.0f}%) · enter watches a game"
        )
        standings = self.query_one("#t-standings", DataTable)
        standings.clear()
        for rank, s in enumerate(report.table.standings, 1):
            standings.add_row(
                str(rank),
                s.player,
                "-" if s.elo is None else f"{s.elo:+.0f}",
                "-" if s.ci95 is None else f"{s.ci95:.0f}",
                str(s.games),
                str(s.wins),
                str(s.draws),
                str(s.losses),
                str(s.forfeits),
                f"{s.score:g}",
            )
        self.query_one("#t-crosstable", Static).update(_crosstable(report))
        live = self.query_one("#t-live", DataTable)
        keep = live.cursor_row
        live.clear()
        for g in self.live:
            live.add_row(str(g.n), str(g.round), g.white, g.black, str(g.plies), key=g.match_id)
        if self.live:
            live.move_cursor(row=min(keep, len(self.live) - 1))
        boards = Text()
        for g in self.live[:MINI_BOARDS]:
            boards.append(f"game {g.n}: {g.white} – {g.black}, ply {g.plies}\n", style="bold")
            boards.append(mini_board(g.fen, g.last_move))
            boards.append("\n\n")
        if not self.live:
            boards.append("no game in flight", style="dim")
        self.query_one("#t-boards", Static).update(boards)

    def worker_failed(self, worker: Worker[object], message: str) -> None:
        if worker.group == "store":
            self.error = message
            self.query_one("#t-status", Static).update(f" tournament · {message}")
            return
        super().worker_failed(worker, message)

    def action_reload(self) -> None:
        self.load()

    def action_watch(self) -> None:
        table = self.query_one("#t-live", DataTable)
        if not self.live or table.cursor_row < 0 or table.cursor_row >= len(self.live):
            self.notify("no game in flight to watch", timeout=3)
            return
        self.app.push_screen(ReplayScreen(self.live[table.cursor_row].match_id))

    @on(DataTable.RowSelected, "#t-live")
    def _selected(self) -> None:
        self.action_watch()


def _crosstable(report: Report) -> Text:
    names = [s.player for s in report.table.standings]
    if not names or len(names) > 12:
        return Text("")
    width = max(len(n) for n in names)
    cell = max(7, *(len(v) for row in report.table.crosstable.values() for v in row.values()))
    text = Text("crosstable (W-D-L of the row player)\n", style="dim")
    text.append(" " * (width + 4) + "".join(f"{i:>{cell + 1}}" for i in range(1, len(names) + 1)))
    for rank, me in enumerate(names, 1):
        cells = [
            "---" if them == me else report.table.crosstable.get(me, {}).get(them, "")
            for them in names
        ]
        text.append(f"\n{rank:>2}. {me:<{width}}" + "".join(f"{c:>{cell + 1}}" for c in cells))
    return text


_TUI = Path(__file__).resolve().parent.parent


class TournamentApp(ArenaApp):
    """The arena app opened on a tournament's screen (`arena tournament watch ID`)."""

    CSS_PATH: ClassVar[list[str | PurePath]] = [
        *(_TUI / str(name) for name in ArenaApp.CSS_PATH),
        _TUI / "tournament.tcss",
    ]

    def __init__(self, tournament_id: str, *, db_path: str, static: bool | None = None) -> None:
        super().__init__(db_path=db_path, static=static)
        self.tournament_id = tournament_id

    async def on_mount(self, event: events.Mount) -> None:  # type: ignore[override]
        # Instead of the home screen ArenaApp would open.
        event.prevent_default()
        await self.push_screen(TournamentScreen(self.tournament_id))


__all__ = ["TournamentApp", "TournamentScreen", "mini_board"]
