"""Game implementations and the registry that names them.

`load_game("chess")` is chess on python-chess; any other name is an OpenSpiel game,
`load_game("connect_four")`, `load_game("go:board_size=9")` (see `arena.games.openspiel`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from arena.core.errors import ArenaError
from arena.core.game import GameState

CHESS = "chess"


class Game(Protocol):
    """A game with fixed parameters: names it and makes its states."""

    @property
    def spec(self) -> str:
        """The name as given on the command line and stored with a match: `go:board_size=9`."""
        ...

    @property
    def title(self) -> str: ...

    @property
    def is_chess(self) -> bool: ...

    @property
    def default_speculator(self) -> str:
        """The speculator used when none is given."""
        ...

    def start(self, position: str | None = None) -> GameState:
        """The start state, or the one `position` (a state's `position()`) names."""
        ...


class ChessGame:
    """Chess on python-chess; positions are FENs."""

    spec = CHESS
    title = "Chess"
    is_chess = True

    @property
    def default_speculator(self) -> str:
        from arena.core.policy import DEFAULT_SPECULATOR

        return DEFAULT_SPECULATOR

    def start(self, position: str | None = None) -> GameState:
        from arena.games.chess import ChessState

        return ChessState.from_fen(position)


def parse_game_spec(text: str) -> tuple[str, dict[str, str]]:
    """`NAME[:key=value,...]` (or OpenSpiel's `NAME(key=value,...)`) -> name and parameters."""
    text = text.strip()
    if text.endswith(")") and "(" in text:
        name, _, rest = text[:-1].partition("(")
    else:
        name, _, rest = text.partition(":")
    params: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            raise ArenaError(f"bad game parameter {part!r} in {text!r}: use key=value")
        params[key.strip()] = value.strip()
    name = name.strip().lower().replace("-", "_")
    if not name:
        raise ArenaError("empty game name: see `arena games`")
    return name, params


def load_game(text: str | None = None) -> Game:
    """The game a spec names (chess when None); an unknown or unplayable one is an `ArenaError`."""
    name, params = parse_game_spec(text or CHESS)
    if name == CHESS:
        if params:
            raise ArenaError("chess takes no parameters (use --fen for a start position)")
        return ChessGame()
    from arena.games.openspiel import OpenSpielGame

    return OpenSpielGame(name, params)


def replay(start: GameState, moves: Sequence[str]) -> GameState:
    """`start` after `moves`; an illegal one is an `ArenaError`."""
    state = start
    for move in moves:
        if not state.is_legal(move):
            raise ArenaError(f"illegal move {move!r} at ply {state.ply}")
        state = state.apply(move)
    return state
