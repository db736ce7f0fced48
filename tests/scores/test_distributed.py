"""Ray backend of full-space scoring: same numbers as the serial backend, resumable, fault tolerant.

One local Ray (2 CPUs) for the module; 24 real NB201 cells at batch size 16 on the embedded CIFAR-10
sample. The serial backend's scores are the reference (exact equality: both call the same pure
``score_chunk``, and every worker runs torch with one thread as the serial run does here).
"""
from __future__ import annotations

import math

import pytest
import ray
import torch

from nwot.errors import NwotError
from nwot.scores.job import score_space
from nwot.scores.scorer import ScoreConfig, space_archs, store_key
from nwot.scores.store import ScoreRow, ScoreStore

CFG = ScoreConfig(batch_size=16, device="cpu")
KEY = store_key("nb201", CFG)
ARCHS = space_archs("nb201", limit=24)


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """arch -> (score, NB201 index) from the serial backend, one torch thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with ScoreStore(tmp_path_factory.mktemp("serial") / "s.sqlite") as store:
            res = score_space("nb201", ARCHS, CFG, store, chunk_size=8, progress=False)
            df = store.to_frame(KEY)
    finally:
        torch.set_num_threads(threads)
    assert (res.total, res.skipped, res.scored) == (24, 0, 24)
    assert df["arch_index"].tolist() == list(range(24))  # space_archs is in NB201 index order
    assert df["value"].map(math.isfinite).sum() == 23  # index 12 has a singular kernel at this batch: -inf
    return {a: (v, i) for a, v, i in zip(df["arch"], df["value"], df["arch_index"])}


def stored(store):
    df = store.to_frame(KEY)
    return {a: (v, i) for a, v, i in zip(df["arch"], df["value"], df["arch_index"])}, df


def test_ray_matches_serial(local_ray, serial, tmp_path):
    with ScoreStore(tmp_path / "r.sqlite") as store:
        res = score_space("nb201", ARCHS, CFG, store, chunk_size=5, progress=False, backend="ray", num_workers=2)
        values, df = stored(store)
    assert (res.total, res.skipped, res.scored) == (24, 0, 24)
    assert values == serial  # identical floats and indices
    assert set(df["device"]) == {"cpu"}


def test_ray_resume_scores_only_missing_cells(local_ray, serial, tmp_path):
    pre = ARCHS[3:13]
    with ScoreStore(tmp_path / "r.sqlite") as store:
        store.put(KEY, [ScoreRow(a, serial[a][0], -1.0, serial[a][1], "pre-stored") for a in pre])
        res = score_space("nb201", ARCHS, CFG, store, chunk_size=4, progress=False, backend="ray", num_workers=2)
        values, df = stored(store)
    assert (res.total, res.skipped, res.scored) == (24, 10, 14)
    assert values == serial
    by_arch = df.set_index("arch")
    assert (by_arch.loc[pre, "device"] == "pre-stored").all() and (by_arch.loc[pre, "seconds"] == -1.0).all()
    rest = [a for a in ARCHS if a not in pre]
    assert (by_arch.loc[rest, "device"] == "cpu").all() and (by_arch.loc[rest, "seconds"] > 0).all()


def test_failed_tasks_are_retried(local_ray, serial, tmp_path):
    """Chunks 0 and 2 raise once, chunk 1 kills its worker once: all retried, store complete."""
    archs = ARCHS[:12]
    inject = tmp_path / "inject"
    inject.mkdir()
    with ScoreStore(tmp_path / "r.sqlite") as store:
        res = score_space("nb201", archs, CFG, store, chunk_size=4, progress=False, backend="ray", num_workers=2,
                          inject_failures=str(inject))
        values, _ = stored(store)
    assert res.scored == 12
    assert values == {a: serial[a] for a in archs}
    assert len([p for p in inject.iterdir() if p.name != "order.txt"]) == 3  # every chunk failed once


def test_exhausted_retries_keep_finished_chunks_then_resume(local_ray, serial, tmp_path):
    archs = ARCHS[12:24]
    inject = tmp_path / "inject"
    inject.mkdir()
    with ScoreStore(tmp_path / "r.sqlite") as store:
        with pytest.raises(NwotError, match=r"2 of 3 chunks failed.*4 cells scored are stored"):
            score_space("nb201", archs, CFG, store, chunk_size=4, progress=False, backend="ray", num_workers=2,
                        inject_failures=str(inject), retries=0)
        # chunk 1's worker crash is re-run by Ray itself (max_retries); the raising chunks 0 and 2 are not
        values, _ = stored(store)
        assert values == {a: serial[a] for a in archs[4:8]}
        res = score_space("nb201", archs, CFG, store, chunk_size=4, progress=False, backend="ray", num_workers=2)
        values, _ = stored(store)
    assert (res.skipped, res.scored) == (4, 8)
    assert values == {a: serial[a] for a in archs}
