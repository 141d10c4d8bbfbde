"""Chess on python-chess: notation, immutability, keys and every termination."""

from __future__ import annotations

import random

import chess
import pytest

from arena.core.errors import ArenaError
from arena.core.game import Outcome
from arena.games.chess import START_FEN, ChessState


def play(*moves: str, fen: str | None = None) -> ChessState:
    state = ChessState.from_fen(fen)
    for move in moves:
        parsed = state.parse_move(move)
        assert parsed is not None, move
        state = state.apply(parsed)
    return state


def test_parse_san_and_uci_and_decorations() -> None:
    s = ChessState.from_fen()
    assert s.parse_move("e4") == "e2e4"
    assert s.parse_move("e2e4") == "e2e4"
    assert s.parse_move("1. Nf3!") == "g1f3"
    assert s.parse_move("  Nc3,") == "b1c3"
    assert s.parse_move("Ke2") is None
    assert s.parse_move("e2e5") is None
    assert s.parse_move("") is None
    castle = play("e4", "e5", "Nf3", "Nc6", "Bc4", "Bc5")
    assert castle.parse_move("0-0") == "e1g1" == castle.parse_move("O-O")
    assert castle.format_move("e1g1") == "O-O"
    promo = ChessState.from_fen("8/P7/8/8/8/8/8/k6K w - - 0 1")
    assert promo.parse_move("a8=Q") == "a7a8q" == promo.parse_move("a7a8q")


def test_states_are_immutable_and_keys_include_history() -> None:
    s = ChessState.from_fen()
    t = s.apply("g1f3")
    assert s.ply == 0 and t.ply == 1 and s.path == () and t.path == ("g1f3",)
    # Same position by two move orders: different keys (a prompt may show the history).
    a = play("Nf3", "Nf6", "Nc3", "Nc6")
    b = play("Nc3", "Nc6", "Nf3", "Nf6")
    assert a.position() == b.position()
    assert a.key() != b.key()
    assert a.key() == play("Nf3", "Nf6", "Nc3", "Nc6").key()
    assert a.san_history == ("Nf3", "Nf6", "Nc3", "Nc6")
    board = a.board
    board.push_uci("e2e4")
    assert a.position() != board.fen()


@pytest.mark.parametrize(
    ("state", "result", "termination"),
    [
        (play("f3", "e5", "g4", "Qh4"), "0-1", "checkmate"),
        (ChessState.from_fen("7k/5Q2/6K1/8/8/8/8/8 b - - 0 1"), "1/2-1/2", "stalemate"),
        (ChessState.from_fen("8/8/8/8/8/8/8/k6K w - - 0 1"), "1/2-1/2", "insufficient material"),
        (
            play("Nf3", "Nf6", "Ng1", "Ng8", "Nf3", "Nf6", "Ng1", "Ng8"),
            "1/2-1/2",
            "threefold repetition",
        ),
        (play("Kh2", fen="7k/8/8/8/8/8/8/R6K w - - 99 80"), "1/2-1/2", "fifty-move rule"),
    ],
)
def test_terminations(state: ChessState, result: str, termination: str) -> None:
    outcome = state.outcome()
    assert outcome is not None
    assert (outcome.result, outcome.termination) == (result, termination)


def test_game_in_progress_has_no_outcome() -> None:
    assert play("e4").outcome() is None


@pytest.mark.parametrize(
    "fen",
    [
        "",
        "xx",
        "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR x KQkq - 0 1",
        "8/8/8/8/8/8/8/8 w - - 0 1",
    ],
)
def test_bad_fen_is_a_clear_error(fen: str) -> None:
    if fen == "":
        assert ChessState.from_fen(fen).ply == 0  # empty means the standard start
        return
    with pytest.raises(ArenaError, match="bad FEN"):
        ChessState.from_fen(fen)


def test_from_moves_rejects_illegal_history() -> None:
    start = ChessState.from_fen().position()
    assert ChessState.from_moves(start, ["e2e4", "e7e5"]).ply == 2
    with pytest.raises(ArenaError, match="illegal move"):
        ChessState.from_moves(start, ["e2e4", "e2e4"])


# -- linear games: the same rules as python-chess's full-stack board, at a cost that does not grow


def _reference(board: chess.Board) -> tuple[str, str] | None:
    result = board.outcome(claim_draw=True)
    if result is None:
        return None
    names = {
        chess.Termination.CHECKMATE: "checkmate",
        chess.Termination.STALEMATE: "stalemate",
        chess.Termination.INSUFFICIENT_MATERIAL: "insufficient material",
        chess.Termination.SEVENTYFIVE_MOVES: "fifty-move rule",
        chess.Termination.FIFTY_MOVES: "fifty-move rule",
        chess.Termination.FIVEFOLD_REPETITION: "threefold repetition",
        chess.Termination.THREEFOLD_REPETITION: "threefold repetition",
    }
    return result.result(), names[result.termination]


def _shuffle_bias(board: chess.Board, moves: list[chess.Move], rng: random.Random) -> chess.Move:
    """Mostly moves that go back where a piece came from, so positions repeat often."""
    if board.move_stack and rng.random() < 0.7 and len(board.move_stack) >= 2:
        back = board.move_stack[-2]
        undo = chess.Move(back.to_square, back.from_square)
        if undo in moves:
            return undo
    quiet = [m for m in moves if not board.is_zeroing(m)]
    return rng.choice(quiet if quiet and rng.random() < 0.9 else moves)


@pytest.mark.parametrize("seed", range(12))
def test_outcomes_match_python_chess_at_every_ply(seed: int) -> None:
    """Threefold (claimed via the next move too), fivefold, fifty- and 75-move rules and the
    rest agree with python-chess on a full-history board, position after position, including
    every legal child (the states a speculator would branch to)."""
    rng = random.Random(seed)
    fens = [
        START_FEN,
        "4k3/8/8/8/8/8/8/R3K2R w KQ - 90 80",  # near the fifty- and 75-move rules, castling
        "r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1",
        "4k3/8/8/3pP3/8/8/8/4K3 w - d6 0 1",  # en passant available
    ]
    fen = fens[seed % len(fens)]
    board = chess.Board(fen)
    state = ChessState.from_fen(fen)
    for _ in range(400):
        expected = _reference(board)
        got = state.outcome()
        assert (None if got is None else (got.result, got.termination)) == expected, (
            board.fen(),
            [m.uci() for m in board.move_stack],
        )
        assert state.can_claim_threefold() == board.can_claim_threefold_repetition()
        assert state.position() == board.fen()
        if rng.random() < 0.2:
            for move in list(board.legal_moves)[:8]:
                board.push(move)
                child = state.apply(move.uci())
                got_child = child.outcome()
                assert (
                    None if got_child is None else (got_child.result, got_child.termination)
                ) == _reference(board)
                board.pop()
        if expected is not None:
            break
        move = _shuffle_bias(board, list(board.legal_moves), rng)
        board.push(move)
        state = state.apply(move.uci())


def test_repetitions_by_the_rules() -> None:
    knights = ["g1f3", "g8f6", "f3g1", "f6g8"]
    state = ChessState.from_fen()
    outcomes = []
    for move in knights * 2:
        state = state.apply(move)
        outcomes.append(state.outcome())
    # The start position occurs for the third time after 8 plies; after 7 a move reaches it.
    assert outcomes[:6] == [None] * 6
    assert state.outcome() == Outcome("1/2-1/2", "threefold repetition", None)
    assert outcomes[6] is not None and outcomes[6].termination == "threefold repetition"


def test_fifty_and_seventy_five_move_rules() -> None:
    state = ChessState.from_fen("4k3/8/8/8/8/8/8/R3K3 w - - 98 80")
    assert state.outcome() is None
    state = state.apply("a1a2")  # 99: the next quiet move reaches 100, so a draw is claimable
    assert state.outcome() == Outcome("1/2-1/2", "fifty-move rule", None)
    late = ChessState.from_fen("4k3/8/8/8/8/8/8/R3K3 w - - 150 100")
    assert late.outcome() == Outcome("1/2-1/2", "fifty-move rule", None)


def test_cost_per_state_does_not_grow_with_the_game() -> None:
    """A state deep in a game keeps only the moves since the last irreversible one."""
    state = ChessState.from_fen()
    rng = random.Random(3)
    longest = 0
    while state.ply < 600:
        moves = sorted(state.legal_moves())
        rng.shuffle(moves)
        board = state._board
        if board.halfmove_clock > 60:  # a pawn move or a capture keeps the game going
            moves.sort(key=lambda m: not board.is_zeroing(chess.Move.from_uci(m)))
        child = next((c for c in map(state.apply, moves) if c.outcome() is None), None)
        if child is None:
            break
        state = child
        longest = max(longest, len(state._board.move_stack))
    assert state.ply >= 300
    assert longest <= 101
    assert len(state._counts) <= 101
    assert state.board.fen() == state.position()
    # The history is still whole: replayed from the start it reaches the same position.
    assert ChessState.from_moves(START_FEN, state.path).position() == state.position()
    assert len(state.san_history) == state.ply


_TRICKY_FENS = (
    "r3k2r/pppq1ppp/2n2n2/3pp3/3PP3/2N2N2/PPPQ1PPP/R3K2R w KQkq - 0 8",  # castling both ways
    "r3k2r/8/8/8/8/8/8/R3K2R b KQkq - 0 1",
    "rnbqkbnr/ppp1p1pp/8/3pPp2/8/8/PPPP1PPP/RNBQKBNR w KQkq f6 0 3",  # en passant
    "8/1P4k1/8/8/8/8/6p1/4K3 w - - 0 1",  # promotions
    "4k3/8/8/8/8/8/4q3/4K3 w - - 0 1",  # in check
    "4k3/4r3/8/8/8/8/4B3/4K3 w - - 0 1",  # pinned piece
)


def test_is_legal_checks_one_move_as_the_listed_moves_would() -> None:
    """Before the legal moves are listed, `is_legal` checks the move alone: it must agree with
    the list for every spelling of every square pair (castling as king-takes-rook included)."""
    rng = random.Random(7)
    fens = list(_TRICKY_FENS)
    state = ChessState.from_fen()
    for _ in range(30):
        if state.outcome() is not None:
            break
        state = state.apply(rng.choice(list(state.legal_moves())))
        fens.append(state.position())
    names = [chess.square_name(i) for i in range(64)]
    spellings = [a + b + p for a in names for b in names for p in ("", "q", "k", "Q")]
    spellings += ["0000", "", "e1g1 ", "E2E4", "e2e4q", "e1h1", "e8a8"]
    for fen in fens:
        listed = set(ChessState.from_fen(fen).legal_moves())
        alone = ChessState.from_fen(fen)
        for move in spellings:
            assert alone.is_legal(move) == (move in listed), (fen, move)
        assert "_legal" not in alone.__dict__  # each move was checked alone


def test_position_is_python_chess_fen_in_random_games() -> None:
    """`position()` builds the FEN itself (faster than `Board.fen`); it must be the same text in
    every position of many random games: promotions, castling rights lost piece by piece, en
    passant squares only when a capture there is legal, clocks."""
    rng = random.Random(11)
    positions = 0
    for fen in (*_TRICKY_FENS, chess.STARTING_FEN):
        for _ in range(40):
            state = ChessState.from_fen(fen)
            board = chess.Board(fen)
            for _ in range(rng.randint(1, 120)):
                if state.outcome() is not None:
                    break
                move = rng.choice(list(state.legal_moves()))
                state = state.apply(move)
                board.push_uci(move)
                assert state.position() == board.fen(), (fen, state.path)
                positions += 1
    assert positions > 10_000


def test_a_move_applied_twice_gives_one_state_while_it_lives() -> None:
    """A speculative branch's position and the committed one are one object (what it worked
    out is kept), but a state does not keep its later states alive."""
    import gc
    import weakref

    start = ChessState.from_fen()
    child = start.apply("e2e4")
    assert start.apply("e2e4") is child
    assert start.apply("d2d4") is not child
    child.outcome()
    assert child.is_legal("e7e5") and not child.is_legal("e7e4")
    assert child.is_legal("e7e5") and not child.is_legal("e7e4")  # kept answers, same result
    # The history read on the parent after the child was made still reaches the child.
    assert start.san_history == ()
    assert start.apply("e2e4").san_history == ("e4",)
    gone = weakref.ref(child)
    del child
    gc.collect()
    assert gone() is None
    again = start.apply("e2e4")
    assert again.position() == "rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - 0 1"
