"""Judging predictions: the competition score, error statistics, reference predictors."""
