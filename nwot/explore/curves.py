"""NATS-Bench training curves of one cell (Dong et al., TPAMI 2021): accuracy per epoch from an archive folder.

``nwot.get_benchmark("nats-tss", path=nats_dir).query(index, dataset, "200", epoch=e)`` for every epoch
``e`` of the 200-epoch schedule, every dataset and every split the record stores. A folder that lacks
the cell's record (the staged archive has 3 of 15,625) gives the adapter's message, not a crash.
"""
from __future__ import annotations

import functools
from typing import Tuple, Union

import pandas as pd

from nwot.errors import NwotError

EPOCHS = 200


@functools.lru_cache(maxsize=4)
def _bench(nats_dir: str):
    import nwot

    return nwot.get_benchmark("nats-tss", path=nats_dir)


@functools.lru_cache(maxsize=64)
def nats_curves(nats_dir: str, index: int) -> Union[pd.DataFrame, str]:
    """Long frame ``dataset, split, epoch, accuracy, loss`` (epoch 1-based), or a message saying why not."""
    try:
        bench = _bench(str(nats_dir))
        rows = []
        for ds in bench.datasets:
            for e in range(EPOCHS):
                r = bench.query(int(index), ds, str(EPOCHS), epoch=e)
                for split, v in r.splits.items():
                    if v.accuracy is not None:
                        rows.append((ds, split, e + 1, v.accuracy, v.loss))
    except NwotError as err:
        return str(err)
    return pd.DataFrame(rows, columns=["dataset", "split", "epoch", "accuracy", "loss"])


def curve_summary(curves: pd.DataFrame) -> Tuple[Tuple[str, str, float], ...]:
    """(dataset, split, final accuracy) per curve."""
    last = curves[curves["epoch"] == curves["epoch"].max()]
    return tuple((r.dataset, r.split, float(r.accuracy)) for r in last.itertuples())
