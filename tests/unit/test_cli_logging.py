"""Diagnostics reach stderr as one line, never a traceback (unless ARENA_DEBUG is set)."""

from __future__ import annotations

import logging

import pytest

from arena import cli


@pytest.fixture(autouse=True)
def _restore_logging() -> object:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield None
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def test_logged_exceptions_are_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ARENA_DEBUG", raising=False)
    cli._setup_logging()
    try:
        raise RuntimeError("engine vanished")
    except RuntimeError:
        logging.getLogger("arena.core.match").exception("match m1 failed")
    err = capsys.readouterr().err
    assert err.strip() == "arena: error: match m1 failed (RuntimeError: engine vanished)"
    assert "Traceback" not in err


def test_debug_keeps_the_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARENA_DEBUG", "1")
    cli._setup_logging()
    try:
        raise RuntimeError("engine vanished")
    except RuntimeError:
        logging.getLogger("arena").exception("failed")
    assert "Traceback" in capsys.readouterr().err
