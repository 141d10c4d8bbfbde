"""Imports run downward: the headless modules never load the UI or (for core) I/O libraries."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

FORBIDDEN_IN_CORE = ["textual", "aiosqlite", "anthropic", "openai", "chess.engine"]


def loaded_after_import(module: str) -> set[str]:
    code = f"import sys, json, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out))


def test_core_is_free_of_ui_and_io_libraries() -> None:
    loaded = loaded_after_import("arena.core.match")
    assert not [m for m in FORBIDDEN_IN_CORE if m in loaded]


@pytest.mark.parametrize(
    "module",
    [
        "arena.core.match",
        "arena.store",
        "arena.engines",
        "arena.players.stockfish",
        "arena.speculators.stockfish",
        "arena.players.llm",
        "arena.speculators.llm",
        "arena.providers",
        "arena.specs",
        "arena.session",
        "arena.bench",
        "arena.cli",
    ],
)
def test_headless_modules_do_not_load_textual(module: str) -> None:
    assert "textual" not in loaded_after_import(module)
