"""Errors shared by every layer of openworks, below all of them (no imports)."""

from __future__ import annotations

__all__ = ["ConfigError"]


class ConfigError(Exception):
    """The settings (a flag, a variable, a database URL) cannot be used; the message, one
    line, says why and what to do. ``openworks serve`` and the CLI print it and exit 2."""
