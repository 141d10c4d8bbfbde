"""The Textual front end: `ArenaApp` and its screens and widgets."""
