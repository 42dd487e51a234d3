"""Classification metrics (being written)."""

__all__ = []
