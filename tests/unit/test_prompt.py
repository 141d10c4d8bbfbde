"""The chess prompt builder, the tolerant move reader and the retry feedback."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arena.games.chess import ChessState
from arena.players.prompt import (
    ANSWER_QUOTE_CHARS,
    NO_ANSWER,
    SYSTEM_PROMPT,
    build_chess_prompt,
    extract_move,
    feedback,
    find_claim,
    history_text,
    parse_claim,
    quoted_answer,
    retry_conversation,
)


def play(*moves: str, fen: str | None = None) -> ChessState:
    state = ChessState.from_fen(fen)
    for move in moves:
        state = state.apply(move)
    return state


AFTER_E4_E5 = play("e2e4", "e7e5")


def test_prompt_contents() -> None:
    system, user = build_chess_prompt(AFTER_E4_E5, show_legal=True)
    assert system == SYSTEM_PROMPT and "MOVE: <your move in SAN>" in system
    assert "You play White." in user
    assert f"FEN: {AFTER_E4_E5.position()}" in user
    assert "Side to move: White" in user
    assert "Moves so far: 1. e4 e5" in user
    assert "Last move: e5 (by Black)" in user
    assert "Legal moves: Ba6, Bb5, Bc4," in user
    assert "4 . . . . P . . . 4" in user  # the diagram, White at the bottom
    assert user.endswith("End your reply with the line `MOVE: <your move in SAN>`.")
    _, without = build_chess_prompt(AFTER_E4_E5)
    assert "Legal moves" not in without


def test_prompt_is_pure() -> None:
    again = ChessState.from_moves(AFTER_E4_E5.start_fen, AFTER_E4_E5.path)
    assert build_chess_prompt(AFTER_E4_E5, show_legal=True) == build_chess_prompt(
        again, show_legal=True
    )
    # Same position by another move order: the history differs, so does the prompt.
    transposed = play("g1f3", "g8f6", "f3g1", "f6g8")
    start = ChessState.from_fen()
    assert transposed.position().split()[0] == start.position().split()[0]
    assert build_chess_prompt(transposed) != build_chess_prompt(start)


def test_history_from_a_black_to_move_start() -> None:
    state = play("a8b8", "e1g1", fen="r3k2r/8/8/8/8/8/8/R3K2R b KQkq - 5 20")
    assert history_text(state) == "20... Rb8 21. O-O"
    _, user = build_chess_prompt(state)
    assert "The game started from this position: FEN r3k2r/8/8/8/8/8/8/R3K2R b KQkq - 5 20" in user
    assert "You play Black." in user
    assert history_text(ChessState.from_fen()) == ""
    assert "Moves so far: none yet." in build_chess_prompt(ChessState.from_fen())[1]


def test_check_is_mentioned() -> None:
    state = play("e2e4", "f7f6", "d2d4", "g7g5", "d1h5")
    _, user = build_chess_prompt(state)
    assert "Black is in check." in user


@pytest.mark.parametrize(
    ("text", "move"),
    [
        ("MOVE: Nf3", "g1f3"),
        ("I like e4 and d4, and Bc4 is tempting.\n\nMOVE: **Nc3**", "b1c3"),
        ("**Move:** `Bc4`", "f1c4"),
        ("Final answer: 3. Nf3", "g1f3"),
        ('{"move": "g1f3"}', "g1f3"),
        ('Here you go: {"reasoning": "develop", "move": "Nf3"}', "g1f3"),
        ("Nf3", "g1f3"),
        ("Nf3+", "g1f3"),
        ("3. Nf3", "g1f3"),
        ("long reasoning about d4...\nNf3", "g1f3"),
        ("move: ng1-f3", "g1f3"),
        ("MOVE: g1f3", "g1f3"),
        ("MOVE: g1-f3", "g1f3"),
        ("Answer: I'll play the knight.\nMOVE: d4", "d2d4"),
        ("MOVE:\nBb5", "f1b5"),
        ("<move>Qh5</move>", "d1h5"),
        ("MOVE: nf3", "g1f3"),
        ("Candidate move: Qh5, but no.\nMOVE: Nf3", "g1f3"),
    ],
)
def test_extract_move(text: str, move: str) -> None:
    assert extract_move(AFTER_E4_E5, text) == move


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n ",
        "I think Nf3 is best, though d4 and Bc4 are fine too.",
        "MOVE: <your move in SAN>",
        "MOVE: Nf7",
        "MOVE: e2e5",
        "I resign.",
    ],
)
def test_no_move(text: str) -> None:
    assert extract_move(AFTER_E4_E5, text) is None


def test_claims_are_what_was_written() -> None:
    assert find_claim("MOVE: Nf7") == "Nf7"
    assert find_claim("The move is unclear") is None
    assert find_claim("Thinking about Nf3 and Qh5.") is None
    assert parse_claim(AFTER_E4_E5, "O-O") is None
    castle = play("e2e4", "e7e5", "g1f3", "b8c6", "f1c4", "g8f6")
    assert extract_move(castle, "MOVE: O-O") == "e1g1"
    assert extract_move(castle, "MOVE: 0-0") == "e1g1"


def test_promotion() -> None:
    state = ChessState.from_fen("8/P6k/8/8/8/8/8/K7 w - - 0 1")
    assert extract_move(state, "MOVE: a8=Q") == "a7a8q"
    assert extract_move(state, "MOVE: a7a8q") == "a7a8q"
    assert extract_move(state, "MOVE: a8=N") == "a7a8n"
    assert extract_move(state, "MOVE: a8Q") == "a7a8q"


def test_feedback() -> None:
    said = feedback(AFTER_E4_E5, "Nf7")
    assert said.startswith("`Nf7` is illegal here: it is not a legal move for White")
    assert "Legal moves: Ba6, Bb5" in said
    assert said.endswith("ending with the line `MOVE: <your move in SAN>`.")
    assert feedback(AFTER_E4_E5, None).startswith("I could not find your move.")
    assert "not a move in SAN" in feedback(AFTER_E4_E5, "zz9")
    assert feedback(AFTER_E4_E5, "Nf7") == said  # pure
    ambiguous = play("d2d4", "a7a6", "g1f3", "a6a5")
    assert "ambiguous" in feedback(ambiguous, "Nd2")
    checked = play("e2e4", "f7f6", "d2d4", "g7g5", "d1h5")
    assert "(Black is in check)" in feedback(checked, "Nf6")


def test_feedback_restates_the_position_and_the_format() -> None:
    said = feedback(AFTER_E4_E5, None, cut_off=True)
    assert said.startswith("Your reply was cut off at the answer limit before it named a move.")
    assert f"You play White. FEN: {AFTER_E4_E5.position()}" in said
    assert "Legal moves: Ba6, Bb5" in said and "`MOVE: <your move in SAN>`" in said
    # A claimed move is judged even from a cut-off answer.
    assert feedback(AFTER_E4_E5, "Nf7", cut_off=True) == feedback(AFTER_E4_E5, "Nf7")


def test_retry_conversation_quotes_the_end_of_the_last_answer() -> None:
    _, user = build_chess_prompt(AFTER_E4_E5)
    assert retry_conversation(user, None, None) == [{"role": "user", "content": user}]
    long = "thinking " * 1000 + "MOVE: Nf7"
    said = feedback(AFTER_E4_E5, "Nf7")
    turns = retry_conversation(user, long, said)
    assert [t["role"] for t in turns] == ["user", "assistant", "user"]
    assert turns[1]["content"].startswith("[…] ") and turns[1]["content"].endswith("MOVE: Nf7")
    assert len(turns[1]["content"]) <= ANSWER_QUOTE_CHARS + 4
    assert turns[2]["content"] == said
    assert quoted_answer("  MOVE: e4 \n") == "MOVE: e4"
    assert quoted_answer("   ") == NO_ANSWER
    assert retry_conversation(user, long, said) == turns  # pure


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=200), max_size=30), st.booleans())
def test_every_san_round_trips(choices: list[int], show_legal: bool) -> None:
    state = ChessState.from_fen()
    for n in choices:
        legal = sorted(state.legal_moves())
        if not legal or state.outcome() is not None:
            break
        state = state.apply(legal[n % len(legal)])
    if state.outcome() is not None:
        return
    for move in state.legal_moves():
        san = state.format_move(move)
        assert extract_move(state, f"Some thoughts.\nMOVE: {san}") == move
        assert extract_move(state, f"MOVE: {move}") == move
    assert build_chess_prompt(state, show_legal=show_legal) == build_chess_prompt(
        state, show_legal=show_legal
    )
