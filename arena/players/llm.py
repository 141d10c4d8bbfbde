"""A language model as a chess player.

    LLMPlayer(provider, model, spec, options)

`provider` comes from `arena.providers.make_provider(...)` (given the same options dict, which
may mix provider and player options). Player options:

    tries=N                 answers asked per move (default 3); each rejected answer is told why
                            (`Nf7` is illegal here: ... Legal moves: ...) and tries again
    on_illegal=forfeit      after the last rejected answer the player forfeits (default) ...
    on_illegal=random       ... or plays a random legal move, seeded by the state, flagged
                            `random fallback`
    legal=1                 lists the legal moves (SAN) in the prompt (default 0)
    concurrency=N           decisions in flight at once, speculative ones included (default 8)

A provider that still fails after its retries raises `ProviderError`; the match ends with
`error: <reason>`.
"""

from __future__ import annotations

import hashlib
import random
import statistics
from collections import deque
from collections.abc import Mapping

from arena.core.actor import Actor, Attempt, Decision, Usage
from arena.core.errors import ArenaError
from arena.core.game import GameState
from arena.games.chess import ChessState
from arena.players.prompt import build_chess_prompt, feedback, find_claim, parse_claim
from arena.providers import ChatRequest, Message, Provider
from arena.providers import options as opt

ON_ILLEGAL = ("forfeit", "random")
NO_ANSWER = "(no answer)"
"""Stands in for an empty answer in the retry conversation (providers reject empty turns)."""


class LLMPlayer(Actor):
    """Asks a model for a move; feeds illegal or unreadable answers back, up to `max_tries`."""

    def __init__(
        self,
        provider: Provider,
        model: str | None = None,
        spec: str = "",
        options: Mapping[str, object] | None = None,
        *,
        max_tries: int | None = None,
        on_illegal: str | None = None,
        show_legal: bool | None = None,
        concurrency: int | None = None,
    ) -> None:
        options = dict(options or {})
        self.provider = provider
        self.model = model or provider.model
        self.spec = spec or f"{provider.kind}:{self.model}"
        self.name = self.spec
        opt.check_names(options, opt.ALL_OPTIONS, self.spec)
        tries = max_tries if max_tries is not None else opt.integer(options, "tries", 3, minimum=1)
        self.max_tries = max(1, tries or 1)
        policy = on_illegal or opt.choice(options, "on_illegal", "forfeit", ON_ILLEGAL)
        if policy not in ON_ILLEGAL:
            raise ArenaError(f"on_illegal={policy!r} must be one of {'|'.join(ON_ILLEGAL)}")
        self.on_illegal = policy
        if show_legal is None:
            show_legal = opt.flag(options, "legal", False)
        self.show_legal = show_legal
        if concurrency is None:
            concurrency = opt.integer(options, "concurrency", Actor.concurrency, minimum=1)
        self.concurrency = concurrency or Actor.concurrency
        self._costs: deque[float] = deque(maxlen=64)
        self._rates: deque[float] = deque(maxlen=64)
        """Output tokens per second of past calls (for estimating cancelled calls)."""

    # -- lifecycle ----------------------------------------------------------------------------

    async def close(self) -> None:
        await self.provider.aclose()

    # -- deciding -----------------------------------------------------------------------------

    def prompt(self, state: GameState) -> tuple[str, str]:
        """`(system, user)` for `state`: the same bytes now or speculatively earlier."""
        return build_chess_prompt(_chess(state), show_legal=self.show_legal)

    async def decide(self, state: GameState) -> Decision:
        board = _chess(state)
        system, user = self.prompt(board)
        messages: list[Message] = [{"role": "user", "content": user}]
        attempts: list[Attempt] = []
        usage = Usage()
        raw, model = "", self.model
        for _ in range(self.max_tries):
            response = await self.provider.complete(ChatRequest(system, list(messages)))
            usage = usage + response.usage
            model = response.raw_model or model
            if response.elapsed_s > 0 and response.usage.output_tokens > 0:
                self._rates.append(response.usage.output_tokens / response.elapsed_s)
            raw = response.text
            claim = find_claim(raw)
            move = parse_claim(board, claim) if claim else None
            if move is not None:
                info = _info(model, len(attempts) + 1)
                return self._done(Decision(move, raw, tuple(attempts), usage, info=info))
            said = feedback(board, claim)
            attempts.append(Attempt(raw, claim, said))
            messages += [
                {"role": "assistant", "content": raw.strip() or NO_ANSWER},
                {"role": "user", "content": said},
            ]
        info = _info(model, len(attempts))
        tried = tuple(attempts)
        if self.on_illegal == "random":
            fallback = self._fallback(board)
            return self._done(
                Decision(fallback, raw, tried, usage, flagged="random fallback", info=info)
            )
        return self._done(
            Decision(None, raw, tried, usage, forfeit="forfeit: illegal move", info=info)
        )

    def _fallback(self, state: ChessState) -> str:
        """A legal move that depends only on this player's configuration and the state."""
        digest = hashlib.sha256(f"{self.fingerprint()}|{state.key()}".encode()).digest()
        return random.Random(digest).choice(sorted(state.legal_moves()))

    def _done(self, decision: Decision) -> Decision:
        if decision.usage.cost_usd is not None:
            self._costs.append(decision.usage.cost_usd)
        return decision

    # -- accounting ---------------------------------------------------------------------------

    def fingerprint(self) -> str:
        """Provider, model and every option that shapes a decision; never the key."""
        legal = ",legal=1" if self.show_legal else ""
        return (
            f"{self.provider.fingerprint()}|tries={self.max_tries},"
            f"on_illegal={self.on_illegal}{legal}"
        )

    def expected_cost_usd(self) -> float:
        """The median cost of past decisions (0 before any, or when prices are unknown)."""
        return statistics.median(self._costs) if self._costs else 0.0

    def cancelled_usage(self, state: GameState, running_s: float) -> Usage:
        """An estimate for a call cancelled after `running_s`: the prompt (~4 characters a
        token) as input, and output at the median rate seen so far."""
        if not isinstance(state, ChessState):
            return Usage()
        system, user = self.prompt(state)
        input_tokens = (len(system) + len(user)) // 4
        rate = statistics.median(self._rates) if self._rates else 0.0
        output_tokens = int(rate * max(0.0, running_s))
        estimate = Usage(input_tokens, output_tokens, 0, 0, None)
        return Usage(input_tokens, output_tokens, 0, 0, self.provider.price(estimate))


def _chess(state: GameState) -> ChessState:
    if not isinstance(state, ChessState):
        raise ArenaError("LLM players play chess only")
    return state


def _info(model: str, tries: int) -> dict[str, object]:
    return {"model": model, "tries": tries}
