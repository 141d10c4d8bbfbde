"""`arena bench store` runs end to end and reports against the floor it measured."""

from __future__ import annotations

import os
from pathlib import Path

from arena.bench_store import run_store_bench


async def test_bench_store_reports_the_long_game_and_games_in_flight(tmp_path: Path) -> None:
    result = await run_store_bench(
        plies=100, games=(3,), max_plies=6, folder=str(tmp_path), rounds=1
    )
    long = result.long
    assert long is not None and long.plies == 100
    assert long.floor_ms > 0 and long.ours_ms > 0 and long.vs_floor > 0
    assert long.bytes_per_ply > 0 and long.early_bytes > 0 and long.late_bytes > 0
    (flight,) = result.in_flight
    assert flight.games == 3 and flight.plies == 18
    assert flight.commit_p50_ms > 0 and flight.commit_p99_ms >= flight.commit_p50_ms
    table = result.table()
    assert "x floor" in table and "commit p50" in table
    assert result.as_json()["long_game"]["plies"] == 100
    assert os.listdir(tmp_path) == []  # the benchmark's databases are gone
