"""Scores of many architectures: :mod:`.store` (SQLite), :mod:`.job` (serial | Ray), :mod:`.files` (export format)."""
