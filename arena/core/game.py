"""The game protocol: immutable states that players decide on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

Side = int
"""0 moves first (White in chess), 1 second."""


@dataclass(frozen=True)
class Outcome:
    """How a game ended."""

    result: str
    """`1-0`, `0-1`, `1/2-1/2` (or `*` when unfinished)."""
    termination: str
    """checkmate, stalemate, threefold repetition, ..., max plies, forfeit: ..., error: ..."""
    winner: Side | None = None


def loss_for(side: Side, termination: str) -> Outcome:
    """The outcome when `side` loses without the board deciding (forfeit, illegal move)."""
    return Outcome("0-1" if side == 0 else "1-0", termination, 1 - side)


class GameState(Protocol):
    """An immutable game state.

    Moves are canonical strings (UCI for chess); `parse_move` accepts the game's other notations.
    """

    @property
    def to_move(self) -> Side: ...

    @property
    def ply(self) -> int:
        """Plies played since the start of the match."""
        ...

    @property
    def path(self) -> tuple[str, ...]:
        """The moves played from the match's start position to reach this state."""
        ...

    def legal_moves(self) -> Sequence[str]: ...

    def is_legal(self, move: str) -> bool: ...

    def apply(self, move: str) -> GameState: ...

    def outcome(self) -> Outcome | None:
        """The outcome if the game is over, else None."""
        ...

    def key(self) -> str:
        """Identifies everything a player's prompt may depend on (position and history)."""
        ...

    def position(self) -> str:
        """The position in the game's standard notation (FEN for chess)."""
        ...

    def text(self) -> str:
        """The state as text for a prompt."""
        ...

    def parse_move(self, text: str) -> str | None:
        """A legal move in canonical form from any supported notation, or None."""
        ...

    def format_move(self, move: str, notation: str = "san") -> str: ...

    def side_name(self, side: Side) -> str: ...
