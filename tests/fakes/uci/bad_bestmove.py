#!/usr/bin/env python3
"""A UCI engine whose every `go` answers an illegal move."""

import sys

for line in sys.stdin:
    command = line.strip()
    if command == "uci":
        print("id name BadBestmove\nuciok", flush=True)
    elif command == "isready":
        print("readyok", flush=True)
    elif command.startswith("go"):
        print("info depth 1 score cp 0\nbestmove z9z9", flush=True)
    elif command == "quit":
        break
