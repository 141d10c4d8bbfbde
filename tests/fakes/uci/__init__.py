"""Fake UCI engines, each an executable script: `uci:PATH` runs them as a user's engine would."""

from pathlib import Path

HERE = Path(__file__).resolve().parent
HANGS_AFTER_HANDSHAKE = HERE / "hangs_after_handshake.py"
BABBLES = HERE / "babbles.py"
NEVER_HANDSHAKES = HERE / "never_handshakes.py"
BAD_BESTMOVE = HERE / "bad_bestmove.py"
