"""Actors: UCI engines, LLMs, humans, random, traces."""
