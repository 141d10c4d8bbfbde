"""Widgets of the arena app; each owns its state and its messages."""
