"""Recorded games: a broken trace is one line naming the file and line, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from arena.core.errors import ArenaError
from arena.games.chess import ChessState
from arena.games.traces import MAX_LATENCY_S, check_time_scale, load_trace
from arena.players.trace import TracePlayer
from arena.specs import trace_file
from arena.speculators.simple import TraceGuessSpeculator

START = "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1"
AFTER_E4 = "rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBN1 b KQkq - 0 1"


def ply(n: int = 0, **fields: Any) -> dict[str, Any]:
    base = {"ply": n, "fen": START if n == 0 else AFTER_E4, "move": "e2e4", "latency_s": 1.5}
    return {**base, "input_tokens": 100, "output_tokens": 20, "guesses": ["e7e5"], **fields}


def write(tmp_path: Path, *lines: str | bytes) -> Path:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"\n".join(x if isinstance(x, bytes) else x.encode() for x in lines))
    return path


def test_a_good_trace_loads_and_blank_lines_anywhere_are_skipped(tmp_path: Path) -> None:
    path = write(tmp_path, "", json.dumps(ply(0, game="g1")), "  ", json.dumps(ply(1)), "")
    trace = load_trace(path)
    assert trace.game == "g1" and len(trace.plies) == 2
    assert trace.plies[0].latency_s == 1.5 and trace.plies[0].guesses == ("e7e5",)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"\xff\xfe not utf-8", r":1: not UTF-8 text"),
        ("{not json", r":1: not a trace line"),
        ("[1, 2]", r":1: not a trace line \(a trace line is a JSON object\)"),
        (json.dumps(ply(latency_s="inf")), r":1: .*latency_s must be a number of seconds"),
        (json.dumps(ply(latency_s=1e308)), r":1: .*latency_s must be 0\.\.86400 s"),
        (json.dumps(ply(latency_s=-1)), r":1: .*latency_s must be 0\.\.86400 s"),
        (json.dumps(ply(latency_s=MAX_LATENCY_S + 1)), r"latency_s must be 0\.\.86400 s"),
        ('{"ply": 0, "latency_s": NaN}', r":1: .*NaN is not a JSON number"),
        (json.dumps(ply()).replace('"input_tokens": 100', '"input_tokens": Infinity'),
         r":1: .*Infinity is not a JSON number"),
        (json.dumps(ply()).replace('"input_tokens": 100', '"input_tokens": 1e400'),
         r":1: .*input_tokens must be a whole number"),
        (json.dumps(ply(output_tokens=-3)), r"output_tokens must be a whole number"),
        (json.dumps(ply(input_tokens=1.5)), r"input_tokens must be a whole number"),
        (json.dumps(ply(guess_latency_s=-0.5)), r"guess_latency_s must be 0"),
        (json.dumps(ply(guesses="e7e5")), r"guesses must be a list"),
        (json.dumps(ply(ply="0")), r"ply must be a whole number"),
        (json.dumps({"fen": START}), r":1: not a trace line \(no 'ply'\)"),
        (json.dumps(ply(fen="not a fen")), r":1: not a trace line"),
    ],
)  # fmt: skip
def test_a_broken_line_names_file_and_line(tmp_path: Path, line: str | bytes, message: str) -> None:
    path = write(tmp_path, line)
    with pytest.raises(ArenaError, match=message) as info:
        load_trace(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_the_line_number_is_the_file_line(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps(ply(0)), "", json.dumps(ply(1, latency_s=-1)))
    with pytest.raises(ArenaError, match=r"t\.jsonl:3: "):
        load_trace(path)
    bad_bytes = write(tmp_path, json.dumps(ply(0)), b'{"ply": 1, "move": "\xe9"}')
    with pytest.raises(ArenaError, match=r"t\.jsonl:2: not UTF-8"):
        load_trace(bad_bytes)


def test_empty_and_blank_traces_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ArenaError, match="empty trace"):
        load_trace(write(tmp_path, "", "   ", ""))


@pytest.mark.parametrize("scale", [float("inf"), 1e300, -1.0, float("nan"), 101.0])
def test_absurd_time_scales_are_refused(tmp_path: Path, scale: float) -> None:
    trace = load_trace(write(tmp_path, json.dumps(ply(0))))
    with pytest.raises(ArenaError, match=r"the time scale must be 0\.\.100"):
        check_time_scale(scale)
    with pytest.raises(ArenaError, match="time scale"):
        TracePlayer(trace, scale)
    with pytest.raises(ArenaError, match="time scale"):
        TraceGuessSpeculator([trace], scale)


def test_usable_time_scales_pass() -> None:
    assert [check_time_scale(x) for x in (0.0, 0.001, 1.0, 100.0)] == [0.0, 0.001, 1.0, 100.0]


def test_a_state_is_found_in_its_trace_by_position_not_by_path() -> None:
    """`at_state` agrees with the FEN lookup: the recorded ply at the recorded position, also
    reached by another move order (a transposition), and nothing elsewhere."""
    trace = load_trace(trace_file("gpt5-4c277d18"))
    state = ChessState.from_fen(trace.start_fen)
    for rec in trace.plies[:12]:
        assert trace.at_state(state) is rec is trace.at(state.ply, state.position())
        off = state.apply(next(m for m in state.legal_moves() if m != rec.move))
        assert trace.at_state(off) is None is trace.at(off.ply, off.position())
        state = state.apply(rec.move)
    # 1. e4 e5 2. Nf3 Nc6 and 1. Nf3 Nc6 2. e4 e5 reach the same position at ply 4.
    moves = [r.move for r in trace.plies[:4]]
    assert moves == ["e2e4", "e7e5", "g1f3", "b8c6"]
    transposed = ChessState.from_moves(trace.start_fen, ["g1f3", "b8c6", "e2e4", "e7e5"])
    assert trace.at_state(transposed) is trace.plies[4]
    assert load_trace(trace_file("gpt5-4c277d18")) is trace  # read once, shared
