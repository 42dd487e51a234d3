"""Curves, ranking and calibration metrics (being written)."""

__all__ = []
