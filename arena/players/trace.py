"""Replays a recorded game's moves with their recorded latencies (scaled)."""

from __future__ import annotations

import asyncio

from arena.core.actor import Actor, Decision, Usage
from arena.core.game import GameState
from arena.games.traces import Trace, check_time_scale

UNREACHABLE = "(position not in trace)"


class TracePlayer(Actor):
    """Plays the recorded move after the recorded latency x `time_scale`.

    A position the trace never reached (a speculative branch on a wrong guess) costs the side's
    median latency and returns no move, so it can never be committed; its tokens count as waste.
    """

    def __init__(self, trace: Trace, time_scale: float = 1.0, spec: str = "trace") -> None:
        self.trace = trace
        self.time_scale = check_time_scale(time_scale)
        self.spec = spec
        self.name = f"trace:{trace.game}"
        self.last_ply = len(trace.plies)

    async def decide(self, state: GameState) -> Decision:
        rec = self.trace.at_state(state)
        if rec is None:
            await asyncio.sleep(self.trace.median_latency(state.to_move) * self.time_scale)
            return Decision(move=None, raw=UNREACHABLE, usage=self._median_usage(state.to_move))
        await asyncio.sleep(rec.latency_s * self.time_scale)
        usage = Usage(input_tokens=rec.input_tokens, output_tokens=rec.output_tokens, cost_usd=None)
        return Decision(move=rec.move, raw=rec.move, usage=usage)

    def _median_usage(self, side: int) -> Usage:
        tokens_in, tokens_out = self.trace.median_tokens(side)
        return Usage(input_tokens=tokens_in, output_tokens=tokens_out, cost_usd=None)

    def cancelled_usage(self, state: GameState, running_s: float) -> Usage:
        # The prompt is billed in full; output only for the share of the call that ran.
        tokens_in, tokens_out = self.trace.median_tokens(state.to_move)
        full = self.trace.median_latency(state.to_move) * self.time_scale
        share = min(1.0, running_s / full) if full > 0 else 1.0
        return Usage(input_tokens=tokens_in, output_tokens=int(tokens_out * share), cost_usd=None)
