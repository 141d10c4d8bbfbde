"""PGN and JSON exports of a stored match."""

from __future__ import annotations

import dataclasses
from typing import Any

import chess
import chess.pgn

from arena.core.errors import ArenaError
from arena.store.db import MatchRow, Store

EXPORT_VERSION = 1


async def _match(store: Store, match_id: str) -> MatchRow:
    match = await store.get_match(match_id)
    if match is None:
        raise ArenaError(f"no match {match_id!r} in {store.path}; `arena replays` lists them")
    return match


def _pgn_date(created_at: str) -> str:
    date = created_at[:10]
    if len(date) == 10 and date[4] == "-" and date[7] == "-":
        return date.replace("-", ".")
    return "????.??.??"


async def export_pgn(store: Store, match_id: str) -> str:
    """The match as PGN: Seven Tag Roster, arena tags and an `[%emt]` comment per move."""
    match = await _match(store, match_id)
    plies = await store.get_plies(match_id)
    try:
        board = chess.Board(match.start_fen)
    except ValueError as exc:
        raise ArenaError(f"match {match_id} has a bad start FEN: {exc}") from None

    game = chess.pgn.Game()
    headers = game.headers
    headers["Event"] = "Arena match"
    headers["Site"] = "arena"
    headers["Date"] = _pgn_date(match.created_at)
    headers["Round"] = "-"
    headers["White"] = match.white_spec
    headers["Black"] = match.black_spec
    finished = match.status != "running" and match.result is not None
    headers["Result"] = match.result if finished and match.result else "*"
    # SetUp/FEN only when the game does not start from the standard position.
    game.setup(board)
    if match.termination:
        headers["Termination"] = match.termination
    if match.white_speculator:
        headers["WhiteSpeculator"] = match.white_speculator
    if match.black_speculator:
        headers["BlackSpeculator"] = match.black_speculator
    headers["PlyCount"] = str(len(plies))

    node: chess.pgn.GameNode = game
    for ply in plies:
        move = chess.Move.from_uci(ply.uci)
        if not board.is_legal(move):
            raise ArenaError(
                f"match {match_id} has an illegal stored move {ply.uci} at ply {ply.ply}"
            )
        board.push(move)
        node = node.add_variation(move)
        node.set_emt(ply.decision_s)
    return str(game) + "\n"


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


async def export_json(store: Store, match_id: str) -> dict[str, Any]:
    """The match as a JSON-ready dict: metadata, stats, plies (guesses, attempts), branches."""
    match = await _match(store, match_id)
    predictions: dict[int, list[dict[str, Any]]] = {}
    for p in await store.get_predictions(match_id):
        predictions.setdefault(p.ply, []).append(
            {
                "side": p.side,
                "rank": p.rank,
                "move": p.move,
                "probability": p.probability,
                "outcome": p.outcome,
            }
        )
    attempts: dict[int, list[dict[str, Any]]] = {}
    for a in await store.get_attempts(match_id):
        attempts.setdefault(a.ply, []).append(
            {"n": a.n, "raw": a.raw, "parsed": a.parsed, "error": a.error}
        )
    plies: list[dict[str, Any]] = []
    for row in await store.get_plies(match_id):
        ply = _jsonable(row)
        del ply["match_id"]
        ply["predictions"] = predictions.get(row.ply, [])
        ply["attempts"] = attempts.get(row.ply, [])
        plies.append(ply)
    branches = []
    for b in await store.get_branches(match_id):
        branch = _jsonable(b)
        del branch["match_id"]
        branches.append(branch)
    meta = _jsonable(match)
    stats = meta.pop("stats")
    return {
        "format": "arena-match",
        "version": EXPORT_VERSION,
        "match": meta,
        "stats": stats,
        "moves": [p["uci"] for p in plies],
        "plies": plies,
        "branches": branches,
    }
