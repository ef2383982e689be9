"""Cuishou 催收 — debt-collection and collections risk-control system."""

__version__ = "0.1.0"
