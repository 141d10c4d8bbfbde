"""PGN and JSON exports of a stored match."""

from __future__ import annotations

import dataclasses
from typing import Any

import chess
import chess.pgn

from arena.core.errors import ArenaError
from arena.store.db import MatchRow, Store

EXPORT_VERSION = 2
"""2: plies are `PlyRecord.as_dict()` (`move`, not `uci`); the match's `status` may be
`interrupted`, with a `resume` command."""


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
        try:
            move = chess.Move.from_uci(ply.move)
        except ValueError:
            move = chess.Move.null()
        if not board.is_legal(move):
            raise ArenaError(
                f"match {match_id} has an illegal stored move {ply.move} at ply {ply.ply}"
            )
        board.push(move)
        node = node.add_variation(move)
        node.set_emt(ply.decision_s)
    return str(game) + "\n"


async def export_json(store: Store, match_id: str) -> dict[str, Any]:
    """The match as a JSON-ready dict (strict JSON): metadata, stats, plies, branches.

    Each ply is `PlyRecord.as_dict()`: its fields, guesses and rejected attempts.
    """
    match = await _match(store, match_id)
    plies = [record.as_dict() for record in await store.get_plies(match_id)]
    branches = []
    for b in await store.get_branches(match_id):
        branch = {f.name: getattr(b, f.name) for f in dataclasses.fields(b)}
        del branch["match_id"]
        branch["path"] = list(b.path)
        branch["status"] = str(b.status)
        branch["usage"] = None if b.usage is None else b.usage.as_dict()
        branches.append(branch)
    meta = match.as_dict()
    stats = meta.pop("stats")
    return {
        "format": "arena-match",
        "version": EXPORT_VERSION,
        "match": meta,
        "stats": stats,
        "moves": [p["move"] for p in plies],
        "plies": plies,
        "branches": branches,
    }
