#!/usr/bin/env python3
"""An engine that answers every line with garbage and never says `uciok`."""

import sys

for n, line in enumerate(sys.stdin):
    print(f"\x1b[31m?? {n} {line.strip()[::-1]} \ufffd bestmove", flush=True)
