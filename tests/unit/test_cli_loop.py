"""Which event loop each command runs on."""

from __future__ import annotations

import argparse
import asyncio

import pytest
import uvloop

from arena import cli, config


@pytest.mark.parametrize(
    ("argv", "uv"),
    [
        (["bench", "store"], True),
        (["tournament", "show", "t"], True),
        (["tournament", "watch", "t"], False),  # a TUI
        (["play", "--headless"], True),
        (["play"], False),  # the TUI keeps the standard loop
        (["replays"], False),
    ],
)
def test_headless_commands_run_on_uvloop(
    argv: list[str], uv: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(config.EVENT_LOOP, raising=False)
    args = cli._parser().parse_args(argv)
    factory = cli._loop_factory(args.command, args)
    if not uv:
        assert factory is None
        return
    assert factory is not None
    loop = factory()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()
    monkeypatch.setenv(config.EVENT_LOOP, "asyncio")
    assert cli._loop_factory(args.command, args) is None


def test_a_headless_match_plays_on_uvloop_with_a_real_engine(tmp_path: object) -> None:
    """python-chess's engine processes and aiosqlite's thread work on uvloop: a headless match
    between Stockfish players with Stockfish speculators ends and is saved."""
    seen: list[type[asyncio.AbstractEventLoop]] = []
    real = cli._dispatch

    async def dispatch(command: str, args: argparse.Namespace) -> int:
        seen.append(type(asyncio.get_running_loop()))
        return await real(command, args)

    mp = pytest.MonkeyPatch()
    mp.setattr(cli, "_dispatch", dispatch)
    mp.delenv(config.EVENT_LOOP, raising=False)
    try:
        code = cli.main(
            [
                "play",
                "--headless",
                "--db",
                f"{tmp_path}/a.db",
                "--white",
                "stockfish:depth=2",
                "--black",
                "stockfish:depth=2",
                "--max-plies",
                "6",
            ]
        )
    finally:
        mp.undo()
    assert code == 0
    assert seen == [uvloop.Loop]
