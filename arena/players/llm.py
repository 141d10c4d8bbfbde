"""A language model as a player of chess or of an OpenSpiel game (a prompt per game).

    LLMPlayer(provider, model, spec, options)

`provider` comes from `arena.providers.make_provider(...)` (given the same options dict, which
may mix provider and player options). Player options:

    tries=N                 answers asked per move (default 3); each rejected answer is told why
                            (`Nf7` is illegal here: ... FEN ... Legal moves: ...) and tries
                            again; the retry quotes only the end of the last rejected answer,
                            so the conversation never outgrows the model's context
    on_illegal=forfeit      after the last rejected answer the player forfeits (default) ...
    on_illegal=random       ... or plays a random legal move, seeded by the state, flagged
                            `random fallback`
    legal=1                 lists the legal moves (SAN) in the prompt (default 0)
    concurrency=N           decisions in flight at once, speculative ones included (default 8)
    move_timeout=S          seconds for the whole move over all tries; when they run out the
                            call is abandoned and `on_illegal` applies (default: none beyond each
                            call's `timeout`)

A request the model refuses as longer than its context counts as a bad answer: the next try
sends the prompt alone with half the answer limit. A provider that still fails after its retries
raises `ProviderError`; the match ends with `error: <reason>`.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import statistics
from collections import deque
from collections.abc import Mapping

from arena.core.actor import Actor, Attempt, Decision, Usage
from arena.core.errors import ArenaError
from arena.core.game import GameState
from arena.games.chess import ChessState
from arena.games.openspiel import OpenSpielState
from arena.players.prompt import (
    NO_ANSWER,
    build_chess_prompt,
    build_game_prompt,
    feedback,
    find_claim,
    find_game_claim,
    game_feedback,
    parse_claim,
    retry_conversation,
)
from arena.providers import ChatRequest, ContextLengthError, Provider
from arena.providers import options as opt

__all__ = ["NO_ANSWER", "ON_ILLEGAL", "LLMPlayer"]

ON_ILLEGAL = ("forfeit", "random")
MIN_ANSWER_TOKENS = 64
"""The smallest answer limit a context refusal shrinks the request to."""


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
        move_timeout: float | None = None,
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
        if move_timeout is None:
            move_timeout = opt.number(options, "move_timeout", None, minimum=0.001)
        self.move_timeout = move_timeout
        """Seconds for a whole move over all tries, or None."""
        self._costs: deque[float] = deque(maxlen=64)
        self._rates: deque[float] = deque(maxlen=64)
        """Output tokens per second of past calls (for estimating cancelled calls)."""

    # -- lifecycle ----------------------------------------------------------------------------

    async def close(self) -> None:
        await self.provider.aclose()

    # -- deciding -----------------------------------------------------------------------------

    def prompt(self, state: GameState) -> tuple[str, str]:
        """`(system, user)` for `state`: the same bytes now or speculatively earlier."""
        if isinstance(state, OpenSpielState):
            return build_game_prompt(state)
        return build_chess_prompt(_chess(state), show_legal=self.show_legal)

    async def decide(self, state: GameState) -> Decision:
        board = _playable(state)
        system, user = self.prompt(board)
        attempts: list[Attempt] = []
        usage = Usage()
        raw, model = "", self.model
        rejected: str | None = None
        said: str | None = None
        max_tokens: int | None = None
        timed_out = False
        deadline = None
        if self.move_timeout is not None:
            deadline = asyncio.get_running_loop().time() + self.move_timeout
        for _ in range(self.max_tries):
            messages = retry_conversation(user, rejected, said)
            try:
                async with asyncio.timeout_at(deadline):
                    response = await self.provider.complete(
                        ChatRequest(system, messages, max_tokens=max_tokens)
                    )
            except ContextLengthError as exc:
                # Too long for the model: ask again with the prompt alone and less room.
                max_tokens = max(MIN_ANSWER_TOKENS, (max_tokens or self.provider.max_tokens) // 2)
                note = f"{exc}; asked again with the prompt alone and max_tokens={max_tokens}"
                attempts.append(Attempt("", None, note))
                rejected = said = None
                continue
            except TimeoutError:
                assert self.move_timeout is not None
                attempts.append(
                    Attempt("", None, f"no move within move_timeout={self.move_timeout:g}s")
                )
                timed_out = True
                break
            usage = usage + response.usage
            model = response.raw_model or model
            if response.elapsed_s > 0 and response.usage.output_tokens > 0:
                self._rates.append(response.usage.output_tokens / response.elapsed_s)
            raw = response.text
            claim, move = _claim(board, raw)
            if move is not None:
                info = _info(model, len(attempts) + 1)
                return self._done(Decision(move, raw, tuple(attempts), usage, info=info))
            if isinstance(board, OpenSpielState):
                said = game_feedback(board, claim, cut_off=response.truncated)
            else:
                said = feedback(board, claim, cut_off=response.truncated)
            rejected = raw
            attempts.append(Attempt(raw, claim, said))
        info = _info(model, len(attempts))
        tried = tuple(attempts)
        if self.on_illegal == "random":
            fallback = self._fallback(board)
            flag = "random fallback" + (" (out of time)" if timed_out else "")
            return self._done(Decision(fallback, raw, tried, usage, flagged=flag, info=info))
        reason = "forfeit: out of time" if timed_out else "forfeit: illegal move"
        return self._done(Decision(None, raw, tried, usage, forfeit=reason, info=info))

    def _fallback(self, state: GameState) -> str:
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
        limit = f",move_timeout={self.move_timeout:g}" if self.move_timeout is not None else ""
        return (
            f"{self.provider.fingerprint()}|tries={self.max_tries},"
            f"on_illegal={self.on_illegal}{legal}{limit}"
        )

    def expected_cost_usd(self) -> float:
        """The median cost of past decisions (0 before any, or when prices are unknown)."""
        return statistics.median(self._costs) if self._costs else 0.0

    def cancelled_usage(self, state: GameState, running_s: float) -> Usage:
        """An estimate for a call cancelled after `running_s`: the prompt (~4 characters a
        token) as input, and output at the median rate seen so far."""
        if not isinstance(state, ChessState | OpenSpielState):
            return Usage()
        system, user = self.prompt(state)
        input_tokens = (len(system) + len(user)) // 4
        rate = statistics.median(self._rates) if self._rates else 0.0
        output_tokens = int(rate * max(0.0, running_s))
        estimate = Usage(input_tokens, output_tokens, 0, 0, None)
        return Usage(input_tokens, output_tokens, 0, 0, self.provider.price(estimate))


def _chess(state: GameState) -> ChessState:
    if not isinstance(state, ChessState):
        raise ArenaError("LLM players play chess and OpenSpiel games only")
    return state


def _playable(state: GameState) -> ChessState | OpenSpielState:
    return state if isinstance(state, OpenSpielState) else _chess(state)


def _claim(state: ChessState | OpenSpielState, raw: str) -> tuple[str | None, str | None]:
    """What the answer claims and the legal move it names (None when it names none)."""
    if isinstance(state, OpenSpielState):
        return find_game_claim(state, raw)
    claim = find_claim(raw)
    return claim, parse_claim(state, claim) if claim else None


def _info(model: str, tries: int) -> dict[str, object]:
    return {"model": model, "tries": tries}
