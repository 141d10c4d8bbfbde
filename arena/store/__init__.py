"""The replay store: SQLite (aiosqlite) persistence of matches, and PGN / JSON export."""

from arena.store.db import (
    SCHEMA_VERSION,
    AttemptRow,
    BranchRow,
    EventRow,
    Lease,
    LeaseLostError,
    MatchBusyError,
    MatchRow,
    MatchStatus,
    PlyRow,
    PredictionRow,
    Store,
    StoreError,
    new_match_id,
)
from arena.store.export import export_json, export_pgn
from arena.store.recorder import MatchRecorder

__all__ = [
    "SCHEMA_VERSION",
    "AttemptRow",
    "BranchRow",
    "EventRow",
    "Lease",
    "LeaseLostError",
    "MatchBusyError",
    "MatchRecorder",
    "MatchRow",
    "MatchStatus",
    "PlyRow",
    "PredictionRow",
    "Store",
    "StoreError",
    "export_json",
    "export_pgn",
    "new_match_id",
]
