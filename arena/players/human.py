"""A person at the keyboard as a player.

The UI shows the real current state and submits the move typed or picked for it. A human never
answers a hypothetical position: a `decide` call for any other state (a speculative branch) just
waits until the match cancels it.
"""

from __future__ import annotations

import asyncio

from arena.core.actor import Actor, Decision
from arena.core.game import GameState


class IllegalMoveError(ValueError):
    """The submitted text is not a legal move in the state it was submitted for."""


class HumanPlayer(Actor):
    """Decides by waiting for `submit` from the UI, for exactly the state being decided."""

    concurrency = 1
    person = True

    def __init__(self, spec: str = "human", name: str = "you") -> None:
        self.spec = spec
        self.name = name
        self._waiting: dict[str, list[asyncio.Future[tuple[str, str]]]] = {}
        self._early: dict[str, tuple[str, str]] = {}

    async def decide(self, state: GameState) -> Decision:
        key = state.key()
        early = self._early.pop(key, None)
        if early is not None:
            move, raw = early
            return Decision(move=move, raw=raw)
        future: asyncio.Future[tuple[str, str]] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(future)
        try:
            move, raw = await future
        finally:
            waiting = self._waiting.get(key, [])
            if future in waiting:
                waiting.remove(future)
            if not waiting:
                self._waiting.pop(key, None)
        return Decision(move=move, raw=raw)

    def is_waiting(self, state: GameState) -> bool:
        """True when a `decide` call for `state` is waiting for the person."""
        return any(not f.done() for f in self._waiting.get(state.key(), []))

    def submit(self, state: GameState, text: str) -> str:
        """Answers `state` (the real current state the UI shows) with `text` in SAN or UCI.

        Returns the move in UCI. Raises `IllegalMoveError` if `text` is not a legal move there.
        A move submitted before the match asks for it is kept for that state only.
        """
        move = state.parse_move(text)
        if move is None:
            raise IllegalMoveError(f"not a legal move here: {text.strip() or '(empty)'}")
        key = state.key()
        futures = [f for f in self._waiting.get(key, []) if not f.done()]
        if not futures:
            self._early = {key: (move, text)}
        for future in futures:
            future.set_result((move, text))
        return move
