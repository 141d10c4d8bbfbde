#!/usr/bin/env python3
"""A UCI engine that finishes the handshake, answers `isready`, then ignores `go` and `stop`."""

import sys

for line in sys.stdin:
    command = line.strip()
    if command == "uci":
        print("id name HangsAfterHandshake", flush=True)
        print("option name MultiPV type spin default 1 min 1 max 500\nuciok", flush=True)
    elif command == "isready":
        print("readyok", flush=True)
    elif command == "quit":
        break
