"""The one chess prompt builder, the tolerant move reader and the retry feedback.

`build_chess_prompt` is a pure function of the state and fixed options, so a speculative call
made earlier and the real call for the same state send byte-identical requests.
"""

from __future__ import annotations

import re

import chess

from arena.games.chess import START_FEN, ChessState
from arena.games.openspiel import OpenSpielState

ANSWER_FORMAT = "MOVE: <your move in SAN>"

SYSTEM_PROMPT = f"""\
You are a strong chess player in a game against an opponent. You are shown the position and \
the moves played so far, and you choose the next move for the side to move.

Think as much as you need, then end your reply with one final line of exactly this form:
{ANSWER_FORMAT}
for example `MOVE: Nf3`, `MOVE: exd5`, `MOVE: O-O` or `MOVE: e8=Q`. Give one move only on that \
line, in standard algebraic notation (SAN); it must be legal in the position shown."""


def board_diagram(board: chess.Board) -> str:
    """The board with White at the bottom, files and ranks labelled; uppercase is White."""
    files = "  a b c d e f g h"
    rows = [files]
    for rank in range(7, -1, -1):
        cells = []
        for file in range(8):
            piece = board.piece_at(chess.square(file, rank))
            cells.append(piece.symbol() if piece else ".")
        rows.append(f"{rank + 1} {' '.join(cells)} {rank + 1}")
    rows.append(files)
    return "\n".join(rows)


def history_text(state: ChessState) -> str:
    """The moves from the match's start in SAN with move numbers (`1. e4 e5 2. Nf3`)."""
    board = chess.Board(state.start_fen)
    number, white = board.fullmove_number, board.turn == chess.WHITE
    parts: list[str] = []
    for i, san in enumerate(state.san_history):
        if white:
            parts.append(f"{number}. {san}")
        elif i == 0:
            parts.append(f"{number}... {san}")
        else:
            parts.append(san)
        if not white:
            number += 1
        white = not white
    return " ".join(parts)


def legal_sans(state: ChessState) -> list[str]:
    """The legal moves in SAN, sorted (a fixed order keeps prompts byte-identical)."""
    return sorted(state.format_move(m) for m in state.legal_moves())


def build_chess_prompt(
    state: ChessState, *, show_legal: bool = False, show_history: bool = True
) -> tuple[str, str]:
    """`(system, user)` for the side to move at `state`."""
    side = "White" if state.to_move == 0 else "Black"
    board = state.board
    lines = [f"You play {side}. It is your move.", ""]
    if state.start_fen != START_FEN:
        lines += [f"The game started from this position: FEN {state.start_fen}", ""]
    lines += [
        "Current position (White at the bottom; uppercase letters are White's pieces):",
        "",
        board_diagram(board),
        "",
        f"FEN: {state.position()}",
        f"Side to move: {side}",
    ]
    if show_history:
        history = history_text(state)
        lines.append(f"Moves so far: {history}" if history else "Moves so far: none yet.")
    if state.path:
        last = state.san_history[-1]
        mover = "Black" if state.to_move == 0 else "White"
        lines.append(f"Last move: {last} (by {mover})")
    if board.is_check():
        lines.append(f"{side} is in check.")
    if show_legal:
        lines.append(f"Legal moves: {', '.join(legal_sans(state))}")
    lines += ["", f"Choose your move. End your reply with the line `{ANSWER_FORMAT}`."]
    return SYSTEM_PROMPT, "\n".join(lines)


# -- reading answers --------------------------------------------------------------------------

_LABEL = re.compile(
    r"(?im)(?:^|[\s*_>#(\[|])(?:(?:final|my|best|chosen)\s+)?(?:move|answer)\s*[*_]*\s*[:=]\s*(.*)$"
)
_JSON_MOVE = re.compile(r"\"(?:move|san|uci)\"\s*:\s*\"([^\"]+)\"", re.IGNORECASE)
_TAGGED = re.compile(r"<move>\s*([^<]+?)\s*</move>|\\boxed\{\s*([^}]+?)\s*\}", re.IGNORECASE)
_MOVE_NUMBER = re.compile(r"^\d+\.+$")
_TOKEN_MOVE = re.compile(
    r"^(?:\d+\.+\s*)?"
    r"(?:[KQRBN]?[a-h]?[1-8]?[x:]?[a-h][1-8](?:=?[QRBNqrbn])?|[O0]-[O0](?:-[O0])?"
    r"|[a-h][1-8][-x]?[a-h][1-8][qrbnQRBN]?|[KQRBN][a-h][1-8][-x][a-h][1-8])[+#]?[!?]*$"
)
_STRIP = "*_`'\"()[]{}.,;:!?"


def _first_token(rest: str) -> str | None:
    """The move a label's remainder names: `**Nf3** (developing)` -> `Nf3`."""
    for raw in rest.replace("`", " ").split():
        token = raw.strip(_STRIP)
        if not token or _MOVE_NUMBER.match(raw.strip("*_`")):
            continue
        if "<" in token or ">" in token:  # an echoed template such as `<your move>`
            return None
        token = re.sub(r"^\d+\.+", "", token)  # 1.e4, 12...Nf6
        return token or None
    return None


def find_claim(text: str) -> str | None:
    """The move an answer commits to, as written, or None.

    In order: the last `MOVE:` / `Final answer:` style label, the last JSON `"move": "..."`,
    `<move>..</move>` or `\\boxed{..}`, an answer that is only a move, and a final line that is
    only a move. Moves merely mentioned in the reasoning are never taken.
    """
    if not text or not text.strip():
        return None
    labelled = [t for m in _LABEL.finditer(text) if (t := _first_token(m.group(1)))]
    if labelled:
        # The last label naming something move-shaped; else the last label, so the feedback
        # can quote what was read.
        shaped = [t for t in labelled if _TOKEN_MOVE.match(t)]
        return (shaped or labelled)[-1]
    json_moves = _JSON_MOVE.findall(text)
    if json_moves:
        return _first_token(json_moves[-1])
    tagged = _TAGGED.findall(text)
    if tagged:
        a, b = tagged[-1]
        return _first_token(a or b)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    for candidate in (text.strip(), lines[-1]):
        bare = candidate.strip(_STRIP + " ")
        if _TOKEN_MOVE.match(bare):
            return _first_token(bare)
    return None


_LAN = re.compile(r"^[KQRBN]?([a-h][1-8])[-x:]?([a-h][1-8])=?([qrbnQRBN])?[+#]?$")


def parse_claim(state: ChessState, claim: str) -> str | None:
    """The legal move (UCI) a claimed move names in SAN, UCI or long algebraic, else None."""
    token = claim.strip().strip(_STRIP)
    if not token:
        return None
    move = state.parse_move(token)
    if move is not None:
        return move
    lan = _LAN.match(token)
    if lan:
        uci = (lan.group(1) + lan.group(2) + (lan.group(3) or "")).lower()
        if state.is_legal(uci):
            return uci
    if token[0] in "nbrqk":  # a piece letter written in lower case: nf3
        return state.parse_move(token[0].upper() + token[1:])
    return None


def extract_move(state: ChessState, text: str) -> str | None:
    """The legal move (UCI) an answer commits to, or None."""
    claim = find_claim(text)
    return parse_claim(state, claim) if claim else None


# -- feedback ---------------------------------------------------------------------------------


def _why_illegal(state: ChessState, claim: str) -> str:
    board = state.board
    side = "White" if state.to_move == 0 else "Black"
    try:
        board.parse_san(claim.strip(_STRIP))
    except chess.AmbiguousMoveError:
        return "it is ambiguous: say which piece moves (e.g. Nbd2, R1e2)"
    except chess.IllegalMoveError:
        return f"it is not a legal move for {side} in this position" + (
            f" ({side} is in check)" if board.is_check() else ""
        )
    except ValueError:
        pass
    else:
        return "it could not be read as one legal move"
    if re.fullmatch(r"[a-h][1-8][a-h][1-8][qrbnQRBN]?", claim.strip(_STRIP)):
        return f"it is not a legal move for {side} in this position"
    return "it is not a move in SAN (like Nf3) or UCI (like g1f3)"


def feedback(state: ChessState, claim: str | None, *, cut_off: bool = False) -> str:
    """What a rejected answer is told before it tries again (a pure function of its input).

    It restates what is needed, the position, the legal moves and the answer format, because
    the retry conversation keeps only the end of the rejected answer (`retry_conversation`).
    `cut_off`: the answer stopped at the answer limit before naming a move.
    """
    side = "White" if state.to_move == 0 else "Black"
    legal = ", ".join(legal_sans(state))
    if claim is not None:
        head = f"`{claim}` is illegal here: {_why_illegal(state, claim)}."
    elif cut_off:
        head = (
            "Your reply was cut off at the answer limit before it named a move. Think briefly "
            f"this time and end with the line `{ANSWER_FORMAT}`."
        )
    else:
        head = f"I could not find your move. End your reply with a final line `{ANSWER_FORMAT}`."
    return (
        f"{head}\nYou play {side}. FEN: {state.position()}\nLegal moves: {legal}\n"
        f"Reply again, briefly, ending with the line `{ANSWER_FORMAT}`."
    )


ANSWER_QUOTE_CHARS = 300
"""How much of a rejected answer the retry conversation quotes back (its end, where the move
line is): enough to show the model what it said, never enough to outgrow the context."""
NO_ANSWER = "(no answer)"
"""Stands in for an empty answer in the retry conversation (providers reject empty turns)."""


def quoted_answer(raw: str) -> str:
    """The end of a rejected answer, as the retry conversation quotes it back."""
    text = raw.strip()
    if not text:
        return NO_ANSWER
    if len(text) <= ANSWER_QUOTE_CHARS:
        return text
    return "[…] " + text[-ANSWER_QUOTE_CHARS:].lstrip()


def retry_conversation(user: str, rejected: str | None, said: str | None) -> list[dict[str, str]]:
    """The turns of a try: the prompt, then (after a rejected answer) the end of that answer and
    the feedback it got. Only the last rejected answer is quoted, so the conversation has the
    same bounded size on every try, however many tries there are."""
    turns = [{"role": "user", "content": user}]
    if said is not None:
        turns += [
            {"role": "assistant", "content": quoted_answer(rejected or "")},
            {"role": "user", "content": said},
        ]
    return turns


# -- other games (OpenSpiel) ----------------------------------------------------------------------

GAME_ANSWER_FORMAT = "MOVE: <one legal move, exactly as listed>"

_GAME_LABEL = re.compile(
    r"(?im)(?:^|[\s*_>#(\[|])(?:(?:final|my|best|chosen)\s+)?move\s*[*_]*\s*[:=]\s*(.*)$"
)


def build_game_prompt(state: OpenSpielState) -> tuple[str, str]:
    """`(system, user)` for the side to move in an OpenSpiel game: the rules in brief, the board,
    the moves so far, the legal moves (their names come from the game, so they are always listed)
    and the answer format. A pure function of the state, like `build_chess_prompt`."""
    game = state.game
    info = game.info
    system = (
        f"You are a strong {game.title} player in a game against an opponent. You are shown the "
        "board, the moves played so far and the legal moves, and you choose the next move for "
        "the side to move.\n\n"
        + (f"Rules in brief: {info.rules}\n\n" if info.rules else "")
        + "Think as much as you need, then end your reply with one final line of exactly this "
        f"form:\n{GAME_ANSWER_FORMAT}\nCopy the move exactly as it is written in the list of "
        "legal moves."
    )
    side, other = state.side_name(state.to_move), state.side_name(1 - state.to_move)
    lines = [
        f"Game: {game.title}. You play {side}; the opponent plays {other}.",
        "",
        "Current board:",
        "",
        state.board(),
        "",
        f"Side to move: {side}",
        f"Moves so far: {' '.join(state.path) if state.path else 'none yet.'}",
    ]
    last = state.last_move()
    if last is not None:
        lines.append(f"Last move: {last} (by {other})")
    lines += [
        f"Legal moves: {', '.join(state.legal_moves())}",
        "",
        f"Choose your move. End your reply with the line `{GAME_ANSWER_FORMAT}`.",
    ]
    return system, "\n".join(lines)


def find_game_claim(state: OpenSpielState, text: str) -> tuple[str | None, str | None]:
    """`(claim, move)`: what an answer names after its last `MOVE:` label (else the whole answer
    or its last line) and the legal move that is, or None."""
    if not text or not text.strip():
        return None, None
    # Parentheses stay: they are part of some games' moves, `x(1,1)`.
    labelled = [m.group(1).strip().strip("*_`'\" .,;:!") for m in _GAME_LABEL.finditer(text)]
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    candidates = [c for c in labelled if c][-1:] or [text.strip(), lines[-1]]
    for candidate in candidates:
        move = state.parse_move(candidate)
        if move is None:  # `x3 (the centre column)`: the first word(s) that name a move
            words = candidate.replace("`", " ").split()
            for n in (2, 1):
                move = state.parse_move(" ".join(words[:n])) if len(words) >= n else None
                if move is not None:
                    break
        if move is not None:
            return candidate, move
    return (labelled[-1] if labelled else None), None


def game_feedback(state: OpenSpielState, claim: str | None, *, cut_off: bool = False) -> str:
    """What a rejected answer in an OpenSpiel game is told before it tries again (pure)."""
    if claim is not None:
        head = f"`{claim}` is not one of the legal moves here."
    elif cut_off:
        head = (
            "Your reply was cut off at the answer limit before it named a move. Think briefly "
            f"this time and end with the line `{GAME_ANSWER_FORMAT}`."
        )
    else:
        head = (
            f"I could not find your move. End your reply with a final line `{GAME_ANSWER_FORMAT}`."
        )
    return (
        f"{head}\nYou play {state.side_name(state.to_move)}.\n{state.board()}\n"
        f"Legal moves: {', '.join(state.legal_moves())}\n"
        f"Reply again, briefly, ending with the line `{GAME_ANSWER_FORMAT}`."
    )
