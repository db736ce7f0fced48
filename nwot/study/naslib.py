"""NASLib's NAS-Bench-201 files: the tuple encoding and the zero-cost scores of its 725-cell subset.

NASLib (White et al., "NAS-Bench-Suite-Zero", NeurIPS 2022 Datasets & Benchmarks) names an NB201 cell by
a tuple of 6 op ids over its own edge order; shared data MANIFEST §0 / §1.8 describe the files. The
loaders open files; :func:`naslib_tuple_to_arch` is the pure conversion rule.
"""
from __future__ import annotations

import ast
import csv
import json
import lzma
from pathlib import Path
from typing import Dict, List, Mapping, Tuple

import pandas as pd

from nwot.errors import BenchmarkFileError, NwotError

#: NASLib's NB201 op ids (``OP_NAMES``) and edge order (0-based ``EDGE_LIST``), MANIFEST §0.
NASLIB_OPS = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
NASLIB_EDGES = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
#: Where the files lie under the shared data root.
INDEX_ENCODINGS = Path("nb201") / "derived" / "nb201_index_encodings.csv.xz"
ZC_SUBSET725 = Path("nb201") / "naslib" / "zc_nasbench201_subset725.json.xz"
#: Datasets of the zero-cost file.
ZC_DATASETS = ("cifar10", "cifar100", "ImageNet16-120")


def load_naslib_index_map(path) -> Dict[str, int]:
    """NASLib tuple string ``"(0, 2, 3, 2, 3, 1)"`` -> NB201 index, from ``nb201_index_encodings.csv.xz``."""
    with lzma.open(path, "rt", encoding="utf-8", newline="") as f:
        return {r["naslib_op_indices"]: int(r["index"]) for r in csv.DictReader(f)}


def load_naslib_zc(path, index_map: Mapping[str, int], *, dataset: str = "cifar10",
                   proxy: str = "nwot") -> pd.DataFrame:
    """NASLib's zero-cost scores (``zc_nasbench201_*.json.xz``) as a DataFrame indexed by NB201 index.

    Columns ``naslib_score`` (``proxy``'s score; NASLib's NASWOT is ``nwot``) and ``val_accuracy``
    (despite the name, a single-seed 200-epoch test-split accuracy: shared data MANIFEST §1.8).
    """
    with lzma.open(path, "rt", encoding="utf-8") as f:
        data = json.load(f)
    if dataset not in data:
        raise NwotError(f"unknown dataset {dataset!r} in {path}; allowed: {', '.join(map(repr, data))}")
    rows = []
    for key, rec in data[dataset].items():
        if key not in index_map:
            raise BenchmarkFileError(f"NASLib tuple {key!r} in {path} has no NB201 index")
        rows.append((index_map[key], key, float(rec[proxy]["score"]), float(rec["val_accuracy"])))
    df = pd.DataFrame(rows, columns=["index", "naslib_tuple", "naslib_score", "val_accuracy"])
    return df.set_index("index").sort_index()


def load_subset725(shared_root, dataset: str = "cifar10") -> pd.DataFrame:
    """:func:`load_naslib_zc` of the 725-cell subset under the shared data root (MANIFEST §1.8)."""
    root = Path(shared_root)
    return load_naslib_zc(root / ZC_SUBSET725, load_naslib_index_map(root / INDEX_ENCODINGS), dataset=dataset)


def subset725_indices(shared_root) -> List[int]:
    """NB201 indices of the cells of NASLib's zero-cost subset, over its three datasets, sorted."""
    root = Path(shared_root)
    imap = load_naslib_index_map(root / INDEX_ENCODINGS)
    return sorted(set().union(*(load_naslib_zc(root / ZC_SUBSET725, imap, dataset=d).index for d in ZC_DATASETS)))


def naslib_tuple_to_arch(key: str) -> Tuple[str, ...]:
    """NASLib tuple string -> nwot NB201 arch (6 op names in arch-string order), by NASLib's conversion rule:
    op id ``k`` on NASLib edge ``e`` is ``NASLIB_OPS[k]`` on nwot edge ``e``."""
    from nwot.spaces.nb201.codec import EDGES, check_ops

    try:
        ids = ast.literal_eval(key)
    except (ValueError, SyntaxError) as e:
        raise NwotError(f"malformed NASLib tuple {key!r}: {e}") from e
    if not isinstance(ids, tuple) or len(ids) != len(NASLIB_EDGES) or \
            not all(isinstance(i, int) and 0 <= i < len(NASLIB_OPS) for i in ids):
        raise NwotError(f"a NASLib NB201 tuple has 6 op ids in 0..{len(NASLIB_OPS) - 1}, got {key!r}")
    by_edge = {e: NASLIB_OPS[i] for e, i in zip(NASLIB_EDGES, ids)}
    return check_ops([by_edge[e] for e in EDGES])
