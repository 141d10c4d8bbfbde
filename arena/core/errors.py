"""Errors that reach the user as one line."""


class ArenaError(Exception):
    """A problem the user can fix; the CLI prints it as one line and exits with `exit_code`."""

    exit_code = 2


class ProviderError(ArenaError):
    """A model provider failed after its retries; the match ends with `error: <reason>`."""

    exit_code = 1
