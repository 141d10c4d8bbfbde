"""The chess board: Unicode pieces, coordinates, last move and check, flip, square picking."""

from __future__ import annotations

from typing import ClassVar

import chess
from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import RenderResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.theme import Theme
from textual.widget import Widget

from arena.tui.themes import is_monochrome

GLYPHS = {
    chess.PAWN: "♟",
    chess.KNIGHT: "♞",
    chess.BISHOP: "♝",
    chess.ROOK: "♜",
    chess.QUEEN: "♛",
    chess.KING: "♚",
}
HOLLOW_GLYPHS = {
    chess.PAWN: "♙",
    chess.KNIGHT: "♘",
    chess.BISHOP: "♗",
    chess.ROOK: "♖",
    chess.QUEEN: "♕",
    chess.KING: "♔",
}
SQUARE_SIZES = ((9, 4), (7, 3), (5, 2), (3, 1))
"""Square sizes (columns, rows) from the largest; the board uses the largest that fits."""
RANK_GUTTER = 2


def board_fit(width: int, height: int) -> tuple[int, int]:
    """The width and height (cells) of the largest board that fits in `width` x `height`,
    with a cell of room on each side."""
    for cols, rows in SQUARE_SIZES:
        if 8 * rows + 1 <= height and RANK_GUTTER + 8 * cols + 2 <= width:
            return RANK_GUTTER + 8 * cols + 2, 8 * rows + 1
    cols, rows = SQUARE_SIZES[-1]
    return RANK_GUTTER + 8 * cols + 2, 8 * rows + 1


class Board(Widget, can_focus=True):
    """A chess board that shows `fen` and, when `interactive`, lets a person pick a move.

    Squares are picked with the mouse or with the arrow keys and enter: first the piece, then its
    destination. A pawn reaching the last rank becomes a queen (type the move to under-promote).
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "board--light",
        "board--dark",
        "board--last",
        "board--check",
        "board--cursor",
        "board--selected",
        "board--target",
        "board--coord",
        "board--white-piece",
        "board--black-piece",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(0, 1)", "Up", show=False),
        Binding("down", "cursor(0, -1)", "Down", show=False),
        Binding("left", "cursor(-1, 0)", "Left", show=False),
        Binding("right", "cursor(1, 0)", "Right", show=False),
        Binding("enter", "pick", "Pick square", show=False),
        Binding("escape", "unselect", "Unselect", show=False),
    ]

    fen: reactive[str] = reactive(chess.STARTING_FEN)
    """The position shown."""
    last_move: reactive[str | None] = reactive(None)
    """The last move played (UCI), highlighted."""
    flipped: reactive[bool] = reactive(False)
    """True to show the board from Black's side."""
    interactive: reactive[bool] = reactive(False)
    """True while a person may pick a move on this board."""
    cursor: reactive[int] = reactive(chess.E2)
    """The square the keyboard cursor is on."""
    selected: reactive[int | None] = reactive(None)
    """The square of the piece picked to move, if any."""
    hollow_white: reactive[bool] = reactive(False)
    """True draws White's pieces hollow, so the sides differ without colour (monochrome)."""

    class MoveSelected(Message):
        """A move was picked on the board (UCI, not yet checked against the game)."""

        def __init__(self, board: Board, move: str) -> None:
            super().__init__()
            self.board = board
            self.move = move

        @property
        def control(self) -> Board:
            return self.board

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        self._theme_changed(self.app.current_theme)

    def _theme_changed(self, theme: Theme) -> None:
        self.hollow_white = is_monochrome(theme)

    def set_position(self, fen: str, last_move: str | None) -> None:
        """Shows a new position; a pending selection is dropped."""
        self.selected = None
        self.fen = fen
        self.last_move = last_move

    @property
    def chess_board(self) -> chess.Board:
        return chess.Board(self.fen)

    # -- geometry -----------------------------------------------------------------------------

    def _square_size(self, width: int, height: int) -> tuple[int, int]:
        for cols, rows in SQUARE_SIZES:
            if RANK_GUTTER + 8 * cols <= width and 8 * rows + 1 <= height:
                return cols, rows
        return SQUARE_SIZES[-1]

    def _layout(self) -> tuple[int, int, int, int]:
        """Square columns and rows, and the left and top offsets of the drawing."""
        width, height = self.content_size
        cols, rows = self._square_size(width, height)
        left = max(0, (width - RANK_GUTTER - 8 * cols) // 2)
        top = max(0, (height - 8 * rows - 1) // 2)
        return cols, rows, left, top

    def _square_at(self, x: int, y: int) -> int | None:
        cols, rows, left, top = self._layout()
        col = (x - left - RANK_GUTTER) // cols if x >= left + RANK_GUTTER else -1
        row = (y - top) // rows if y >= top else -1
        if not (0 <= col < 8 and 0 <= row < 8):
            return None
        file, rank = (7 - col, row) if self.flipped else (col, 7 - row)
        return chess.square(file, rank)

    # -- drawing ------------------------------------------------------------------------------

    def _square_style(self, square: int, board: chess.Board, targets: set[int]) -> Style:
        light = (chess.square_file(square) + chess.square_rank(square)) % 2 == 1
        names = ["board--light" if light else "board--dark"]
        last = chess.Move.from_uci(self.last_move) if self.last_move else None
        if last is not None and square in (last.from_square, last.to_square):
            names.append("board--last")
        if board.is_check() and square == board.king(board.turn):
            names.append("board--check")
        if square in targets:
            names.append("board--target")
        if self.interactive and square == self.selected:
            names.append("board--selected")
        if self.interactive and self.has_focus and square == self.cursor:
            names.append("board--cursor")
        style = Style()
        for name in names:
            style += self.get_component_rich_style(name, partial=True)
        return style

    def _targets(self, board: chess.Board) -> set[int]:
        if not self.interactive or self.selected is None:
            return set()
        return {m.to_square for m in board.legal_moves if m.from_square == self.selected}

    def render(self) -> RenderResult:
        board = chess.Board(self.fen)
        cols, rows, left, top = self._layout()
        coord = self.get_component_rich_style("board--coord", partial=True)
        white = self.get_component_rich_style("board--white-piece", partial=True)
        black = self.get_component_rich_style("board--black-piece", partial=True)
        targets = self._targets(board)
        files = range(7, -1, -1) if self.flipped else range(8)
        ranks = range(8) if self.flipped else range(7, -1, -1)
        text = Text(no_wrap=True, overflow="crop")
        text.append("\n" * top)
        for rank in ranks:
            for sub in range(rows):
                text.append(" " * left)
                label = str(rank + 1) if sub == rows // 2 else " "
                text.append(f"{label} ", coord)
                for file in files:
                    square = chess.square(file, rank)
                    style = self._square_style(square, board, targets)
                    cell = " " * cols
                    if sub == rows // 2:
                        piece = board.piece_at(square)
                        mid = cols // 2
                        if piece is not None:
                            hollow = self.hollow_white and piece.color == chess.WHITE
                            glyph = (HOLLOW_GLYPHS if hollow else GLYPHS)[piece.piece_type]
                            text.append(" " * mid, style)
                            text.append(glyph, style + (white if piece.color else black))
                            text.append(" " * (cols - mid - 1), style)
                            continue
                        if square in targets:
                            cell = " " * mid + "·" + " " * (cols - mid - 1)
                    text.append(cell, style)
                text.append("\n")
        text.append(" " * (left + RANK_GUTTER))
        for file in files:
            mid = cols // 2
            text.append(" " * mid + chess.FILE_NAMES[file] + " " * (cols - mid - 1), coord)
        return text

    def watch_flipped(self) -> None:
        self.refresh(layout=True)

    def watch_interactive(self, interactive: bool) -> None:
        if not interactive:
            self.selected = None
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Off turn the arrows and enter belong to the screen (e.g. stepping through a replay).
        if action in ("cursor", "pick", "unselect"):
            return self.interactive
        return True

    # -- picking ------------------------------------------------------------------------------

    def action_cursor(self, dx: int, dy: int) -> None:
        if self.flipped:
            dx, dy = -dx, -dy
        file = min(7, max(0, chess.square_file(self.cursor) + dx))
        rank = min(7, max(0, chess.square_rank(self.cursor) + dy))
        self.cursor = chess.square(file, rank)

    def action_pick(self) -> None:
        self._pick(self.cursor)

    def action_unselect(self) -> None:
        self.selected = None

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        square = self._square_at(offset.x, offset.y)
        if square is not None:
            self.cursor = square
            self._pick(square)

    def _pick(self, square: int) -> None:
        if not self.interactive:
            return
        board = chess.Board(self.fen)
        piece = board.piece_at(square)
        if piece is not None and piece.color == board.turn:
            self.selected = None if self.selected == square else square
            return
        if self.selected is None:
            return
        moves = [
            m for m in board.legal_moves if m.from_square == self.selected and m.to_square == square
        ]
        if not moves:
            self.selected = None
            return
        move = next((m for m in moves if m.promotion in (None, chess.QUEEN)), moves[0])
        self.selected = None
        self.post_message(self.MoveSelected(self, move.uci()))
