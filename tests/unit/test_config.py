"""Environment variables (`arena.config`) and the files shipped in the package (`arena.data`)."""

from __future__ import annotations

import re
import tomllib
from importlib.resources import files
from pathlib import Path

import pytest

from arena import config, data
from arena.core.errors import ArenaError
from arena.games.traces import load_trace
from arena.players.trace import TracePlayer
from arena.session import default_db_path
from arena.specs import build_actor, list_profiles, stored_spec, trace_file

SHIPPED_TRACES = ["gpt5-4c277d18", "gpt5-cd188ca0"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch home with no ARENA_* or XDG_* variables set."""
    for name in (*config.VARIABLES, "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path / "home"


# -- the database -------------------------------------------------------------------------------


def test_default_db_is_per_user(home: Path) -> None:
    assert default_db_path() == home / ".local" / "share" / "arena" / "arena.db"


def test_xdg_data_home_moves_the_default_db(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", "/srv/data")
    assert default_db_path() == Path("/srv/data/arena/arena.db")
    monkeypatch.setenv("XDG_DATA_HOME", "relative/data")  # the XDG spec: ignore relative paths
    assert default_db_path() == home / ".local" / "share" / "arena" / "arena.db"


def test_arena_db_beats_the_default_and_db_beats_both(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", "/srv/data")
    monkeypatch.setenv("ARENA_DB", "replays/arena.db")
    assert default_db_path() == Path("replays/arena.db")
    assert default_db_path("other.db") == Path("other.db")
    monkeypatch.setenv("ARENA_DB", "  ")  # blank counts as unset
    assert default_db_path() == Path("/srv/data/arena/arena.db")


# -- the other variables ------------------------------------------------------------------------


def test_switches_and_values_read_at_call_time(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert (config.debug(), config.tui_static(), config.theme(), config.stockfish()) == (
        False,
        False,
        "",
        None,
    )
    monkeypatch.setenv("ARENA_DEBUG", "1")
    monkeypatch.setenv("ARENA_TUI_STATIC", "0")
    monkeypatch.setenv("ARENA_THEME", " Light ")
    monkeypatch.setenv("ARENA_STOCKFISH", "/opt/sf")
    assert (config.debug(), config.tui_static(), config.theme(), config.stockfish()) == (
        True,
        False,
        "light",
        "/opt/sf",
    )


def test_every_variable_is_documented() -> None:
    assert set(config.VARIABLES) == {
        config.DB,
        config.STOCKFISH,
        config.PROFILES,
        config.DEBUG,
        config.THEME,
        config.TUI_STATIC,
        config.EVENT_LOOP,
    }
    assert all(name.startswith("ARENA_") and text for name, text in config.VARIABLES.items())


def test_variables_are_named_only_in_config() -> None:
    root = Path(__file__).resolve().parents[2] / "arena"
    name = re.compile(r"""["']ARENA_[A-Z_]+["']""")
    elsewhere = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "config.py" and name.search(path.read_text())
    ]
    assert elsewhere == []


# -- profiles -----------------------------------------------------------------------------------


def test_profiles_ship_in_the_package(home: Path) -> None:
    shipped = data.profile_files()
    assert {"stockfish-club", "stockfish-casual", "claude-sonnet", "gpt-5-mini"} <= set(shipped)
    folder = files("arena.data") / "profiles"
    assert (folder / "stockfish-club.toml").is_file()
    assert list_profiles()["stockfish-club"] == tomllib.loads(
        (folder / "stockfish-club.toml").read_text()
    )


def test_user_profiles_add_to_and_replace_shipped_ones(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = home / ".config" / "arena" / "profiles"
    mine.mkdir(parents=True)
    (mine / "stockfish-club.toml").write_text('kind = "stockfish"\n[options]\ndepth = 2\n')
    (mine / "tiny.toml").write_text('kind = "random"\n')
    profiles = list_profiles()
    assert profiles["stockfish-club"]["options"] == {"depth": 2}
    assert profiles["tiny"] == {"kind": "random"} and "stockfish-casual" in profiles

    elsewhere = home / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "other.toml").write_text('kind = "random"\n')
    monkeypatch.setenv("ARENA_PROFILES", str(elsewhere))
    profiles = list_profiles()
    assert "other" in profiles and "tiny" not in profiles
    assert profiles["stockfish-club"]["options"] == {"movetime": 1500}


# -- prices and traces --------------------------------------------------------------------------


def test_prices_ship_in_the_package() -> None:
    from arena.providers.pricing import PRICING_FILE, price_table

    assert data.pricing_path() == PRICING_FILE and PRICING_FILE.is_file()
    assert "gpt-5" in price_table()


def test_traces_ship_in_the_package_with_their_origin() -> None:
    assert data.trace_names() == SHIPPED_TRACES
    folder = files("arena.data") / "traces"
    readme = (folder / "README.md").read_text()
    assert "2510.04371" in readme and "Apache" in readme
    assert "Apache License" in (folder / "LICENSE").read_text()
    for name in SHIPPED_TRACES:
        trace = load_trace(data.trace_path(name) or "")
        assert (trace.game, len(trace.plies)) == (name, 50)


def test_trace_spec_takes_a_shipped_name_or_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    by_name = build_actor("trace:gpt5-4c277d18")
    assert isinstance(by_name, TracePlayer) and by_name.trace.game == "gpt5-4c277d18"
    assert trace_file("gpt5-cd188ca0.jsonl") == data.trace_path("gpt5-cd188ca0")
    copy = tmp_path / "mine.jsonl"
    copy.write_text((data.trace_path("gpt5-cd188ca0") or Path()).read_text())
    by_file = build_actor("trace:mine.jsonl")
    assert isinstance(by_file, TracePlayer) and by_file.trace.game == "gpt5-cd188ca0"
    with pytest.raises(ArenaError, match=r"shipped trace .*gpt5-4c277d18"):
        build_actor("trace:gpt5-nope")
    with pytest.raises(ArenaError, match="cannot read trace"):
        build_actor("trace:missing/x.jsonl")


def test_stored_specs_make_trace_files_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "g.jsonl").write_text("{}\n")
    monkeypatch.chdir(tmp_path)
    assert stored_spec("trace:t/g.jsonl") == f"trace:{tmp_path}/t/g.jsonl"
    assert stored_spec("trace-guesses:t/g.jsonl,x=1") == f"trace-guesses:{tmp_path}/t/g.jsonl,x=1"
    for kept in ("trace:gpt5-4c277d18", "stockfish:depth=3", "trace:/abs/g.jsonl", "random"):
        assert stored_spec(kept) == kept
    assert stored_spec(None) is None
