"""Screens of the arena app: home, live match, replays, replay viewer, dialogs."""
