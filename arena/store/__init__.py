"""The replay store: SQLite (aiosqlite) persistence of matches, and PGN / JSON export."""

from arena.store.db import (
    SCHEMA_VERSION,
    AttemptRow,
    BranchRow,
    EventRow,
    MatchRow,
    PlyRow,
    PredictionRow,
    Store,
    new_match_id,
)
from arena.store.export import export_json, export_pgn
from arena.store.recorder import MatchRecorder

__all__ = [
    "SCHEMA_VERSION",
    "AttemptRow",
    "BranchRow",
    "EventRow",
    "MatchRecorder",
    "MatchRow",
    "PlyRow",
    "PredictionRow",
    "Store",
    "export_json",
    "export_pgn",
    "new_match_id",
]
