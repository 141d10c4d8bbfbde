"""The home screen: start a match, open the replays, see the recent matches."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.validation import Integer
from textual.widgets import Button, Footer, Input, Label, Select, Static
from textual.worker import Worker

from arena.core.policy import DEFAULT_POLICY, DEFAULT_SPECULATOR
from arena.games import CHESS
from arena.specs import DEFAULT_BLACK, DEFAULT_WHITE, GameEntry, game_catalog
from arena.tui.screens.base import ArenaScreen
from arena.tui.screens.replay import ReplayScreen
from arena.tui.screens.replays import ReplaysScreen
from arena.tui.widgets.matches import MatchTable

RECENT = 8
OTHER_GAME_PLAYER = "mcts"
"""The players the form proposes for a game other than chess (OpenSpiel's MCTS)."""
FORM_DEFAULTS = {
    "game": CHESS,
    "white": DEFAULT_WHITE,
    "black": DEFAULT_BLACK,
    "white_speculator": DEFAULT_SPECULATOR,
    "black_speculator": DEFAULT_SPECULATOR,
    "k": str(DEFAULT_POLICY.k),
    "max_plies": "",
}
FORM_FIELDS = (
    ("white", "White", "a player spec: stockfish:depth=6, openai:MODEL, human, …"),
    ("black", "Black", "a player spec"),
    ("white_speculator", "White guesses", "White's speculator (Black's moves): stockfish, none"),
    ("black_speculator", "Black guesses", "Black's speculator (White's moves): stockfish, none"),
    ("k", "Guesses (k)", "how many moves to guess per ply"),
    ("max_plies", "Max plies", "empty: play to the end"),
)


class HomeScreen(ArenaScreen):
    """The start form and the recent matches."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # noqa: RUF012

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "start", "Start match", priority=True),
        Binding("r", "replays", "Replays"),
    ]

    class StartRequested(Message):
        """The form asks for a match with these settings (keys as in `FORM_DEFAULTS`)."""

        def __init__(self, params: dict[str, str]) -> None:
            super().__init__()
            self.params = params

    def __init__(
        self,
        *,
        note: str | None = None,
        can_start: bool = True,
        defaults: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.note = note
        self.can_start = can_start
        """False when the app was given no way to build matches."""
        self.defaults = {**FORM_DEFAULTS, **(defaults or {})}
        self.recent_error: str | None = None
        self.games: dict[str, GameEntry] = {}
        """The playable games by spec, once the catalog is read (chess only before)."""
        self.game = self.defaults["game"]
        """The game chosen in the form."""

    def compose(self) -> ComposeResult:
        yield Static(" arena · speculative chess and other games in the terminal", id="status")
        if self.note:
            yield Static(self.note, id="note")
        with Horizontal(id="home-main"):
            with Vertical(id="form"):
                yield Label("New match", classes="heading")
                with Horizontal(classes="field"):
                    yield Label("Game", classes="field-label")
                    yield Select(
                        [("Chess", CHESS)],
                        value=CHESS,
                        allow_blank=False,
                        compact=True,
                        id="field-game",
                    )
                for key, label, hint in FORM_FIELDS:
                    with Horizontal(classes="field"):
                        yield Label(label, classes="field-label")
                        validators = [Integer(minimum=1)] if key in ("k", "max_plies") else []
                        yield Input(
                            self.defaults.get(key, ""),
                            placeholder=hint,
                            id=f"field-{key}",
                            validators=validators,
                            valid_empty=key == "max_plies",
                            compact=True,
                        )
                yield Label("", id="form-error")
                with Horizontal(id="form-buttons"):
                    yield Button("Start match", variant="success", id="start")
                    yield Button("Replays", id="replays")
                if not self.can_start:
                    yield Label(
                        "Start matches from the command line: arena play WHITE BLACK",
                        id="form-hint",
                    )
            with Vertical(id="recent"):
                yield Label("Recent matches", classes="heading")
                yield MatchTable(id="recent-matches")
                yield Label("", id="recent-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#start", Button).disabled = not self.can_start
        self.query_one("#form-error", Label).display = False
        self.query_one("#field-white", Input).focus()
        self.load_recent()
        self.load_games()

    @work(exclusive=True, group="games", exit_on_error=False)
    async def load_games(self) -> None:
        """Fills the game chooser from the catalog (OpenSpiel loads off the event loop)."""
        catalog = await asyncio.to_thread(game_catalog)
        self.games = {entry.spec: entry for entry in catalog}
        select: Select[str] = self.query_one("#field-game", Select)
        with self.prevent(Select.Changed):
            select.set_options([(self._game_label(e), e.spec) for e in catalog])
            select.value = self.game if self.game in self.games else CHESS

    @staticmethod
    def _game_label(entry: GameEntry) -> str:
        return entry.title if entry.listed else f"{entry.title} (grid)"

    @on(Select.Changed, "#field-game")
    def _game_changed(self, event: Select.Changed) -> None:
        event.stop()
        if not isinstance(event.value, str) or event.value == self.game:
            return
        before, self.game = self._players_for(self.game), event.value
        after = self._players_for(self.game)
        # A field still holding the last game's default takes the new game's; typed ones stay.
        for key, old in before.items():
            field = self.query_one(f"#field-{key}", Input)
            if field.value.strip() in ("", old):
                field.value = after[key]
        entry = self.games.get(self.game)
        if entry is not None and self.game != CHESS:
            kinds = ", ".join(entry.players)
            for key in ("white", "black"):
                self.query_one(f"#field-{key}", Input).placeholder = f"a player spec: {kinds}"

    def _players_for(self, game: str) -> dict[str, str]:
        """The form's player and speculator defaults for `game`."""
        if game == CHESS:
            return {k: FORM_DEFAULTS[k] for k in ("white", "black")} | {
                "white_speculator": FORM_DEFAULTS["white_speculator"],
                "black_speculator": FORM_DEFAULTS["black_speculator"],
            }
        entry = self.games.get(game)
        speculator = entry.default_speculator if entry is not None else OTHER_GAME_PLAYER
        return {
            "white": OTHER_GAME_PLAYER,
            "black": OTHER_GAME_PLAYER,
            "white_speculator": speculator,
            "black_speculator": speculator,
        }

    @work(exclusive=True, group="store", exit_on_error=False)
    async def load_recent(self) -> None:
        store = await self.store()
        rows = await store.list_matches(limit=RECENT)
        self.query_one(MatchTable).set_matches(rows)
        status = "" if rows else "none yet"
        self.query_one("#recent-status", Label).update(status)

    def worker_failed(self, worker: Worker[object], message: str) -> None:
        if worker.group == "games":
            # No OpenSpiel: chess stays the one choice.
            self.notify(f"other games unavailable: {message}", severity="warning", timeout=6)
            return
        if worker.group == "store":
            # No database is a normal state for the home screen: say so in place, quietly.
            self.recent_error = message
            self.query_one("#recent-status", Label).update(message)
            return
        super().worker_failed(worker, message)

    # -- the form -----------------------------------------------------------------------------

    def params(self) -> dict[str, str]:
        fields = {
            key: self.query_one(f"#field-{key}", Input).value.strip() for key, *_ in FORM_FIELDS
        }
        return {"game": self.game, **fields}

    def show_error(self, message: str) -> None:
        label = self.query_one("#form-error", Label)
        label.update(message)
        label.display = bool(message)

    def _invalid(self) -> str | None:
        params = self.params()
        for key, label, _ in FORM_FIELDS:
            field = self.query_one(f"#field-{key}", Input)
            result = field.validate(field.value)
            if result is not None and not result.is_valid:
                return f"{label}: {'; '.join(result.failure_descriptions)}"
            if key in ("white", "black") and not params[key]:
                return f"{label}: a player spec is needed"
        return None

    def action_start(self) -> None:
        if not self.can_start:
            self.show_error("this app was started without a way to build matches")
            return
        problem = self._invalid()
        if problem is not None:
            self.show_error(problem)
            return
        self.show_error("")
        self.query_one("#start", Button).disabled = True
        self.post_message(self.StartRequested(self.params()))

    def start_failed(self, message: str) -> None:
        """The app could not build the match asked for."""
        self.show_error(message)
        self.query_one("#start", Button).disabled = not self.can_start

    def on_screen_resume(self) -> None:
        self.query_one("#start", Button).disabled = not self.can_start
        self.load_recent()

    def action_replays(self) -> None:
        self.app.push_screen(ReplaysScreen())

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#replays")
    def _replays_pressed(self) -> None:
        self.action_replays()

    @on(Input.Submitted, ".field Input")
    def _field_submitted(self) -> None:
        self.action_start()

    @on(MatchTable.MatchChosen)
    def _open(self, event: MatchTable.MatchChosen) -> None:
        self.app.push_screen(ReplayScreen(event.match_id))
