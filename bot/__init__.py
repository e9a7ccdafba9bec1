"""Lucia's on-call bot."""

__all__ = ["__version__"]

__version__ = "0.1.0"
