"""Files shipped inside the package: player profiles, model prices and recorded games.

Read with `importlib.resources`, so an installed wheel finds them from any folder.

    profiles/NAME.toml      player profiles (`--white NAME`)
    pricing.toml            model prices in dollars per million tokens
    traces/NAME.jsonl       recorded GPT-5 games (`trace:NAME`); format and origin in
                            traces/README.md
"""

from __future__ import annotations

import atexit
import contextlib
from importlib.resources import as_file, files
from importlib.resources.abc import Traversable
from pathlib import Path

_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


def _root() -> Traversable:
    return files(__name__)


def resource_path(*parts: str) -> Path:
    """A shipped file as a filesystem path (extracted to a temporary file when the package is
    not on a filesystem, e.g. in a zip)."""
    resource = _root().joinpath(*parts)
    if isinstance(resource, Path):
        return resource
    return _extracted.enter_context(as_file(resource))


def profile_files() -> dict[str, Traversable]:
    """The shipped profiles, by name."""
    folder = _root() / "profiles"
    found = (f for f in folder.iterdir() if f.name.endswith(".toml") and f.is_file())
    return {f.name.removesuffix(".toml"): f for f in sorted(found, key=lambda f: f.name)}


def trace_names() -> list[str]:
    """Names of the shipped traces (`trace:NAME`), sorted."""
    folder = _root() / "traces"
    return sorted(
        f.name.removesuffix(".jsonl") for f in folder.iterdir() if f.name.endswith(".jsonl")
    )


def trace_path(name: str) -> Path | None:
    """The shipped trace `name` (with or without `.jsonl`); None when none has that name."""
    stem = name.removesuffix(".jsonl")
    if stem not in trace_names():
        return None
    return resource_path("traces", f"{stem}.jsonl")


def pricing_path() -> Path:
    """The shipped price table."""
    return resource_path("pricing.toml")
