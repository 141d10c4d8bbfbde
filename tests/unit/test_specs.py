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
