"""A compact SQLite table built once from an official NAS-Bench-101 ``.tfrecord``.

Schema (``FORMAT_VERSION`` 1)::

    meta(key, value)                       source file name/size, counts, version
    cells(idx, hash, adjacency, operations, params)
        idx = order of first appearance of the hash in the tfrecord (= official ``hash_iterator`` order)
    runs(idx, epochs, repeat, halfway_*, final_*, total_time)
        repeat = order of appearance of (hash, epochs) rows (0, 1, 2); * = time, train, valid, test
        halfway = ``evaluation_data[1]``, final = ``evaluation_data[2]`` (official ``NASBench.__init__``)

Accuracies are stored as the fractions of the file; times in seconds; ``params`` is the official
``trainable_parameters`` of the first row of the hash.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Dict, Optional, Tuple, Union

from nwot.adapters.nb101.tfrecord import iter_rows
from nwot.errors import BenchmarkFileError

FORMAT_VERSION = "1"
RUN_FIELDS = ("halfway_time", "halfway_train", "halfway_valid", "halfway_test",
              "final_time", "final_train", "final_valid", "final_test", "total_time")
_SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE cells (idx INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, adjacency TEXT NOT NULL,
                    operations TEXT NOT NULL, params INTEGER NOT NULL);
CREATE TABLE runs (idx INTEGER NOT NULL, epochs INTEGER NOT NULL, repeat INTEGER NOT NULL,
                   {", ".join(f"{f} REAL NOT NULL" for f in RUN_FIELDS)},
                   PRIMARY KEY (idx, epochs, repeat)) WITHOUT ROWID;
"""


def default_table_path(tfrecord: Union[str, Path]) -> Path:
    """``<file>.nwot.sqlite`` beside the tfrecord."""
    p = Path(tfrecord)
    return p.with_name(p.name + ".nwot.sqlite")


def build_table(tfrecord: Union[str, Path], table: Union[str, Path], *, verify_crc: bool = True,
                verify_hashes: bool = False, progress: bool = True) -> Path:
    """Parse ``tfrecord`` once into the SQLite ``table`` (written to a temp file, then renamed).

    ``verify_hashes`` recomputes every stored ``module_hash`` from its adjacency and ops with
    :func:`nwot.spaces.nb101.codec.spec_hash` and raises :class:`BenchmarkFileError` on a mismatch.
    """
    tfrecord, table = Path(tfrecord), Path(table)
    if not tfrecord.is_file():
        raise BenchmarkFileError(f"NAS-Bench-101 file not found: {tfrecord}")
    size = tfrecord.stat().st_size
    tmp = table.with_name(table.name + f".tmp{os.getpid()}")
    if tmp.exists():
        tmp.unlink()
    con = sqlite3.connect(tmp)
    try:
        # a temp file renamed into place at the end: no journal or fsync needed while building
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("PRAGMA synchronous = OFF")
        con.executescript(_SCHEMA)
        cells: Dict[str, int] = {}
        repeats: Dict[Tuple[int, int], int] = {}
        batch = []
        n_rows = 0
        bar = _bar(size, f"building NB101 table from {tfrecord.name}", progress)
        for row in iter_rows(tfrecord, verify=verify_crc, progress=bar.update if bar else None):
            idx = cells.get(row.module_hash)
            if idx is None:
                if verify_hashes:
                    _check_hash(row)
                idx = cells[row.module_hash] = len(cells)
                con.execute("INSERT INTO cells VALUES (?, ?, ?, ?, ?)",
                            (idx, row.module_hash, row.raw_adjacency, row.raw_operations,
                             row.metrics.trainable_parameters))
            evals = row.metrics.evaluation_data
            if len(evals) < 3:
                raise BenchmarkFileError(f"{tfrecord}: row {n_rows} ({row.module_hash}, {row.epochs} epochs) has "
                                         f"{len(evals)} evaluations; the format stores 3 (start, halfway, end)")
            rep = repeats.get((idx, row.epochs), 0)
            repeats[(idx, row.epochs)] = rep + 1
            half, final = evals[1], evals[2]
            batch.append((idx, row.epochs, rep,
                          half.training_time, half.train_accuracy, half.validation_accuracy, half.test_accuracy,
                          final.training_time, final.train_accuracy, final.validation_accuracy, final.test_accuracy,
                          row.metrics.total_time))
            n_rows += 1
            if len(batch) >= 50_000:
                con.executemany(f"INSERT INTO runs VALUES ({', '.join('?' * (3 + len(RUN_FIELDS)))})", batch)
                batch.clear()
        if batch:
            con.executemany(f"INSERT INTO runs VALUES ({', '.join('?' * (3 + len(RUN_FIELDS)))})", batch)
        if bar:
            bar.close()
        if not cells:
            raise BenchmarkFileError(f"{tfrecord} holds no records")
        meta = {"format_version": FORMAT_VERSION, "source_name": tfrecord.name, "source_size": str(size),
                "num_cells": str(len(cells)), "num_runs": str(n_rows),
                "epochs": ",".join(str(e) for e in sorted({e for _, e in repeats}))}
        con.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        con.commit()
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(tmp, table)
    return table


def _check_hash(row) -> None:
    from nwot.spaces.nb101.codec import from_raw, spec_hash

    computed = spec_hash(from_raw(row.raw_adjacency, row.raw_operations))
    if computed != row.module_hash:
        raise BenchmarkFileError(f"NB101 row hash {row.module_hash} does not match its graph "
                                 f"({row.raw_adjacency}|{row.raw_operations} hashes to {computed})")


def _bar(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, desc=desc)


def read_meta(table: Union[str, Path]) -> Dict[str, str]:
    con = sqlite3.connect(f"file:{Path(table)}?mode=ro", uri=True)
    try:
        return dict(con.execute("SELECT key, value FROM meta"))
    except sqlite3.DatabaseError as e:
        raise BenchmarkFileError(f"{table} is not an nwot NB101 table ({e})") from e
    finally:
        con.close()


def table_is_current(table: Path, tfrecord: Optional[Path]) -> bool:
    """True when ``table`` exists, has this format version and (if given) matches the tfrecord's name and size."""
    if not table.is_file():
        return False
    try:
        meta = read_meta(table)
    except BenchmarkFileError:
        return False
    if meta.get("format_version") != FORMAT_VERSION:
        return False
    if tfrecord is None:
        return True
    return meta.get("source_name") == tfrecord.name and meta.get("source_size") == str(tfrecord.stat().st_size)
