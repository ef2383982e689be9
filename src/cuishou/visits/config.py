"""Where visit files live: ``CUISHOU_DATA_DIR`` (default ``./cuishou-data``), read at the
edge (API, pages, CLI) and handed to the service."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "CUISHOU_DATA_DIR"


def data_dir() -> Path:
    return Path(os.environ.get(DATA_DIR_ENV) or "cuishou-data")


def files_dir() -> Path:
    """The visit files' directory under the data dir (content-addressed by SHA-256)."""
    return data_dir() / "visits"
