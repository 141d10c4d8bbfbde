"""Player and speculator specs, profiles and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.core.errors import ArenaError
from arena.players.random import RandomPlayer
from arena.players.stockfish import EnginePlayer
from arena.specs import build_actor, build_speculator, parse_spec
from arena.speculators.blend import BlendSpeculator
from arena.speculators.simple import RandomSpeculator
from arena.speculators.stockfish import EngineSpeculator


def test_engine_spec_options() -> None:
    actor = build_actor("stockfish:depth=6,skill=5,nodes=1000,movetime=250,hash=32")
    assert isinstance(actor, EnginePlayer)
    opts = actor.options
    assert (opts.depth, opts.skill, opts.nodes, opts.movetime, opts.hash_mb) == (
        6,
        5,
        1000,
        0.25,
        32,
    )
    assert opts.uci_options()["Skill Level"] == 5
    assert not opts.keep_hash
    assert build_actor("stockfish:keep_hash=1").options.keep_hash  # type: ignore[attr-defined]


def test_profiles_resolve_and_take_overrides() -> None:
    actor = build_actor("stockfish-casual,depth=3")
    assert isinstance(actor, EnginePlayer)
    assert actor.options.skill == 8 and actor.options.depth == 3
    assert actor.spec == "stockfish-casual,depth=3"


def test_openai_url_spec_parses() -> None:
    spec = parse_spec("openai:qwen@http://127.0.0.1:8080/v1,temperature=0")
    assert spec.kind == "openai"
    assert spec.arg == "qwen@http://127.0.0.1:8080/v1"
    assert spec.options == {"temperature": "0"}


def test_random_and_speculators() -> None:
    assert isinstance(build_actor("random:seed=4"), RandomPlayer)
    assert isinstance(build_speculator("stockfish:depth=4"), EngineSpeculator)
    assert isinstance(build_speculator("random"), RandomSpeculator)
    assert isinstance(build_speculator("adaptive"), BlendSpeculator)
    assert build_speculator("none") is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("chatgpt", "unknown spec"),
        ("stockfish:depth=deep", "must be an integer"),
        ("stockfish:colour=red", "unknown option 'colour'"),
        ("uci", "uci needs a path"),
        ("trace", "trace needs a file"),
        ("trace:/nonexistent.jsonl", "cannot read trace"),
        ("", "empty player spec"),
        ("stockfish:depth=99999999999999999999", "depth must be 1..100, not 1e\\+20"),
        ("stockfish:depth=0", "depth must be 1..100, not 0"),
        ("stockfish:depth=101", "depth must be 1..100"),
        ("stockfish:nodes=0", "nodes must be 1..10000000000, not 0"),
        ("stockfish:nodes=10000000001", "nodes must be 1..10000000000"),
        ("stockfish:movetime=0", "movetime must be 1..3600000 ms, not 0"),
        ("stockfish:movetime=-5", "movetime must be 1..3600000 ms, not -5"),
        ("stockfish:movetime=3600001", "movetime must be 1..3600000 ms"),
        ("stockfish:threads=0", "threads must be 1.."),
        ("stockfish:threads=999", "threads must be 1..[0-9]+ \\(twice this machine's cores\\)"),
        ("stockfish:hash=0", "hash must be 1..[0-9]+ MB"),
        ("stockfish:hash=100000000", "hash must be 1..[0-9]+ MB \\(half this machine's memory"),
        ("stockfish:skill=21", "skill must be 0..20"),
        ("stockfish:skill=-1", "skill must be 0..20"),
        ("stockfish:elo=100", "elo must be 1320..3190"),
        ("stockfish:elo=9999", "elo must be 1320..3190"),
        ("stockfish:init_timeout=0", "init_timeout must be more than 0"),
        ("stockfish:move_timeout=inf", "move_timeout must be more than 0 and at most 86400 s"),
        ("stockfish:move_timeout=nan", "move_timeout must be more than 0"),
        ("stockfish:move_timeout=soon", "move_timeout must be a number"),
        ("uci:/bin/engine,depth=0", "uci:/bin/engine,depth=0: depth must be"),
        ("random:xyz", "the seed must be an integer"),
        ("random:seed=-1", "the seed must be 0..2\\^63-1"),
        ("random:seed=100000000000000000000000", "the seed must be 0..2\\^63-1"),
        ("random:colour=red", "unknown option 'colour'; random takes seed=N"),
    ],
)
def test_bad_specs_are_one_line_errors(spec: str, message: str) -> None:
    with pytest.raises(ArenaError, match=message) as info:
        build_actor(spec)
    assert "\n" not in str(info.value)


def test_broken_profile_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bad.toml").write_text("kind = [unclosed")
    monkeypatch.setenv("ARENA_PROFILES", str(tmp_path))
    with pytest.raises(ArenaError, match="broken profile"):
        build_actor("bad")


def test_plan_from_the_home_form() -> None:
    from arena.session import plan_from_form

    plan = plan_from_form(
        {"white": "random", "black": "stockfish", "white_speculator": "none",
         "black_speculator": "stockfish:depth=4", "k": "2", "max_plies": ""}
    )  # fmt: skip
    assert (plan.white_speculator, plan.black_speculator) == (None, "stockfish:depth=4")
    assert plan.policy.enabled and plan.policy.k == 2 and plan.max_plies is None
    off = plan_from_form({"white": "random", "black": "random", "speculator": "off"})
    assert not off.policy.enabled and off.white_speculator is None
    with pytest.raises(ArenaError, match="max plies must be a whole number"):
        plan_from_form({"white": "random", "black": "random", "max_plies": "ten"})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("stockfish:depth=0", "depth must be 1..100"),
        ("uci:/bin/engine,threads=999", "threads must be"),
        ("random:xyz", "the seed must be an integer"),
        ("adaptive,shallow=0", "shallow depth must be 1..100"),
        ("adaptive,deep=1000", "deep depth must be 1..100"),
    ],
)
def test_bad_speculator_specs_are_one_line_errors(spec: str, message: str) -> None:
    with pytest.raises(ArenaError, match=message) as info:
        build_speculator(spec)
    assert "\n" not in str(info.value)


def test_engine_timeouts_and_seeds_parse() -> None:
    actor = build_actor("stockfish:depth=3,init_timeout=2.5,move_timeout=30")
    assert isinstance(actor, EnginePlayer)
    assert (actor.options.init_timeout, actor.options.deadline_s()) == (2.5, 30.0)
    assert build_actor("random:7").seed == build_actor("random:seed=7").seed == 7  # type: ignore[attr-defined]
