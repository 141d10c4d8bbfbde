"""The board of a non-chess game (OpenSpiel): discs, men and kings, stones, or a generic grid.

`GameBoard.set_position(position, last_move)` takes what `OpenSpielState.position()` gives (the
game's spec and the action ids), the same call the chess `Board` takes with a FEN, so a screen
can hold either widget and feed it the same way.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual import events
from textual.app import RenderResult
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from arena.games import load_game
from arena.games.openspiel import OpenSpielGame, OpenSpielState

_FIRST = "bold red"
_SECOND = "bold yellow"
_EMPTY = "dim"

# Per game: board character -> (glyph, style). Characters not listed are kept as they are.
_GLYPHS: dict[str, dict[str, tuple[str, str]]] = {
    "connect_four": {"x": ("●", _FIRST), "o": ("●", _SECOND), ".": ("·", _EMPTY)},
    "tic_tac_toe": {"x": ("X", _FIRST), "o": ("O", _SECOND), ".": ("·", _EMPTY)},
    "othello": {"x": ("●", "bold"), "o": ("○", "bold"), "-": ("·", _EMPTY)},
    "checkers": {
        "o": ("⛀", _FIRST),
        "8": ("⛁", _FIRST),
        "+": ("⛂", _SECOND),
        "*": ("⛃", _SECOND),
        ".": ("·", _EMPTY),
    },
    "breakthrough": {"b": ("♟", _FIRST), "w": ("♙", _SECOND), ".": ("·", _EMPTY)},
    "go": {"X": ("●", "bold"), "O": ("○", "bold"), "+": ("·", _EMPTY)},
    "hex": {"x": ("●", _FIRST), "o": ("●", _SECOND), ".": ("·", _EMPTY)},
}


_ROW = re.compile(r"^(\s*\d+\s?)?(.*?)(\s\d+\s*)?$")
_FILE_LETTERS = ("abcdefghijklmnopqrstuvwxyz", "abcdefghjklmnopqrstuvwxyz")  # Go skips i


def _is_files(line: str) -> bool:
    """True for a line of file letters (`a b c d`, `ABCDEFGHJ`), not a row of pieces that happen
    to be letters (a full Connect Four row `xxxooxx`)."""
    letters = "".join(line.split()).lower()
    return len(letters) > 1 and any(a.startswith(letters) for a in _FILE_LETTERS)


def _rows(state: OpenSpielState) -> list[tuple[str, str, str]]:
    """The board's lines as (row label, cells, row label); file-letter lines have no cells."""
    out = []
    for line in state.board().splitlines():
        if not line.strip() or line.startswith("GoState") or line.rstrip().endswith("play:"):
            continue
        if "Terminal State" in line:
            continue
        if _is_files(line):
            out.append((line.rstrip(), "", ""))
            continue
        match = _ROW.match(line.rstrip())
        assert match is not None
        out.append((match.group(1) or "", match.group(2), match.group(3) or ""))
    return out


def _cells(cells: str, glyphs: dict[str, tuple[str, str]], spaced: bool) -> Text:
    text = Text()
    for ch in cells:
        glyph, style = glyphs.get(ch, (ch, ""))
        text.append(glyph, style)
        if spaced and ch != " ":
            text.append(" ")
    return text


def board_text(state: OpenSpielState) -> Text:
    """The board drawn for the terminal, with a line on whose move it is and the score where the
    game keeps one (Othello discs, pieces left)."""
    name = state.game.name
    glyphs = _GLYPHS.get(name, {})
    rows = _rows(state)
    out = Text()
    spaced = name in ("connect_four", "tic_tac_toe")
    for before, cells, after in rows:
        out.append(before, _EMPTY)
        out.append_text(_cells(cells, glyphs, spaced))
        out.append(after, _EMPTY)
        out.append("\n")
    if name == "connect_four":
        columns = len(rows[0][1]) if rows else 7
        out.append(" ".join(str(c) for c in range(columns)) + "\n", _EMPTY)
    out.append("\n")
    out.append_text(_status(state))
    return out


def _status(state: OpenSpielState) -> Text:
    text = Text()
    outcome = state.outcome()
    if outcome is not None:
        text.append(f"{outcome.result} ({outcome.termination})", "bold")
    else:
        text.append(f"{state.side_name(state.to_move)} to move", "bold")
    last = state.last_move()
    if last is not None:
        text.append(f" · last {last}")
    counts = _counts(state)
    if counts:
        text.append(f" · {counts}", _EMPTY)
    return text


def _counts(state: OpenSpielState) -> str:
    name = state.game.name
    pieces = {
        "othello": ("x", "o"),
        "checkers": ("o8", "+*"),
        "breakthrough": ("b", "w"),
        "go": ("X", "O"),
    }.get(name)
    if pieces is None:
        return ""
    board = "".join(cells for _, cells, _ in _rows(state))
    first = sum(board.count(c) for c in pieces[0])
    second = sum(board.count(c) for c in pieces[1])
    return f"{state.side_name(0)} {first} · {state.side_name(1)} {second}"


CLICKABLE = ("connect_four", "tic_tac_toe")
"""Games whose moves a click on the board picks (a column, a cell); the others are typed."""


def clicked_move(state: OpenSpielState, x: int, y: int) -> str | None:
    """The legal move a click at content cell (`x`, `y`) picks, or None: a column in Connect
    Four (anywhere in it), a cell in tic-tac-toe."""
    name = state.game.name
    column = x // 2  # these boards are drawn with a space after each cell
    if name == "connect_four":
        return state.parse_move(str(column))
    if name == "tic_tac_toe" and y < len(_rows(state)):
        return state.parse_move(f"{y},{column}")
    return None


class GameBoard(Widget):
    """A non-chess game's board, drawn from its position string. While `interactive`, a click
    picks a move where the game allows it (`CLICKABLE`)."""

    DEFAULT_CSS = """
    GameBoard { width: auto; height: auto; padding: 0 1; }
    """

    position: reactive[str] = reactive("", layout=True)
    """`OpenSpielState.position()`: the game spec and the action ids played."""
    interactive: reactive[bool] = reactive(False)
    """True while a person may pick a move by clicking."""

    class MoveSelected(Message):
        """A move was picked on the board (a legal move of the position shown)."""

        def __init__(self, board: GameBoard, move: str) -> None:
            super().__init__()
            self.board = board
            self.move = move

        @property
        def control(self) -> GameBoard:
            return self.board

    def __init__(self, position: str = "", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._games: dict[str, OpenSpielGame] = {}
        self.set_reactive(GameBoard.position, position)

    def set_position(self, position: str, last_move: str | None = None) -> None:
        """Shows `position` (`last_move` is read from the position itself)."""
        self.position = position

    def state(self) -> OpenSpielState | None:
        if not self.position:
            return None
        spec = self.position.partition("|")[0]
        game = self._games.get(spec)
        if game is None:
            loaded = load_game(spec)
            assert isinstance(loaded, OpenSpielGame)
            game = self._games[spec] = loaded
        return game.start(self.position)

    def render(self) -> RenderResult:
        state = self.state()
        return board_text(state) if state is not None else Text("")

    def on_click(self, event: events.Click) -> None:
        if not self.interactive:
            return
        offset = event.get_content_offset(self)
        state = self.state()
        if offset is None or state is None:
            return
        move = clicked_move(state, offset.x, offset.y)
        if move is not None:
            event.stop()
            self.post_message(self.MoveSelected(self, move))
