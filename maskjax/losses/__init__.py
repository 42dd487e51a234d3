"""Losses: see DESIGN.md. Re-exports one name per line."""

__all__ = []
