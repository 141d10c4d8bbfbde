"""The tournament runner on a real store with fast players: a Swiss with byes, stopped and
resumed to the same plan; SPRT skipping a decided pair; limits; engine slots."""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.core.ledger import MatchStats
from arena.core.policy import SpeculationPolicy
from arena.store import Store
from arena.store.tournaments import GameState, get_games, get_tournament, list_tournaments
from arena.tournament.config import Entrant, TournamentConfig
from arena.tournament.openings import load_openings
from arena.tournament.ratings import Sprt
from arena.tournament.results import export_tournament_pgn
from arena.tournament.runner import Progress, Tournament

OFF = SpeculationPolicy(enabled=False)


def config(**changes: object) -> TournamentConfig:
    base: dict[str, object] = {
        "format": "swiss",
        "players": tuple(Entrant(name=f"r{i}", spec=f"random:seed={i}") for i in range(5)),
        "games_per_pair": 1,
        "rounds": 3,
        "max_plies": 6,
        "speculator": None,
        "policy": OFF,
        "seed": 4,
        "concurrency": 3,
    }
    base.update(changes)
    return TournamentConfig(**base)  # type: ignore[arg-type]


async def schedule(store: Store, tournament_id: str) -> list[tuple[int, int, str, str | None]]:
    return [(g.n, g.round, g.white, g.black) for g in await get_games(store, tournament_id)]


async def test_swiss_with_an_odd_field_gives_byes_and_never_repeats(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "a.db") as store:
        tournament = await Tournament.create(store, config())
        report = await tournament.run()
        games = await get_games(store, tournament.id)
    assert report.status == "finished" and report.games_played == 6
    byes = [g for g in games if g.state == GameState.BYE]
    assert len(byes) == 3 and len({g.white for g in byes}) == 3
    meetings = [frozenset((g.white, g.black)) for g in games if g.black is not None]
    assert len(meetings) == len(set(meetings)) == 6
    assert sum(s.byes for s in report.table.standings) == 3
    # Every game stopped at 6 plies: adjudicated draws, said so.
    assert report.as_dict()["rating"]["adjudicated_draws"] == 6
    assert all(s.draws == s.games for s in report.table.standings)


async def test_a_stopped_swiss_resumes_to_the_plan_of_an_uninterrupted_run(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "whole.db") as store:
        whole = await Tournament.create(store, config(max_plies=30))
        await whole.run()
        expected = await schedule(store, whole.id)
        expected_moves = [
            await store.moves(g.match_id) for g in await get_games(store, whole.id) if g.match_id
        ]

    async with await Store.open(tmp_path / "cut.db") as store:
        seen: list[Progress] = []

        def stop_early(p: Progress) -> None:
            seen.append(p)
            cut.stop()

        cut = await Tournament.create(store, config(max_plies=30), progress=stop_early)
        first = await cut.run()
        assert first.status == "stopped" and first.stopped_by == "interrupted"
        assert 1 <= first.games_played < 6
        [row] = await list_tournaments(store)
        assert row.resumable
        again = await Tournament.load(store, cut.id)
        final = await again.run()
        assert final.status == "finished" and final.games_played == 6
        assert await schedule(store, cut.id) == expected
        moves = [
            await store.moves(g.match_id) for g in await get_games(store, cut.id) if g.match_id
        ]
        assert moves == expected_moves


async def test_sprt_skips_the_rest_of_a_decided_pair(tmp_path: Path) -> None:
    cfg = config(
        format="roundrobin",
        players=(Entrant(name="a", spec="random:seed=1"), Entrant(name="b", spec="random:seed=2")),
        games_per_pair=40,
        sprt=Sprt(elo0=0, elo1=150),
        max_plies=None,
    )
    async with await Store.open(tmp_path / "s.db") as store:
        tournament = await Tournament.create(store, cfg)
        games = await get_games(store, tournament.id)
        # 30 games already played, level: H0 (no 150 Elo difference) is accepted.
        for k, g in enumerate(games[:30]):
            assert g.match_id is not None
            await store.create_match(
                g.match_id, "random:seed=1", "random:seed=2", None, None,
                "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1", None, 0, {},
            )  # fmt: skip
            await store.acquire_lease(g.match_id)
            a_scores = ("1-0", "1/2-1/2", "0-1")[k % 3]  # a wins, draws, loses in turn
            flipped = {"1-0": "0-1", "0-1": "1-0", "1/2-1/2": "1/2-1/2"}
            result = a_scores if g.white == "a" else flipped[a_scores]
            await store.finish_match(g.match_id, result, "checkmate", MatchStats())
        assert Sprt(elo0=0, elo1=150).state(10, 10, 10) == "H0"
        report = await tournament.run()
        after = await get_games(store, tournament.id)
        row = await get_tournament(store, tournament.id)
    assert report.games_played == 30
    assert sum(1 for g in after if g.state == GameState.SKIPPED) == 10
    assert row is not None and row.status == "finished"
    [pair] = report.as_dict()["pairs"]
    assert pair["sprt"]["state"] == "H0" and pair["player"] == "a"


async def test_max_wall_and_budget_stop_before_a_game_starts(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "b.db") as store:
        tournament = await Tournament.create(store, config(max_wall_s=0.0))
        report = await tournament.run()
        assert report.stopped_by == "max_wall" and report.games_played == 0
        # Resumed with the limit lifted, it plays everything.
        again = await Tournament.load(store, tournament.id, max_wall_s=1000.0)
        assert (await again.run()).games_played == 6


async def test_engine_games_are_bounded_by_the_cores_and_said_so(tmp_path: Path) -> None:
    cfg = config(
        format="roundrobin",
        players=(
            Entrant(name="sf", spec="stockfish:depth=1"),
            Entrant(name="r1", spec="random:seed=1"),
            Entrant(name="r2", spec="random:seed=2"),
        ),
        games_per_pair=2,
        openings=load_openings(),
        concurrency=64,
        engine_slots=1,
        max_plies=8,
    )
    async with await Store.open(tmp_path / "e.db") as store:
        peak = 0

        def watch(_: Progress) -> None:
            nonlocal peak
            peak = max(peak, sum(live.engine for live in tournament.live.values()))

        tournament = await Tournament.create(store, cfg, progress=watch)
        assert any("CPU-bound" in note for note in tournament.notes)
        report = await tournament.run()
        pgn, left_out = await export_tournament_pgn(store, (await list_tournaments(store))[0])
    assert report.games_played == 6 and left_out == 0
    assert peak <= 1
    assert pgn.count("[Event ") == 6 and "[Opening " in pgn


def test_config_round_trips_through_json() -> None:
    cfg = config(format="gauntlet", sprt=Sprt(elo0=-5, elo1=5), budget_usd=2.5)
    assert TournamentConfig.from_dict(cfg.as_dict()) == cfg
    with pytest.raises(Exception, match="two players"):
        config(players=(Entrant(name="x", spec="random"), Entrant(name="x", spec="random:seed=1")))


def test_the_tournament_package_is_headless() -> None:
    import json
    import subprocess
    import sys

    code = (
        "import sys, json, arena.tournament.runner, arena.tournament.bench, arena.tournament.rate;"
        " print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "textual" not in json.loads(out.stdout)


async def test_an_engine_with_threads_takes_that_many_slots(tmp_path: Path) -> None:
    cfg = config(
        format="gauntlet",
        players=(
            Entrant(name="sf2", spec="stockfish:depth=1,threads=2"),
            Entrant(name="r1", spec="random:seed=1"),
            Entrant(name="sf1", spec="stockfish:depth=1"),
        ),
        games_per_pair=2,
        concurrency=8,
        engine_slots=2,
        max_plies=6,
    )
    async with await Store.open(tmp_path / "t.db") as store:
        peak = 0

        def watch(_: Progress) -> None:
            nonlocal peak
            peak = max(peak, sum(live.engine for live in tournament.live.values()))

        tournament = await Tournament.create(store, cfg, progress=watch)
        assert tournament._engine_weight((await get_games(store, tournament.id))[0]) == 2
        report = await tournament.run()
    assert report.games_played == 4 and peak <= 2
