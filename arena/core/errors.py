"""Errors that reach the user as one line."""


class ArenaError(Exception):
    """A problem the user can fix; the CLI prints it as one line and exits with `exit_code`."""

    exit_code = 2


class SpecError(ArenaError):
    """A player, speculator or game spec, a profile or a command-line value that cannot be used."""


class TraceError(ArenaError):
    """A recorded game that cannot be read or replayed (its file and line are named)."""


class StoreError(ArenaError):
    """The replay database cannot be opened, read or written as asked."""


class ProviderError(ArenaError):
    """A model provider failed after its retries; the match ends with `error: <reason>`."""

    exit_code = 1


class EngineError(ArenaError):
    """A UCI engine that cannot be started, misses its handshake or move deadline, or breaks
    the protocol. At the start of a match it is a one-line error; during a match it ends the
    match with `error: <reason>`, or stops that side's speculation when a speculator's fails."""


class EngineNotFoundError(EngineError):
    """No engine binary where the profile, `ARENA_STOCKFISH`, `PATH` or `/usr/games` point."""
