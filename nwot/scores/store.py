"""Persistent score store: one SQLite file, no server.

Key = (space, arch, dataset, batch_seed, batch_size, init_seed, score_name); value = score and the wall
seconds it took. Scoring jobs ask for what is :meth:`ScoreStore.missing`, compute it, and :meth:`put`
small chunks, each in its own transaction. SQLite in WAL mode makes every committed chunk survive a
``kill -9`` of the writer; the primary key makes a re-run idempotent (no duplicates).
"""
from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Sequence

from nwot.errors import StoreError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scores (
    space      TEXT    NOT NULL,
    arch       TEXT    NOT NULL,
    dataset    TEXT    NOT NULL,
    batch_seed INTEGER NOT NULL,
    batch_size INTEGER NOT NULL,
    init_seed  INTEGER NOT NULL,
    score_name TEXT    NOT NULL,
    arch_index INTEGER,            -- benchmark index when the space has one (NB201), else NULL
    value      REAL,               -- the score; -inf for a singular kernel
    seconds    REAL,               -- wall seconds to build and score
    device     TEXT,
    created    REAL    NOT NULL,   -- unix time
    status     TEXT,               -- NULL or 'ok'; else why value is NaN / a sentinel (nan, singular, no_path, error)
    reason     TEXT,               -- the failure's message
    PRIMARY KEY (space, arch, dataset, batch_seed, batch_size, init_seed, score_name)
);
"""

#: Columns added after the first release; :class:`ScoreStore` adds them to an older store when it opens it.
_ADDED_COLUMNS = (("status", "TEXT"), ("reason", "TEXT"))

KEY_FIELDS = ("space", "dataset", "batch_seed", "batch_size", "init_seed", "score_name")


@dataclass(frozen=True)
class StoreKey:
    """Everything except the arch that identifies a score."""

    space: str
    dataset: str
    batch_seed: int
    batch_size: int
    init_seed: int
    score_name: str = "naswot"  # "naswot" (clean) or "naswot-reference"


@dataclass(frozen=True)
class ScoreRow:
    arch: str
    value: float
    seconds: float
    arch_index: Optional[int] = None
    device: Optional[str] = None
    status: Optional[str] = None  # None / "ok", or a failure status (nwot.proxies.Status)
    reason: Optional[str] = None


class ScoreStore:
    """SQLite-backed score store (see module docstring).

    Opening checks what a user can get wrong and says so in one line (:class:`~nwot.errors.StoreError`):
    a folder that does not exist (it is not created behind the user's back), a folder that is not
    writable, a file that is not an SQLite database, or a damaged one.
    """

    def __init__(self, path) -> None:
        self.path = Path(path).expanduser()
        folder = self.path.parent
        if not folder.is_dir():
            raise StoreError(f"score store {self.path}: folder {folder} does not exist; create it first "
                             f"(mkdir -p {folder}) or choose another --store")
        if self.path.is_dir():
            raise StoreError(f"score store {self.path} is a folder; "
                             f"give a file name such as {self.path / 'scores.sqlite'}")
        if not self.path.exists() and not os.access(folder, os.W_OK):
            raise StoreError(f"score store {self.path}: folder {folder} is not writable (read-only file system or "
                             f"no permission); choose a writable --store")
        try:
            self._con = sqlite3.connect(str(self.path), timeout=60.0)
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=NORMAL")
            self._con.executescript(_SCHEMA)
            have = {r[1] for r in self._con.execute("PRAGMA table_info(scores)")}
            for col, typ in _ADDED_COLUMNS:
                if col not in have:  # a store written before the column existed: its rows read as status NULL
                    self._con.execute(f"ALTER TABLE scores ADD COLUMN {col} {typ}")
            self._con.commit()
            bad = self._con.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.DatabaseError as e:
            raise StoreError(_describe(self.path, e)) from e
        if bad != "ok":
            self._con.close()
            raise StoreError(f"score store {self.path} is damaged (SQLite quick_check: {bad}); restore it from an "
                             f"export (score-space --export) or move it aside and rescore")

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> ScoreStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def done(self, key: StoreKey) -> set:
        """Encoded archs already stored under ``key``."""
        cur = self._con.execute(
            "SELECT arch FROM scores WHERE " + " AND ".join(f"{f}=?" for f in KEY_FIELDS),
            tuple(getattr(key, f) for f in KEY_FIELDS))
        return {r[0] for r in cur}

    def missing(self, key: StoreKey, archs: Sequence[str]) -> List[str]:
        """``archs`` (encoded) not yet stored under ``key``, in the given order, without duplicates."""
        have = self.done(key)
        out, seen = [], set()
        for a in archs:
            if a not in have and a not in seen:
                out.append(a)
                seen.add(a)
        return out

    def put(self, key: StoreKey, rows: Iterable[ScoreRow]) -> int:
        """Insert ``rows`` in one transaction; rows already stored are kept as they are. Returns rows added."""
        k = tuple(getattr(key, f) for f in KEY_FIELDS)
        now = time.time()
        try:
            with self._con:  # one transaction: all rows or none
                cur = self._con.executemany(
                    "INSERT OR IGNORE INTO scores (space, dataset, batch_seed, batch_size, init_seed, score_name, "
                    "arch, arch_index, value, seconds, device, created, status, reason) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [k + (r.arch, r.arch_index, float(r.value), float(r.seconds), r.device, now, r.status, r.reason)
                     for r in rows])
        except sqlite3.DatabaseError as e:
            raise StoreError(_describe(self.path, e)) from e
        return cur.rowcount

    def score_names(self, space: str, dataset: str, prefix: str = "") -> List[str]:
        """Distinct ``score_name`` values stored for ``space`` / ``dataset`` that start with ``prefix``."""
        cur = self._con.execute("SELECT DISTINCT score_name FROM scores WHERE space=? AND dataset=? "
                                "AND substr(score_name, 1, ?)=? ORDER BY score_name",
                                (space, dataset, len(prefix), prefix))
        return [r[0] for r in cur]

    def count(self, key: Optional[StoreKey] = None) -> int:
        if key is None:
            return self._con.execute("SELECT COUNT(*) FROM scores").fetchone()[0]
        return len(self.done(key))

    def to_frame(self, key: Optional[StoreKey] = None):
        """Stored rows as a pandas DataFrame (all keys, or one key), ordered by arch_index then arch."""
        import pandas as pd

        sql, params = "SELECT * FROM scores", ()
        if key is not None:
            sql += " WHERE " + " AND ".join(f"{f}=?" for f in KEY_FIELDS)
            params = tuple(getattr(key, f) for f in KEY_FIELDS)
        sql += " ORDER BY arch_index, arch"
        return pd.read_sql_query(sql, self._con, params=params)


def store_scores(store: ScoreStore, key: StoreKey):
    """The scores of one key in the score-file layout (:mod:`nwot.scores.files`): ``index, arch, score, seconds``,
    and ``status`` when a row records a failure (NULL rows read as ``"ok"``)."""
    df = store.to_frame(key).rename(columns={"arch_index": "index", "value": "score"})
    status = df["status"].fillna("ok")
    if (status != "ok").any():
        return df.assign(status=status)[["index", "arch", "score", "seconds", "status"]]
    return df[["index", "arch", "score", "seconds"]]


def _describe(path: Path, e: sqlite3.DatabaseError) -> str:
    msg = str(e)
    if "not a database" in msg:
        return f"score store {path} is not an SQLite database ({msg}); give a .sqlite file written by nwot"
    if "malformed" in msg:
        return (f"score store {path} is damaged ({msg}: e.g. truncated by a full disk or a copy cut short); "
                f"restore it from an export (score-space --export) or move it aside and rescore")
    if "readonly" in msg or "read-only" in msg or "unable to open" in msg:
        return f"score store {path} cannot be written ({msg}); choose a writable --store"
    return f"score store {path}: {msg}"


def key_dict(key: StoreKey) -> dict:
    return asdict(key)
