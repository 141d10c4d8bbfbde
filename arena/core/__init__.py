"""The pure domain: game protocol, actors, events, the match runner and the speculation engine.

Nothing here imports a UI or an I/O library (enforced by tests/unit/test_layering.py).
"""
