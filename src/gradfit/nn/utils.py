"""Utilities: gradient clipping, parameter vectors, explicit penalties (placeholder, filled below)."""

from __future__ import annotations
