"""Model prices in dollars per million tokens, from the shipped `arena/data/pricing.toml`.

An unknown model has no price: its costs are None (unknown), never zero. A local server is
free only when its profile or spec says so (`[prices]` in the profile, or `price_in=0,price_out=0`).
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from arena import data
from arena.core.actor import Usage
from arena.core.errors import ArenaError

PRICING_FILE = data.pricing_path()

_SNAPSHOT = re.compile(r"(-\d{8}|-\d{4}-\d{2}-\d{2}|-latest|@\d{8})$")


@dataclass(frozen=True)
class Prices:
    """Dollars per million tokens. `cached` (cache reads) and `cache_write` default to `input`."""

    input: float
    output: float
    cached: float | None = None
    cache_write: float | None = None

    def cost(self, usage: Usage, *, cache_write_tokens: int = 0) -> float:
        """Dollars for `usage`; `usage.input_tokens` counts cached and cache-written tokens too,
        and `output_tokens` includes reasoning tokens (both providers bill them as output)."""
        cached = min(usage.cached_tokens, usage.input_tokens)
        written = min(cache_write_tokens, usage.input_tokens - cached)
        fresh = usage.input_tokens - cached - written
        dollars = (
            fresh * self.input
            + cached * (self.input if self.cached is None else self.cached)
            + written * (self.input if self.cache_write is None else self.cache_write)
            + usage.output_tokens * self.output
        )
        return dollars / 1_000_000

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], where: str = "prices") -> Prices:
        """From `{input, output, cached?, cache_write?}` (a TOML table); bad values are an
        `ArenaError`."""

        def number(key: str) -> float | None:
            value = data.get(key)
            if value is None:
                return None
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ArenaError(f"{where}: {key} must be a number of dollars per million tokens")
            try:
                out = float(value)
            except ValueError:
                raise ArenaError(f"{where}: {key}={value!r} is not a number") from None
            if out < 0:
                raise ArenaError(f"{where}: {key} must not be negative")
            return out

        unknown = sorted(set(data) - {"input", "output", "cached", "cache_write", "aliases"})
        if unknown:
            raise ArenaError(f"{where}: unknown price keys {', '.join(unknown)}")
        inp, out = number("input"), number("output")
        if inp is None or out is None:
            raise ArenaError(f"{where}: needs both input and output prices")
        return cls(inp, out, number("cached"), number("cache_write"))


@functools.cache
def price_table(path: Path = PRICING_FILE) -> dict[str, Prices]:
    """Model name (and alias) to prices; an absent file means every model is unknown."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ArenaError(f"cannot read {path}: {exc}") from None
    table: dict[str, Prices] = {}
    models = data.get("models", {})
    if not isinstance(models, dict):
        raise ArenaError(f"{path}: [models] must be a table")
    for name, entry in models.items():
        if not isinstance(entry, dict):
            raise ArenaError(f"{path}: models.{name} must be a table")
        prices = Prices.from_mapping(entry, f"{path.name}: models.{name}")
        table[name] = prices
        for alias in entry.get("aliases", []):
            table[str(alias)] = prices
    return table


def prices_for(model: str, table: Mapping[str, Prices] | None = None) -> Prices | None:
    """Prices of `model`, also under its dated snapshot names (`gpt-5-2025-08-07`,
    `claude-sonnet-4-5-20250929`); None when unknown."""
    table = price_table() if table is None else table
    name = model.strip()
    while True:
        if name in table:
            return table[name]
        shorter = _SNAPSHOT.sub("", name)
        if shorter == name:
            return None
        name = shorter


def price(model: str, usage: Usage, *, cache_write_tokens: int = 0) -> float | None:
    """Dollars for `usage` on `model`; None (unknown, never zero) for an unknown model."""
    prices = prices_for(model)
    return None if prices is None else prices.cost(usage, cache_write_tokens=cache_write_tokens)
