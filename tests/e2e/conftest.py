from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRACES = ROOT / "arena" / "data" / "traces"
"""The recorded games shipped in the package (`trace:NAME` also finds them by name)."""

AMBIENT_PROVIDER = ("ANTHROPIC_", "OPENAI_")
"""Provider keys and settings of the machine running the tests: never passed on."""

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def arena(tmp_path: Path) -> Run:
    """Runs the `arena` command as a user does, in a scratch directory."""

    def run(*args: str, timeout: float = 300, env: dict[str, str] | None = None) -> Any:
        # Ambient provider settings are dropped first, so the keys a test passes reach the CLI.
        ambient = {k: v for k, v in os.environ.items() if not k.startswith(AMBIENT_PROVIDER)}
        full_env = {**ambient, "ARENA_DB": str(tmp_path / "arena.db"), **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "arena", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=tmp_path,
            env=full_env,
        )

    return run
