"""Step through a saved match ply by ply: the board, what was predicted there, the timings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widgets import Footer, Sparkline, Static
from textual.worker import Worker

from arena.core.errors import ArenaError
from arena.core.game import GameState
from arena.games import CHESS, load_game, replay
from arena.games.chess import ChessState
from arena.store import BranchRow, MatchRow, PlyRow, export_json, export_pgn
from arena.tui.format import short_name, side_name
from arena.tui.screens.base import ArenaScreen
from arena.tui.speculation_model import SavedBranch, SpeculationModel
from arena.tui.widgets.board import Board, board_fit
from arena.tui.widgets.game_board import GameBoard
from arena.tui.widgets.moves import MoveList
from arena.tui.widgets.ply_detail import PlyDetail


def saved_branch(row: BranchRow) -> SavedBranch:
    return SavedBranch(
        branch_id=row.branch_id,
        ply=row.ply,
        depth=row.depth,
        path=row.path,
        guess=row.guess,
        probability=row.probability,
        status=row.status,
        move=row.move,
        error=row.error,
        duration_s=None if row.ended_t is None else max(0.0, row.ended_t - row.started_t),
    )


class ReplayScreen(ArenaScreen):
    """One saved match; `position` is the number of plies played on the board shown."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # noqa: RUF012
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]  # noqa: RUF012

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left,up", "step(-1)", "Back a ply", priority=True),
        Binding("right,down", "step(1)", "Forward a ply", priority=True),
        Binding("pageup", "step(-10)", "Back 10", show=False, priority=True),
        Binding("pagedown", "step(10)", "Forward 10", show=False, priority=True),
        Binding("home", "jump(0)", "Start", show=False, priority=True),
        Binding("end", "jump(-1)", "End", show=False, priority=True),
        Binding("f", "flip", "Flip"),
        Binding("e", "export", "Export"),
    ]

    position: reactive[int] = reactive(0, init=False)
    """Plies played on the board shown (0 is the start position)."""

    def __init__(self, match_id: str, *, export_dir: str | Path | None = None) -> None:
        super().__init__()
        self.match_id = match_id
        """The id of the match shown."""
        self.export_dir = Path(export_dir) if export_dir is not None else None
        """Where `e` writes `<id>.pgn` (`<id>.json` for other games than chess); default: next
        to the database (replays/)."""
        self.match: MatchRow | None = None
        self.plies: list[PlyRow] = []
        self.speculation = SpeculationModel()
        """What was speculated on each ply."""
        self.states: list[GameState] = []
        """The state after each number of plies (index 0: the start)."""
        self.exported: Path | None = None
        """The last PGN (or JSON) file written."""
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(f" replay {self.match_id} · loading…", id="status")
        with Horizontal(id="replay-main"):
            with Vertical(id="replay-left"):
                yield Board(id="board")
                board = GameBoard(id="game-board")
                board.display = False
                yield board
                yield MoveList(id="moves")
            with Vertical(id="replay-right"):
                with VerticalScroll(id="detail-scroll"):
                    yield PlyDetail(id="detail")
                with Horizontal(id="replay-chart"):
                    yield Static("saved/ply ", id="replay-chart-label")
                    yield Sparkline([], id="replay-spark")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#moves").border_title = "Moves"
        self.query_one("#detail-scroll").border_title = "Ply"
        self.load()

    @work(exclusive=True, group="store", exit_on_error=False)
    async def load(self) -> None:
        store = await self.store()
        match = await store.get_match(self.match_id)
        if match is None:
            raise ArenaError(f"no match {self.match_id!r} in {store.path}")
        plies = await store.get_plies(self.match_id)
        branches = await store.get_branches(self.match_id)
        self.loaded(match, plies, branches)

    def loaded(
        self,
        match: MatchRow,
        plies: list[PlyRow],
        branches: list[BranchRow],
    ) -> None:
        # The states first: a match that cannot be replayed leaves the screen as it was.
        states = [load_game(match.game).start(match.start_fen)]
        for ply in plies:
            states.append(replay(states[-1], [ply.move]))
        self.states = states
        self.plies = plies
        self.match = match
        self.speculation = SpeculationModel.from_saved(
            states, plies, [saved_branch(b) for b in branches]
        )
        chess_game = isinstance(states[0], ChessState)
        self.query_one(Board).display = chess_game
        self.query_one(GameBoard).display = not chess_game
        first = None if chess_game else states[0]
        self.query_one(PlyDetail).sides = (side_name(0, first), side_name(1, first))
        moves = self.query_one(MoveList)
        if chess_game:
            moves.set_start(match.start_fen)
        else:
            moves.set_first_side(states[0].to_move)
        moves.set_moves([p.san for p in plies], [p.hit for p in plies])
        spark = self.query_one(Sparkline)
        spark.data = [p.saved_s for p in plies]
        spark.styles.max_width = max(1, len(plies))
        # At the start: the summary first, then → steps through the plies.
        self.position = 0
        self._show()

    def worker_failed(self, worker: Worker[object], message: str) -> None:
        if worker.group == "store":
            self.error = message
            self.query_one("#status", Static).update(f" replay {self.match_id} · {message}")
        super().worker_failed(worker, message)

    # -- stepping -----------------------------------------------------------------------------

    def watch_position(self) -> None:
        self._show()

    def _show(self) -> None:
        if self.match is None:
            return
        n = self.position
        ply = self.plies[n - 1] if n > 0 else None
        state = self.states[n]
        board = self.query_one(Board) if self.is_chess else self.query_one(GameBoard)
        board.set_position(state.position(), ply.move if ply else None)
        self.query_one(MoveList).current = n - 1 if n > 0 else None
        view = self.speculation.view(n - 1) if ply else None
        self.query_one(PlyDetail).show(self.match, ply, view)
        m = self.match
        result = f"{m.result} {m.termination or ''}".strip() if m.result else m.status
        status = Text(no_wrap=True, overflow="ellipsis")
        status.append(
            f" {result} · ply {n}/{len(self.plies)} · {short_name(m.white_spec)} vs "
            f"{short_name(m.black_spec)} · match {m.id}"
        )
        self.query_one("#status", Static).update(status)

    @property
    def is_chess(self) -> bool:
        return self.match is None or (self.match.game or CHESS) == CHESS

    def on_resize(self) -> None:
        width, height = self.size
        board_width, board_height = board_fit(width - 48, height - 2 - 5)
        self.query_one(Board).styles.height = board_height
        self.query_one("#replay-left").styles.width = max(30, board_width)

    def action_step(self, delta: int) -> None:
        self.position = max(0, min(len(self.plies), self.position + delta))

    def action_jump(self, where: int) -> None:
        self.position = len(self.plies) if where < 0 else where

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "flip":
            return self.is_chess
        return super().check_action(action, parameters)

    def action_flip(self) -> None:
        board = self.query_one(Board)
        board.flipped = not board.flipped

    # -- export -------------------------------------------------------------------------------

    @work(exclusive=True, group="export", exit_on_error=False)
    async def action_export(self) -> None:
        """Writes the match as PGN (chess) or JSON (the other games: PGN is chess-only)."""
        store = await self.store()
        if self.is_chess:
            kind, text = "pgn", await export_pgn(store, self.match_id)
        else:
            data = await export_json(store, self.match_id)
            kind, text = "json", json.dumps(data, indent=2, allow_nan=False) + "\n"
        folder = self.export_dir or Path(store.path).parent
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.match_id}.{kind}"
        path.write_text(text, encoding="utf-8")
        self.exported = path
        self.notify(f"{kind.upper()} written to {path}", title="exported")
