"""Identifiers for tasks and runs."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone


def new_id() -> str:
    """A short random id, url- and file-name-safe (16 hex chars)."""
    return secrets.token_hex(8)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def timestamp_for_filename(moment: datetime) -> str:
    """``2026-11-23T04-55-12`` : sorts by time and is valid on every filesystem."""
    return moment.strftime("%Y-%m-%dT%H-%M-%S")
