"""Cuishou 催收 — debt-collection and collections risk-control system."""

import os

# Polars' allocator (jemalloc) gives pages it freed back to the system only when it next
# allocates, and keeps them counted in memory a second longer ("muzzy"); SQLite, another
# allocator, cannot reuse them. A large import frees gigabytes of frames while SQLite's
# page cache grows, so a background thread returns them at once: a million-row import then
# stays under 2 GB (bench/README.md). Polars adds this to its own settings when it loads,
# so it is set here, before any module imports Polars; a value set outside wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "background_thread:true,muzzy_decay_ms:0")

__version__ = "0.1.0"
