"""Sets of NAS-Bench-201 cells the studies score and compare: seeded random samples, NASLib's subset,
the isomorphism classes and the cells with an input->output path, and shards of a cell list."""
from __future__ import annotations

import random
from typing import List, Optional, Sequence

import numpy as np

from nwot.errors import NwotError

#: Cells of NAS-Bench-201 (5 ops on 6 edges).
NB201_CELLS = 15_625


def random_cells(n: int, seed: int = 0, total: int = NB201_CELLS) -> List[int]:
    """``n`` distinct NB201 indices drawn uniformly without replacement by ``random.Random(seed)``."""
    if not 0 < n <= total:
        raise NwotError(f"number of random cells must be in 1..{total}, got {n}")
    return random.Random(seed).sample(range(total), n)


def unique_mask(archs: Sequence[str]) -> np.ndarray:
    """Bool mask keeping one cell per isomorphism class (:func:`nwot.spaces.nb201.codec.unique_str`): the first
    in order."""
    from nwot.spaces.nb201.codec import unique_str

    seen, keep = set(), []
    for a in archs:
        u = unique_str(a)
        keep.append(u not in seen)
        seen.add(u)
    return np.array(keep, dtype=bool)


def path_mask(archs: Sequence[str]) -> np.ndarray:
    """Bool mask of the cells with an input->output path (:func:`nwot.spaces.nb201.codec.has_path`)."""
    from nwot.spaces.nb201.codec import has_path

    return np.array([has_path(a) for a in archs], dtype=bool)


def cell_indices(spec: str, cells_seed: int = 0, shared_data=None) -> List[int]:
    """NB201 indices of a comma list of cell sets, without duplicates, in order: ``all`` (15,625 in index
    order), ``naslib725`` (NASLib's zero-cost subset, read from the shared data, MANIFEST §1.8) or
    ``randomN`` (:func:`random_cells` ``(N, cells_seed)``)."""
    from nwot.paths import shared_data_dir
    from nwot.study.naslib import subset725_indices

    out, seen = [], set()
    for name in spec.split(","):
        name = name.strip()
        if name == "all":
            idx = list(range(NB201_CELLS))
        elif name == "naslib725":
            idx = subset725_indices(shared_data_dir(shared_data))
        elif name.startswith("random") and name[6:].isdigit():
            idx = random_cells(int(name[6:]), seed=cells_seed)
        else:
            raise NwotError(f"unknown cell set {name!r}; allowed: all, naslib725, randomN (e.g. random500)")
        for i in idx:
            if i not in seen:
                seen.add(i)
                out.append(i)
    return out


def shard(items: Sequence, spec: Optional[str]) -> list:
    """The ``I/N`` shard of a list: positions ``I, I+N, I+2N, ...`` (``None``: the whole list)."""
    if spec is None:
        return list(items)
    try:
        i, n = (int(x) for x in str(spec).split("/"))
    except ValueError:
        raise NwotError(f"--shard must be I/N with integers 0 <= I < N, got {spec!r}") from None
    if not (n >= 1 and 0 <= i < n):
        raise NwotError(f"--shard must be I/N with integers 0 <= I < N, got {spec!r}")
    return list(items)[i::n]
