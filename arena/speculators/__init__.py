"""Predictors of the opponent's next move."""
