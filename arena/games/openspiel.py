"""OpenSpiel's two-player, sequential, deterministic, perfect-information games as `GameState`s.

OpenSpiel (`pyspiel`) owns the rules; this module wraps its mutable states in immutable ones.

**Moves** are OpenSpiel's action strings for the player to move (`x3` in Connect Four, `x(1,1)`
in tic-tac-toe, `e6` in Othello, `a3b4` in checkers, `B d4` in Go). Where two legal actions of a
state share a string, every move of that state is named `#<action id>` instead, so a move string
always names one action. `parse_move` also takes the string without the mover's mark (`3`, `d4`,
`1,1`), any case and spacing, and `#N` (or a bare `N`) for action id N.

**Keys and positions**: a game is named by its spec (`connect_four`, `go:board_size=9`); a state
is that spec and the action ids from the start, `go:board_size=9|20,30`: `position()` and `key()`
are both that string, and `OpenSpielGame.start(position)` rebuilds the state from it.

**Results** map OpenSpiel's returns: the higher return wins (`1-0` when the first player's),
equal returns draw (`1/2-1/2`).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from arena.core.errors import ArenaError
from arena.core.game import Outcome, Side


@dataclass(frozen=True, kw_only=True)
class GameInfo:
    """What the arena says about one OpenSpiel game beyond its rules."""

    title: str
    sides: tuple[str, str] = ("first", "second")
    """Names of the first and second player."""
    rules: str = ""
    """The rules in brief, for prompts and `arena games`."""
    win: str = "win"
    """The termination of a decided game."""


GAMES: Mapping[str, GameInfo] = {
    "connect_four": GameInfo(
        title="Connect Four",
        sides=("x", "o"),
        rules=(
            "Players take turns dropping a disc into one of the 7 columns; it falls to the lowest "
            "empty cell. The first to line up four of their discs in a row, column or diagonal "
            "wins; a full board is a draw. The board is printed top row first; `x` moves first."
        ),
        win="four in a row",
    ),
    "tic_tac_toe": GameInfo(
        title="Tic-tac-toe",
        sides=("x", "o"),
        rules=(
            "Players take turns marking an empty cell of the 3x3 grid; cells are (row,column) "
            "counted from 0 at the top left. Three marks in a row, column or diagonal win; a full "
            "grid is a draw. `x` moves first."
        ),
        win="three in a row",
    ),
    "othello": GameInfo(
        title="Othello",
        sides=("black", "white"),
        rules=(
            "Black (x) and White (o) place discs on the 8x8 board. A disc must outflank: it must "
            "close a straight line of the opponent's discs between itself and one of your discs, "
            "and every outflanked disc flips to your colour. A player with no such move passes. "
            "When neither can move, the player with more discs wins. Black moves first."
        ),
        win="more discs",
    ),
    "checkers": GameInfo(
        title="Checkers",
        sides=("black", "white"),
        rules=(
            "English draughts on 8x8: men move one square diagonally forward, kings forward and "
            "backward; a capture jumps an adjacent enemy piece onto the empty square beyond, and "
            "captures are compulsory (multi-jumps continue). A man reaching the far row becomes a "
            "king. A player without a legal move loses. Black (o, 8 for kings) moves first from "
            "rows 1-3; White is + (* for kings)."
        ),
        win="no moves left",
    ),
    "breakthrough": GameInfo(
        title="Breakthrough",
        sides=("black", "white"),
        rules=(
            "Each side has two rows of pieces on 8x8. A piece moves one square straight or "
            "diagonally forward, and captures only diagonally forward. The first to reach the "
            "opponent's home row, or to capture all enemy pieces, wins. Black (b) starts on rows "
            "7-8 and moves first, towards row 1; White (w) moves towards row 8."
        ),
        win="breakthrough",
    ),
    "go": GameInfo(
        title="Go",
        sides=("black", "white"),
        rules=(
            "Players place stones on the intersections (Black X, White O); a group without "
            "liberties is captured; a move may not repeat the previous position (ko) or be "
            "suicide. Passing twice ends the game; area scoring with komi for White decides. "
            "Black moves first. `PASS` passes."
        ),
        win="score",
    ),
    "hex": GameInfo(
        title="Hex",
        sides=("x", "o"),
        rules=(
            "Players take turns placing a stone on an empty hexagon of the rhombus. `x` wins by "
            "connecting the top and bottom edges, `o` the left and right edges; there are no "
            "draws. `x` moves first."
        ),
        win="connection",
    ),
}
"""The games the arena lists and draws; any other supported OpenSpiel game plays too."""

DEFAULT_SPECULATOR = "mcts"
"""The speculator of every OpenSpiel game unless one is given."""


def _pyspiel() -> Any:
    try:
        import pyspiel
    except ImportError:  # pragma: no cover - a dependency
        raise ArenaError("OpenSpiel is not installed: pip install open-spiel") from None
    return pyspiel


def _game_types() -> dict[str, Any]:
    return {t.short_name: t for t in _pyspiel().registered_games()}


def unsupported_reason(game_type: Any, num_players: int | None = None) -> str | None:
    """Why an OpenSpiel game type cannot be played here, or None when it can."""
    gt = _pyspiel().GameType
    if game_type.dynamics != gt.Dynamics.SEQUENTIAL:
        return "its moves are simultaneous"
    if game_type.chance_mode != gt.ChanceMode.DETERMINISTIC:
        return "it has chance events (dice, shuffled cards)"
    if game_type.information != gt.Information.PERFECT_INFORMATION:
        return "it has hidden information"
    players = num_players if num_players is not None else game_type.min_num_players
    if players != 2 and not game_type.min_num_players <= 2 <= game_type.max_num_players:
        return f"it is for {players} players, not two"
    if "game" in game_type.parameter_specification:
        return "it wraps another game"
    return None


def playable_games() -> list[str]:
    """The short names of every OpenSpiel game the arena can play with its default parameters
    (the listed ones first)."""
    others = []
    for name, gt in sorted(_game_types().items()):
        if name in GAMES or name == "chess" or unsupported_reason(gt) is not None:
            continue
        try:
            with _quiet_stderr():
                players = _pyspiel().load_game(name).num_players()
        except Exception:  # e.g. a game that reads its rules from a file
            continue
        if players == 2:
            others.append(name)
    return [*GAMES, *others]


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """OpenSpiel prints its exceptions on file descriptor 2 before raising them: hide that, the
    exception says it all."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


_SPEC = re.compile(r"^([a-z0-9_]+)(?:\((.*)\))?$")


def _parse_value(name: str, key: str, text: str, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            if text.lower() not in ("1", "0", "true", "false"):
                raise ValueError(text)
            return text.lower() in ("1", "true")
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError:
        kind = type(default).__name__
        raise ArenaError(f"game {name}: {key} must be {kind}, not {text!r}") from None
    return text


class OpenSpielGame:
    """One OpenSpiel game with fixed parameters: the factory of its states."""

    is_chess = False

    def __init__(self, name: str, params: Mapping[str, str] | None = None) -> None:
        types = _game_types()
        if name not in types:
            raise ArenaError(f"unknown game {name!r}: see `arena games`")
        game_type = types[name]
        spec_params = dict(game_type.parameter_specification)
        values: dict[str, Any] = {}
        for key, text in (params or {}).items():
            if key not in spec_params:
                known = ", ".join(sorted(spec_params)) or "none"
                raise ArenaError(f"game {name}: unknown parameter {key!r} (parameters: {known})")
            values[key] = _parse_value(name, key, str(text), spec_params[key])
        reason = unsupported_reason(game_type)
        if reason is not None:
            raise ArenaError(f"game {name} is not playable here: {reason}")
        pyspiel = _pyspiel()
        try:
            with _quiet_stderr():
                game = pyspiel.load_game(name, values)
        except pyspiel.SpielError as exc:  # pragma: no cover - parameters are checked above
            raise ArenaError(f"game {name}: {str(exc).splitlines()[0]}") from None
        if game.num_players() != 2:
            raise ArenaError(
                f"game {name} is not playable here: it has {game.num_players()} players"
            )
        self.name = name
        self.params = {k: str(v) for k, v in (params or {}).items()}
        self.spec = name + (
            ":" + ",".join(f"{k}={v}" for k, v in self.params.items()) if params else ""
        )
        """How the game is named on the command line and in the store: `go:board_size=9`."""
        self.game_string = str(game)
        """OpenSpiel's own name with parameters, `go(board_size=9)`."""
        self.pyspiel_game: Any = game
        self.info = GAMES.get(name) or GameInfo(title=game_type.long_name)
        self.default_speculator = DEFAULT_SPECULATOR

    @property
    def title(self) -> str:
        extra = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.info.title} ({extra})" if extra else self.info.title

    def start(self, position: str | None = None) -> OpenSpielState:
        """The start state, or the state `position` (from `OpenSpielState.position()`) names."""
        state = OpenSpielState(self, self.pyspiel_game.new_initial_state(), ())
        if position is None or not position.strip():
            return state
        spec, sep, actions = position.strip().partition("|")
        if not sep or spec != self.spec:
            raise ArenaError(f"bad position {position!r} for {self.spec}: expected {self.spec}|ids")
        for part in filter(None, actions.split(",")):
            move = state.parse_move(f"#{part.strip()}")
            if move is None:
                raise ArenaError(f"bad position {position!r}: action {part} is illegal there")
            state = state.apply(move)
        return state

    def __repr__(self) -> str:
        return f"OpenSpielGame({self.spec!r})"


_MARK = re.compile(r"^(?:[xo](?=[\d(])|[A-Za-z]\s+)")


class OpenSpielState:
    """An immutable state of an OpenSpiel game: the game, a private pyspiel state, the path."""

    __slots__ = ("__dict__", "_actions", "_path", "_state", "game")

    def __init__(
        self,
        game: OpenSpielGame,
        state: Any,
        path: tuple[tuple[int, str], ...],
    ) -> None:
        self.game = game
        self._state = state
        self._path = path
        self._actions = tuple(a for a, _ in path)

    @property
    def pyspiel_state(self) -> Any:
        """A copy of OpenSpiel's state (this one never changes)."""
        return self._state.clone()

    @property
    def actions(self) -> tuple[int, ...]:
        """The action ids from the start."""
        return self._actions

    @property
    def to_move(self) -> Side:
        player = self._state.current_player()
        return player if player in (0, 1) else len(self._path) % 2

    @property
    def ply(self) -> int:
        return len(self._path)

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(m for _, m in self._path)

    @cached_property
    def _legal(self) -> dict[str, int]:
        """Move string -> action id, in OpenSpiel's action order."""
        if self._state.is_terminal():
            return {}
        player = self._state.current_player()
        actions = list(self._state.legal_actions())
        names = [self._state.action_to_string(player, a) for a in actions]
        if len(set(names)) != len(names):
            names = [f"#{a}" for a in actions]
        return dict(zip(names, actions, strict=True))

    @cached_property
    def _aliases(self) -> dict[str, str]:
        """Normalised spellings -> move, kept only where they name one move."""
        seen: dict[str, set[str]] = {}
        for move in self._legal:
            base = move.lower().rstrip("*")  # breakthrough marks a capture with *
            bare = _MARK.sub("", base)
            for alias in {base, bare, bare.strip("()"), bare.strip("()").replace(",", " ")}:
                seen.setdefault(re.sub(r"\s+", "", alias), set()).add(move)
        return {alias: next(iter(moves)) for alias, moves in seen.items() if len(moves) == 1}

    def legal_moves(self) -> Sequence[str]:
        return tuple(self._legal)

    def is_legal(self, move: str) -> bool:
        return move in self._legal

    def action_of(self, move: str) -> int:
        """The OpenSpiel action id of a legal move."""
        return self._legal[move]

    def move_of(self, action: int) -> str | None:
        """The move string of a legal action id, or None."""
        for move, a in self._legal.items():
            if a == action:
                return move
        return None

    def apply(self, move: str) -> OpenSpielState:
        action = self._legal.get(move)
        if action is None:
            raise ArenaError(f"illegal move {move!r} in {self.game.spec} at ply {self.ply}")
        child = self._state.clone()
        child.apply_action(action)
        return OpenSpielState(self.game, child, (*self._path, (action, move)))

    @cached_property
    def _outcome(self) -> Outcome | None:
        if not self._state.is_terminal():
            return None
        returns = list(self._state.returns())
        if returns[0] == returns[1]:
            return Outcome("1/2-1/2", "draw")
        winner: Side = 0 if returns[0] > returns[1] else 1
        return Outcome("1-0" if winner == 0 else "0-1", self.game.info.win, winner)

    def outcome(self) -> Outcome | None:
        return self._outcome

    def key(self) -> str:
        return self.position()

    def position(self) -> str:
        return f"{self.game.spec}|{','.join(str(a) for a in self._actions)}"

    def board(self) -> str:
        """OpenSpiel's text of the board."""
        return str(self._state).rstrip()

    def text(self) -> str:
        return f"{self.board()}\n{self.side_name(self.to_move)} to move"

    def parse_move(self, text: str) -> str | None:
        if text.strip() in self._legal:
            return text.strip()
        token = text.strip().strip(".,;:`'\"[]{}*")
        if not token:
            return None
        move = self._aliases.get(re.sub(r"\s+", "", token.lower()))
        if move is not None:
            return move
        number = token[1:] if token.startswith("#") else token
        if number.isdigit():
            return self.move_of(int(number))
        return None

    def format_move(self, move: str, notation: str = "san") -> str:
        if notation == "id":
            return str(self._legal[move])
        return move

    def side_name(self, side: Side) -> str:
        return self.game.info.sides[side]

    def last_move(self) -> str | None:
        return self._path[-1][1] if self._path else None

    def __repr__(self) -> str:
        return f"OpenSpielState({self.position()!r})"
