"""The asynchronous controller's persistent state: one SQLite file per search (or per set of searches).

Three things are kept, each written in the same transaction as the event that changes it, so a controller
killed at any point (``kill -9``) finds a consistent state when it restarts:

* ``runs``: one row per search run (its key: strategy, options, seed, space, evaluator), the wall seconds
  its sessions took, how often it was resumed, and its result once finished;
* ``events``: the history, every step in order -- ``charge`` (an evaluation the strategy ran itself, e.g.
  a NASWOT screen score), ``ask`` (the candidates one ``strategy.ask()`` returned), ``result`` (a
  candidate's evaluation arrived and was charged to the budget), ``tell`` (candidates told to the
  strategy), ``discard`` (an evaluation that did not fit the seconds budget: the search stopped there);
* ``candidates``: one row per asked candidate -- its encoding, its status (:data:`STATUSES`), attempts,
  the reason of its last failed attempt, the worker that evaluated it and its evaluation (signal, cost,
  info, failure);
* ``snapshots``: the strategy's own snapshot after the last ask / tell, for strategies that have one
  (``snapshot()`` / ``restore()``, e.g. LSE).

Values are JSON (``Infinity`` / ``NaN`` allowed); an evaluation's ``info`` is stored as far as it is JSON
(tuples come back as lists, other objects as their ``str``).
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from nwot.errors import StoreError
from nwot.evaluators.base import Evaluation

#: Candidate statuses: asked but not sent to a worker, sent (``attempts`` times), evaluated (ok / failed
#: evaluation), evaluated but over the seconds budget, or in flight when the search stopped.
STATUSES = ("pending", "running", "done", "failed", "discarded", "cancelled")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id   INTEGER PRIMARY KEY,
    run_key  TEXT UNIQUE NOT NULL,   -- sha1 of the run's identity (see AsyncStore.open_run)
    identity TEXT NOT NULL,          -- that identity as JSON
    created  REAL NOT NULL,
    sessions INTEGER NOT NULL,       -- controller sessions that worked on the run (1 + resumes)
    wall     REAL NOT NULL,          -- wall seconds of all sessions
    result   TEXT                    -- the SearchResult as JSON once finished (NULL before)
);
CREATE TABLE IF NOT EXISTS events (
    run_id  INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    kind    TEXT NOT NULL,           -- charge | ask | result | tell | discard
    payload TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS candidates (
    run_id   INTEGER NOT NULL,
    cid      INTEGER NOT NULL,       -- 0, 1, ... in ask order
    arch     TEXT NOT NULL,          -- encoded
    status   TEXT NOT NULL,
    attempts INTEGER NOT NULL,       -- times sent to a worker
    reason   TEXT,                   -- why the last attempt failed (a crashed or raising worker)
    worker   TEXT,                   -- node:pid that returned the evaluation
    signal   REAL,                   -- the evaluation's signal and cost (for queries; NaN is stored as NULL)
    cost     REAL,
    failure  TEXT,                   -- Evaluation.failure
    evaluation TEXT,                 -- the whole evaluation as JSON (signal, cost, info, failure): read back
    updated  REAL NOT NULL,
    PRIMARY KEY (run_id, cid)
);
CREATE TABLE IF NOT EXISTS snapshots (
    run_id INTEGER PRIMARY KEY,
    seq    INTEGER NOT NULL,         -- the event after which it was taken
    state  TEXT NOT NULL
);
"""


def _jsonable(x: Any) -> Any:
    item = getattr(x, "item", None)  # numpy / torch scalars
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError):
            pass
    return str(x)


def dumps(x: Any) -> str:
    return json.dumps(x, default=_jsonable, sort_keys=True)


@dataclass
class Candidate:
    """One row of ``candidates``."""

    cid: int
    arch: str
    status: str
    attempts: int
    reason: Optional[str]
    worker: Optional[str]
    evaluation: Optional[Evaluation]  # None until it arrived


@dataclass(frozen=True)
class Event:
    seq: int
    kind: str
    payload: Dict[str, Any]


class AsyncStore:
    """SQLite state of asynchronous searches (see the module docstring). The folder must exist."""

    def __init__(self, path: os.PathLike) -> None:
        self.path = Path(path).expanduser()
        if not self.path.parent.is_dir():
            raise StoreError(f"controller state {self.path}: folder {self.path.parent} does not exist; create it "
                             f"first or choose another state file")
        if self.path.is_dir():
            raise StoreError(f"controller state {self.path} is a folder; give a file name such as "
                             f"{self.path / 'controller.sqlite'}")
        try:
            self._con = sqlite3.connect(str(self.path), timeout=60.0, isolation_level=None)
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=NORMAL")
            self._con.executescript(_SCHEMA)
        except sqlite3.DatabaseError as e:
            raise StoreError(f"controller state {self.path}: {e} (give a .sqlite file written by nwot, or a new "
                             f"name)") from e
        self._seq: Dict[int, int] = {}

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> AsyncStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- transactions ------------------------------------------------------------------------------
    def _begin(self) -> None:
        self._con.execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        self._con.execute("COMMIT")

    def _event(self, run_id: int, kind: str, payload: Dict[str, Any]) -> int:
        seq = self._seq[run_id]
        self._con.execute("INSERT INTO events VALUES (?,?,?,?,?)", (run_id, seq, kind, dumps(payload), time.time()))
        self._seq[run_id] = seq + 1
        return seq

    def _snapshot(self, run_id: int, seq: int, state: Optional[Dict[str, Any]]) -> None:
        if state is not None:
            self._con.execute("INSERT OR REPLACE INTO snapshots VALUES (?,?,?)", (run_id, seq, dumps(state)))

    def _txn(self, fn) -> Any:
        self._begin()
        try:
            out = fn()
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._commit()
        return out

    # -- runs --------------------------------------------------------------------------------------
    def open_run(self, run_key: str, identity: Dict[str, Any]) -> Tuple[int, bool]:
        """``(run_id, resumed)``: the run's row, created when new; a resumed run counts one more session."""
        row = self._con.execute("SELECT run_id FROM runs WHERE run_key=?", (run_key,)).fetchone()
        if row is None:
            cur = self._txn(lambda: self._con.execute(
                "INSERT INTO runs (run_key, identity, created, sessions, wall) VALUES (?,?,?,1,0)",
                (run_key, dumps(identity), time.time())))
            run_id, resumed = int(cur.lastrowid), False
        else:
            run_id, resumed = int(row[0]), True
            self._txn(lambda: self._con.execute("UPDATE runs SET sessions = sessions + 1 WHERE run_id=?", (run_id,)))
        last = self._con.execute("SELECT MAX(seq) FROM events WHERE run_id=?", (run_id,)).fetchone()[0]
        self._seq[run_id] = 0 if last is None else int(last) + 1
        return run_id, resumed

    def run_info(self, run_id: int) -> Dict[str, Any]:
        sessions, wall, result = self._con.execute(
            "SELECT sessions, wall, result FROM runs WHERE run_id=?", (run_id,)).fetchone()
        return {"sessions": int(sessions), "wall": float(wall),
                "result": None if result is None else json.loads(result)}

    def add_wall(self, run_id: int, seconds: float) -> None:
        self._txn(lambda: self._con.execute("UPDATE runs SET wall = wall + ? WHERE run_id=?", (seconds, run_id)))

    def finish(self, run_id: int, result: Dict[str, Any]) -> None:
        self._txn(lambda: self._con.execute("UPDATE runs SET result=? WHERE run_id=?", (dumps(result), run_id)))

    # -- history -----------------------------------------------------------------------------------
    def record_ask(self, run_id: int, archs: Sequence[str], charges: Sequence[Tuple[str, str, Evaluation]],
                   first_cid: int, snapshot: Optional[Dict[str, Any]]) -> List[int]:
        """The strategy's charges (``(encoded arch, kind, evaluation)``), then the ask of ``archs`` (new
        candidates ``first_cid, first_cid + 1, ...``, pending), and the snapshot after it, in one transaction."""
        cids = list(range(first_cid, first_cid + len(archs)))

        def write():
            now = time.time()
            for enc, kind, ev in charges:
                self._event(run_id, "charge", {"arch": enc, "kind": kind, **_ev_dict(ev)})
            if cids:
                self._con.executemany("INSERT INTO candidates (run_id, cid, arch, status, attempts, updated) "
                                      "VALUES (?,?,?,'pending',0,?)",
                                      [(run_id, c, a, now) for c, a in zip(cids, archs)])
                seq = self._event(run_id, "ask", {"cids": cids})
                self._snapshot(run_id, seq, snapshot)
        self._txn(write)
        return cids

    def record_sent(self, run_id: int, cid: int, attempts: int) -> None:
        self._txn(lambda: self._con.execute("UPDATE candidates SET status='running', attempts=?, updated=? "
                                            "WHERE run_id=? AND cid=?", (attempts, time.time(), run_id, cid)))

    def record_retry(self, run_id: int, cid: int, reason: str) -> None:
        """A worker crashed or raised on ``cid``: it goes back to pending with the reason."""
        self._txn(lambda: self._con.execute("UPDATE candidates SET status='pending', reason=?, updated=? "
                                            "WHERE run_id=? AND cid=?", (reason, time.time(), run_id, cid)))

    def record_result(self, run_id: int, cid: int, ev: Evaluation, worker: Optional[str], *, discarded: bool = False,
                      tell: Sequence[int] = (), snapshot: Optional[Dict[str, Any]] = None) -> None:
        """``cid``'s evaluation arrived: stored with its status, then the ``result`` event (``discard`` when it
        did not fit the budget), the ``tell`` of ``tell`` (if any) and the snapshot after it, in one transaction."""
        status = "discarded" if discarded else ("done" if ev.ok else "failed")

        def write():
            self._con.execute(
                "UPDATE candidates SET status=?, worker=?, signal=?, cost=?, failure=?, evaluation=?, updated=? "
                "WHERE run_id=? AND cid=?", (status, worker, float(ev.signal), float(ev.cost), ev.failure,
                                             dumps(_ev_dict(ev)), time.time(), run_id, cid))
            self._event(run_id, "discard" if discarded else "result", {"cid": cid})
            if tell:
                seq = self._event(run_id, "tell", {"cids": list(tell)})
                self._snapshot(run_id, seq, snapshot)
        self._txn(write)

    def record_tell(self, run_id: int, cids: Sequence[int], snapshot: Optional[Dict[str, Any]]) -> None:
        def write():
            seq = self._event(run_id, "tell", {"cids": list(cids)})
            self._snapshot(run_id, seq, snapshot)
        self._txn(write)

    def record_cancelled(self, run_id: int, cids: Sequence[int]) -> None:
        self._txn(lambda: self._con.executemany(
            "UPDATE candidates SET status='cancelled', updated=? WHERE run_id=? AND cid=?",
            [(time.time(), run_id, c) for c in cids]))

    # -- reading -----------------------------------------------------------------------------------
    def events(self, run_id: int) -> List[Event]:
        cur = self._con.execute("SELECT seq, kind, payload FROM events WHERE run_id=? ORDER BY seq", (run_id,))
        return [Event(int(s), k, json.loads(p)) for s, k, p in cur]

    def candidates(self, run_id: int) -> Dict[int, Candidate]:
        cur = self._con.execute("SELECT cid, arch, status, attempts, reason, worker, evaluation "
                                "FROM candidates WHERE run_id=? ORDER BY cid", (run_id,))
        out = {}
        for cid, arch, status, attempts, reason, worker, evaluation in cur:
            ev = ev_from_dict(json.loads(evaluation)) if evaluation else None
            out[int(cid)] = Candidate(int(cid), arch, status, int(attempts), reason, worker, ev)
        return out

    def snapshot(self, run_id: int) -> Optional[Tuple[int, Dict[str, Any]]]:
        row = self._con.execute("SELECT seq, state FROM snapshots WHERE run_id=?", (run_id,)).fetchone()
        return None if row is None else (int(row[0]), json.loads(row[1]))

    def status_counts(self, run_id: Optional[int] = None) -> Dict[str, int]:
        """Candidates per status (all runs, or one)."""
        sql, params = "SELECT status, COUNT(*) FROM candidates", ()
        if run_id is not None:
            sql, params = sql + " WHERE run_id=?", (run_id,)
        return {s: int(n) for s, n in self._con.execute(sql + " GROUP BY status", params)}


def _ev_dict(ev: Evaluation) -> Dict[str, Any]:
    return {"signal": float(ev.signal), "cost": float(ev.cost), "info": ev.info, "failure": ev.failure}


def ev_from_dict(d: Dict[str, Any]) -> Evaluation:
    return Evaluation(float(d["signal"]), float(d["cost"]), dict(d.get("info") or {}), d.get("failure"))
