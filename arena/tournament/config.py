"""A tournament's settings: who plays, in which format, under which limits.

Stored with the tournament (as JSON) so that `arena tournament resume` replays the same plan.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from arena.core.errors import ArenaError
from arena.core.policy import DEFAULT_SPECULATOR, SpeculationPolicy
from arena.tournament.limits import ProviderLimit
from arena.tournament.openings import Opening
from arena.tournament.pairing import FORMATS, Format, swiss_rounds_default
from arena.tournament.ratings import DEFAULT_PRIOR, Sprt


@dataclass(frozen=True, kw_only=True)
class Entrant:
    """A player of the tournament: a display name and the spec that builds it."""

    name: str
    spec: str


@dataclass(frozen=True, kw_only=True)
class TournamentConfig:
    format: Format
    players: tuple[Entrant, ...]
    games_per_pair: int = 2
    """Round robin and gauntlet: games between each two players (colour-swapped pairs from one
    opening). Swiss: games per pairing in a round (1, or 2 for both colours)."""
    rounds: int | None = None
    """Swiss rounds (default ceil(log2 n) + 1)."""
    openings: tuple[Opening, ...] = ()
    openings_source: str = "shipped"
    max_plies: int | None = None
    """Games reaching it are adjudicated as draws."""
    speculator: str | None = DEFAULT_SPECULATOR
    """Both sides' speculator in every game; None: no speculation."""
    policy: SpeculationPolicy = field(default_factory=SpeculationPolicy)
    time_scale: float = 1.0
    seed: int = 0
    concurrency: int = 4
    """Games in flight."""
    engine_slots: int | None = None
    """Games with a CPU-bound engine in flight (None: the machine's cores)."""
    budget_usd: float | None = None
    max_wall_s: float | None = None
    sprt: Sprt | None = None
    anchor: str | None = None
    rate_forfeits: bool = True
    prior: float = DEFAULT_PRIOR
    limits: tuple[ProviderLimit, ...] = ()

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ArenaError(f"unknown format {self.format!r}: {', '.join(FORMATS)}")
        names = [p.name for p in self.players]
        if len(names) < 2:
            raise ArenaError("a tournament needs at least two players")
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate is not None:
            raise ArenaError(
                f"two players are named {duplicate!r}: give them names in a players file"
            )
        if self.games_per_pair < 1:
            raise ArenaError("--games-per-pair must be at least 1")
        if self.format == "swiss" and self.games_per_pair > 2:
            raise ArenaError("a Swiss plays 1 or 2 games per pairing (--games-per-pair)")
        if self.anchor is not None and self.anchor not in names:
            raise ArenaError(f"--anchor {self.anchor!r} is not a player ({', '.join(names)})")
        if self.sprt is not None and self.format == "swiss":
            raise ArenaError("--sprt stops pairs of a round robin or gauntlet, not a Swiss")
        if self.concurrency < 1:
            raise ArenaError("--concurrency must be at least 1")
        for value, name in ((self.budget_usd, "--budget-usd"), (self.max_wall_s, "--max-wall")):
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ArenaError(f"{name} must be a number of at least 0")

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.players]

    @property
    def anchor_name(self) -> str:
        return self.anchor or self.players[0].name

    @property
    def swiss_rounds(self) -> int:
        return self.rounds or swiss_rounds_default(len(self.players))

    def spec_of(self, name: str) -> str:
        return next(p.spec for p in self.players if p.name == name)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "players":
                value = [{"name": p.name, "spec": p.spec} for p in value]
            elif f.name == "openings":
                value = [o.as_dict() for o in value]
            elif f.name == "policy":
                value = asdict(value)
            elif f.name == "sprt":
                value = None if value is None else value.as_dict()
            elif f.name == "limits":
                value = [str(limit) for limit in value]
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TournamentConfig:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["players"] = tuple(Entrant(name=p["name"], spec=p["spec"]) for p in data["players"])
        values["openings"] = tuple(
            Opening(name=o["name"], fen=o["fen"]) for o in data.get("openings", [])
        )
        policy_fields = {f.name for f in fields(SpeculationPolicy)}
        values["policy"] = SpeculationPolicy(
            **{k: v for k, v in dict(data.get("policy") or {}).items() if k in policy_fields}
        )
        sprt = data.get("sprt")
        values["sprt"] = None if not sprt else Sprt(**sprt)
        values["limits"] = tuple(ProviderLimit.parse(text) for text in data.get("limits", []))
        return cls(**values)

    def replace(self, **changes: Any) -> TournamentConfig:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data.update(changes)
        return TournamentConfig(**data)


def entrants(specs: Sequence[str], players_file: str | None = None) -> tuple[Entrant, ...]:
    """Players from a players file (TOML: `[[player]]` tables with `name` and `spec`), then from
    `--player SPEC` (named by their spec)."""
    out: list[Entrant] = []
    if players_file:
        path = Path(players_file).expanduser()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ArenaError(f"cannot read players file {path}: {exc.strerror}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ArenaError(f"broken players file {path}: {exc}") from None
        table = data.get("player") or data.get("players") or []
        if not isinstance(table, list):
            raise ArenaError(f"{path}: write each player as a [[player]] table with name and spec")
        for n, item in enumerate(table, 1):
            if not isinstance(item, dict) or not isinstance(item.get("spec"), str):
                raise ArenaError(f'{path}: player {n} needs spec = "..."')
            name = item.get("name", item["spec"])
            out.append(Entrant(name=str(name), spec=item["spec"]))
    out.extend(Entrant(name=spec, spec=spec) for spec in specs)
    return tuple(out)


__all__ = ["Entrant", "TournamentConfig", "entrants"]
