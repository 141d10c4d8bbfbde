"""Game implementations."""
