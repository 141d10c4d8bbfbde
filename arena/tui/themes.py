"""The arena's looks: Textual's dark and light themes, and a monochrome one.

The board's colours are theme variables (`$board-light`, ...), so a theme can replace them; the
monochrome theme also marks the last move and check by text style, in `widgets.tcss`.
"""

from __future__ import annotations

from textual.theme import Theme

from arena import config

MONO = Theme(
    name="arena-mono",
    primary="#b8b8b8",
    secondary="#8c8c8c",
    accent="#e8e8e8",
    warning="#d8d8d8",
    error="#ffffff",
    success="#ffffff",
    foreground="#e8e8e8",
    background="#000000",
    surface="#141414",
    panel="#262626",
    dark=True,
    variables={
        "board-light": "#9e9e9e",
        "board-dark": "#5e5e5e",
        "board-last": "#808080",
        "board-check": "#808080",
        "board-selected": "#d0d0d0",
        "board-cursor": "#e8e8e8",
        "board-target": "#000000",
        "board-white-piece": "#ffffff",
        "board-black-piece": "#000000",
        "footer-key-foreground": "#ffffff",
    },
)
"""Shades of grey only: whatever carries meaning is also a glyph or a text style."""

THEMES = {"dark": "textual-dark", "light": "textual-light", "mono": MONO.name}
"""The looks `ARENA_THEME` and ctrl+t choose from, in cycling order, by short name."""

BOARD_DEFAULTS = {
    "board-light": "#d9c19a",
    "board-dark": "#a27b53",
    "board-last": "#c9c25a 70%",
    "board-check": "#d2453a",
    "board-selected": "#5f9e5f",
    "board-cursor": "#5a8fc9",
    "board-target": "#2a5d2a",
    "board-white-piece": "#ffffff",
    "board-black-piece": "#101010",
}
"""The wooden board of the colour themes; any theme may override a variable."""


def is_monochrome(theme: Theme) -> bool:
    return theme.name == MONO.name


def theme_from_env() -> tuple[str, str | None]:
    """The Textual theme `ARENA_THEME` names, and a warning when it names none."""
    wanted = config.theme()
    if not wanted:
        return THEMES["dark"], None
    if wanted in THEMES:
        return THEMES[wanted], None
    choices = "|".join(THEMES)
    return THEMES["dark"], f"{config.THEME}={wanted!r} is not one of {choices}: using dark"


def next_theme(current: str) -> str:
    """The theme after `current` in the cycle; dark after any theme outside it."""
    names = list(THEMES.values())
    if current not in names:
        return names[0]
    return names[(names.index(current) + 1) % len(names)]
