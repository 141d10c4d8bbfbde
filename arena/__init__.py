"""Arena: a terminal arena where language models play turn-based games, fast."""

__version__ = "0.1.0"
