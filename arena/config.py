"""Arena's environment variables, each declared and read here and nowhere else.

Each is read when asked for (a function, not a constant), so a test or a long-lived process sees
the environment as it is now. Provider keys (`ANTHROPIC_API_KEY`, `OPENAI_API_KEY`, a profile's
`api_key_env`) stay with the providers, which name them in their errors.

Only `os` and `pathlib` here: every layer may import this module.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

DB: Final = "ARENA_DB"
"""The SQLite database of matches; `--db` wins over it, and it over `default_db()`."""

STOCKFISH: Final = "ARENA_STOCKFISH"
"""The Stockfish binary, tried before `engines/`, `PATH` and `/usr/games/stockfish`."""

PROFILES: Final = "ARENA_PROFILES"
"""A folder of your own player profiles (`NAME.toml`), instead of `user_profiles_default()`."""

DEBUG: Final = "ARENA_DEBUG"
"""Any value but empty or `0`: errors and warnings on stderr keep their tracebacks."""

THEME: Final = "ARENA_THEME"
"""The TUI's theme at start: `dark` (default), `light` or `mono`."""

TUI_STATIC: Final = "ARENA_TUI_STATIC"
"""Any value but empty or `0`: the TUI stops clocks, spinners and blinking (stable screenshots)."""

EVENT_LOOP: Final = "ARENA_EVENT_LOOP"
"""`asyncio` runs headless commands on the standard event loop instead of uvloop."""

MAX_TIME_SCALE: Final = 100.0
"""The largest factor recorded latencies may be scaled by (`--time-scale`); here, not with the
traces, so that the CLI's argument table does not import python-chess."""

VARIABLES: Final[dict[str, str]] = {
    DB: "the match database (default ~/.local/share/arena/arena.db, see XDG_DATA_HOME)",
    STOCKFISH: "path to the Stockfish binary",
    PROFILES: "folder of your own player profiles (NAME.toml)",
    DEBUG: "1 keeps tracebacks in diagnostics",
    THEME: "dark, light or mono",
    TUI_STATIC: "1 stops clocks and spinners in the TUI",
    EVENT_LOOP: "asyncio: headless commands on the standard loop, not uvloop",
}
"""Every variable with a one-line description, for `arena --help`."""


def _get_environ(name: str) -> str | None:
    """The variable's value with surrounding blanks removed; None when unset or blank."""
    value = os.environ.get(name, "").strip()
    return value or None


def _get_environ_bool(name: str) -> bool:
    return _get_environ(name) not in (None, "0")


def _xdg_home(variable: str, fallback: str) -> Path:
    """An XDG base directory: the variable when it holds an absolute path, else `~/fallback`."""
    value = _get_environ(variable)
    if value and Path(value).is_absolute():
        return Path(value)
    return Path.home() / fallback


def db_override() -> Path | None:
    """`ARENA_DB`, when set."""
    value = _get_environ(DB)
    return Path(value).expanduser() if value else None


def default_db() -> Path:
    """The per-user database: `$XDG_DATA_HOME/arena/arena.db`, else
    `~/.local/share/arena/arena.db`."""
    return _xdg_home("XDG_DATA_HOME", ".local/share") / "arena" / "arena.db"


def stockfish() -> str | None:
    """`ARENA_STOCKFISH`, when set."""
    return _get_environ(STOCKFISH)


def user_profiles_default() -> Path:
    """Where your own profiles live unless `ARENA_PROFILES` says otherwise:
    `$XDG_CONFIG_HOME/arena/profiles`, else `~/.config/arena/profiles`."""
    return _xdg_home("XDG_CONFIG_HOME", ".config") / "arena" / "profiles"


def user_profiles() -> Path:
    """The folder of your own profiles: `ARENA_PROFILES`, else `user_profiles_default()`. Its
    profiles add to the shipped ones and replace a shipped profile of the same name."""
    value = _get_environ(PROFILES)
    return Path(value).expanduser() if value else user_profiles_default()


def debug() -> bool:
    """`ARENA_DEBUG` is on."""
    return _get_environ_bool(DEBUG)


def theme() -> str:
    """`ARENA_THEME`, lower-cased; empty when unset."""
    return (_get_environ(THEME) or "").lower()


def tui_static() -> bool:
    """`ARENA_TUI_STATIC` is on."""
    return _get_environ_bool(TUI_STATIC)


def event_loop() -> str:
    """`ARENA_EVENT_LOOP`, lower-cased; empty when unset."""
    return (_get_environ(EVENT_LOOP) or "").lower()
