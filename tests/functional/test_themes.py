"""Looks: dark, light and monochrome themes, chosen by ARENA_THEME or cycled with ctrl+t."""

from __future__ import annotations

import pytest
from rich.color import Color as RichColor
from textual.message import Message
from textual.notifications import Notify
from textual.widgets import Input

from arena.players.human import HumanPlayer
from arena.tui.app import ArenaApp
from arena.tui.themes import MONO
from arena.tui.widgets.board import Board
from arena.tui.widgets.players import PlayerCard

from .conftest import SCHOLAR, ScriptedActor, scholar_match, wait_until

SIZE = (120, 40)


def luminance(color: RichColor | None) -> float:
    assert color is not None and color.triplet is not None
    red, green, blue = color.triplet
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


@pytest.mark.parametrize(
    ("value", "theme"),
    [
        ("dark", "textual-dark"),
        ("light", "textual-light"),
        ("mono", MONO.name),
        ("", "textual-dark"),
    ],
)
async def test_arena_theme_picks_the_look_at_start(
    monkeypatch: pytest.MonkeyPatch, value: str, theme: str
) -> None:
    monkeypatch.setenv("ARENA_THEME", value)
    app = ArenaApp(scholar_match(), static=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == theme


async def test_an_unknown_arena_theme_warns_and_stays_dark(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARENA_THEME", "sepia")
    seen: list[Message] = []
    app = ArenaApp(scholar_match(), static=True)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await pilot.pause()
        assert app.theme == "textual-dark"
    warnings = [m.notification for m in seen if isinstance(m, Notify)]
    assert any("sepia" in n.message and n.severity == "warning" for n in warnings)


async def test_ctrl_t_cycles_dark_light_mono_even_from_the_move_box() -> None:
    human = HumanPlayer()
    app = ArenaApp(
        scholar_match(white=human, black=ScriptedActor(SCHOLAR, 0.05)),
        static=True,
        theme_name="dark",
    )
    async with app.run_test(size=SIZE) as pilot:
        assert app.live is not None
        entry = app.live.query_one("#move-entry", Input)
        await wait_until(pilot, lambda: entry.has_focus)
        seen = []
        for _ in range(3):
            await pilot.press("ctrl+t")
            seen.append(app.theme)
        assert seen == ["textual-light", MONO.name, "textual-dark"]
        assert entry.value == "", "ctrl+t is not typed into the move box"


async def test_monochrome_marks_last_move_and_check_by_style_and_sides_by_glyph() -> None:
    # Scholar's mate ends with Qxf7#: a last move and a king in check on the final board.
    app = ArenaApp(scholar_match(), static=True, theme_name="mono")
    async with app.run_test(size=SIZE) as pilot:
        assert app.live is not None
        screen = app.live
        await wait_until(pilot, lambda: screen.finished is not None)
        board = screen.query_one(Board)
        last = board.get_component_rich_style("board--last", partial=True)
        check = board.get_component_rich_style("board--check", partial=True)
        assert last.reverse
        assert check.reverse and check.bold and check.underline
        drawn = str(board.render())
        assert "♕" in drawn and "♙" in drawn, "White's pieces are hollow"
        assert "♛" in drawn and "♟" in drawn, "Black's are solid"
        for name in ("board--light", "board--dark"):
            square = board.get_component_rich_style(name, partial=True).bgcolor
            assert square is not None and square.triplet is not None
            red, green, blue = square.triplet
            assert red == green == blue, f"{name} is a grey"
        # Back to dark: colour again, no reversed squares, solid pieces for both sides.
        await pilot.press("ctrl+t")
        assert app.theme == "textual-dark"
        await pilot.pause()
        assert not board.get_component_rich_style("board--last", partial=True).reverse
        assert "♕" not in str(board.render()) and "♙" not in str(board.render())


async def test_light_theme_keeps_muted_text_dark_on_the_light_surface() -> None:
    app = ArenaApp(scholar_match(), static=True, theme_name="light")
    async with app.run_test(size=SIZE) as pilot:
        assert app.live is not None
        await pilot.pause()
        card = app.live.query_one("#player-0", PlayerCard)
        dim = card.get_component_rich_style("player--dim", partial=True)
        coord = app.live.query_one(Board).get_component_rich_style("board--coord", partial=True)
        assert luminance(dim.color) < 0.5
        assert luminance(coord.color) < 0.5
