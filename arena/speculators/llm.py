"""A language model as a speculator: one call names the k likeliest moves of the side to move.

    LLMSpeculator(provider, model, spec)

The model answers JSON, `{"moves": [{"move": "e4", "p": 0.5}, ...]}`, read tolerantly (a JSON
object anywhere in the text, `probability` for `p`, bare strings, percentages). Moves are
checked legal and deduplicated (`clean_guesses`). Probabilities are the model's own; they are
scaled down only when they add up to more than 1. Garbage, and provider failures, give no
guesses (logged), never an exception: a speculator must not break a match.
"""

from __future__ import annotations

import json
import logging
import re
from collections import OrderedDict
from typing import Any

import chess

from arena.core.actor import Guess, Speculator, Usage, clean_guesses
from arena.core.errors import ArenaError
from arena.core.game import GameState
from arena.games.chess import START_FEN, ChessState
from arena.games.openspiel import OpenSpielState
from arena.providers import ChatRequest, Provider

log = logging.getLogger(__name__)

SYSTEM_PROMPT = """\
You predict chess moves. Given a position and the moves that led to it, you name the moves the \
side to move is most likely to play next, each with its probability (0 to 1).
Answer with JSON only, in exactly this form:
{"moves": [{"move": "<SAN>", "p": <probability>}, ...]}
Most likely first; moves in standard algebraic notation (SAN) and legal in the position."""

_CACHE_SIZE = 256


def _history(state: ChessState) -> str:
    board = chess.Board(state.start_fen)
    number, white = board.fullmove_number, board.turn == chess.WHITE
    parts: list[str] = []
    for i, san in enumerate(state.san_history):
        parts.append(f"{number}. {san}" if white else (f"{number}... {san}" if i == 0 else san))
        number += 0 if white else 1
        white = not white
    return " ".join(parts)


def build_guess_prompt(state: ChessState, k: int) -> tuple[str, str]:
    """`(system, user)` asking for the `k` likeliest moves at `state` (pure)."""
    side = "White" if state.to_move == 0 else "Black"
    lines: list[str] = []
    if state.start_fen != START_FEN:
        lines.append(f"The game started from this position: FEN {state.start_fen}")
    lines += [
        f"FEN: {state.position()}",
        f"Side to move: {side}",
        f"Moves so far: {_history(state) or 'none yet.'}",
        "",
        f"Name the {k} moves {side} is most likely to play next, as JSON "
        '{"moves": [{"move": "<SAN>", "p": <probability>}, ...]}.',
    ]
    return SYSTEM_PROMPT, "\n".join(lines)


GAME_SYSTEM_PROMPT = """\
You predict the moves of a board game. Given the game, the board and the legal moves, you name \
the moves the side to move is most likely to play next, each with its probability (0 to 1).
Answer with JSON only, in exactly this form:
{"moves": [{"move": "<move>", "p": <probability>}, ...]}
Most likely first; each move copied exactly from the list of legal moves."""


def build_game_guess_prompt(state: OpenSpielState, k: int) -> tuple[str, str]:
    """`(system, user)` asking for the `k` likeliest moves in an OpenSpiel game (pure)."""
    side = state.side_name(state.to_move)
    lines = [
        f"Game: {state.game.title}",
        state.board(),
        f"Side to move: {side}",
        f"Moves so far: {' '.join(state.path) or 'none yet.'}",
        f"Legal moves: {', '.join(state.legal_moves())}",
        "",
        f"Name the {k} moves {side} is most likely to play next, as JSON "
        '{"moves": [{"move": "<move>", "p": <probability>}, ...]}.',
    ]
    return GAME_SYSTEM_PROMPT, "\n".join(lines)


def _json_values(text: str) -> list[Any]:
    """Every JSON object or array that can be decoded from somewhere in `text`."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    i = 0
    while i < len(text):
        if text[i] in "{[":
            try:
                value, end = decoder.raw_decode(text, i)
            except ValueError:
                i += 1
                continue
            values.append(value)
            i = end
        else:
            i += 1
    return values


def _probability(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(%?)\s*", value)
        if match:
            number = float(match.group(1))
            return number / 100 if match.group(2) else number
    return None


def _entries(value: Any) -> list[tuple[str, float | None]]:
    """(move text, probability or None) pairs from one decoded JSON value."""
    if isinstance(value, dict):
        for key in ("moves", "guesses", "predictions", "candidates"):
            if key in value:
                return _entries(value[key])
        if any(k in value for k in ("move", "san", "uci")):
            move = value.get("move", value.get("san", value.get("uci")))
            p = next(
                (value[k] for k in ("p", "probability", "prob", "likelihood") if k in value), None
            )
            return [(move, _probability(p))] if isinstance(move, str) else []
        # {"e4": 0.5, "d4": 0.3}
        pairs = [(m, _probability(p)) for m, p in value.items() if isinstance(m, str)]
        return pairs if pairs and all(p is not None for _, p in pairs) else []
    if isinstance(value, list):
        out: list[tuple[str, float | None]] = []
        for item in value:
            if isinstance(item, str):
                out.append((item, None))
            elif isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[0], str):
                out.append((item[0], _probability(item[1])))
            elif isinstance(item, dict):
                out += _entries(item)
        return out
    return []


def parse_guesses(state: GameState, text: str, k: int) -> list[Guess]:
    """Legal, distinct guesses from a model's answer (best first, at most `k`); [] for garbage."""
    entries: list[tuple[str, float | None]] = []
    for value in reversed(_json_values(text)):  # the last JSON is the answer, not an example
        entries = _entries(value)
        if entries:
            break
    parsed: list[tuple[str, float | None]] = []
    for move_text, p in entries:
        move = state.parse_move(move_text)
        if move is not None:
            parsed.append((move, p))
    if not parsed:
        return []
    n = len(parsed)
    # Missing probabilities: decreasing by rank, so the stated order is kept.
    probs = [p if p is not None else (n - i) / (n * (n + 1) / 2) for i, (_, p) in enumerate(parsed)]
    probs = [max(0.0, p) for p in probs]
    total = sum(probs)
    if total > 1.0 + 1e-9:
        probs = [p / total for p in probs]
    guesses = [Guess(move, p) for (move, _), p in zip(parsed, probs, strict=True)]
    return clean_guesses(state, guesses, k)


class LLMSpeculator(Speculator):
    """Guesses the opponent's next moves with one model call per position."""

    def __init__(self, provider: Provider, model: str | None = None, spec: str = "") -> None:
        self.provider = provider
        self.model = model or provider.model
        self.spec = spec or f"{provider.kind}:{self.model}"
        self.name = self.spec
        self.usage = Usage()
        self.failures = 0
        self._cache: OrderedDict[tuple[str, int], list[Guess]] = OrderedDict()

    async def close(self) -> None:
        await self.provider.aclose()

    async def predict(self, state: GameState, k: int) -> list[Guess]:
        if not isinstance(state, ChessState | OpenSpielState) or k <= 0 or not state.legal_moves():
            return []
        key = (state.key(), k)
        if key in self._cache:
            self._cache.move_to_end(key)
            return list(self._cache[key])
        if isinstance(state, OpenSpielState):
            system, user = build_game_guess_prompt(state, k)
        else:
            system, user = build_guess_prompt(state, k)
        try:
            response = await self.provider.complete(
                ChatRequest(system, [{"role": "user", "content": user}])
            )
        except ArenaError as exc:  # ProviderError: no guesses this time, the match goes on
            self.failures += 1
            log.warning("speculator %s: %s", self.spec, exc)
            return []
        self.usage = self.usage + response.usage
        guesses = parse_guesses(state, response.text, k)
        if not guesses:
            log.info("speculator %s: no usable guesses in %r", self.spec, response.text[:200])
        self._cache[key] = guesses
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return list(guesses)
