"""NDS benchmark adapter: the trained networks of "On Network Design Spaces for Visual Recognition".

Radosavovic et al., ICCV 2019, https://github.com/facebookresearch/nds. The data (``data.zip`` linked
from that README) holds one JSON file per design space and setting: ``Amoeba.json``, ``DARTS.json``,
``ENAS.json``, ``NASNet.json``, ``PNAS.json``, ``ResNet.json``, ``ResNeXt-A.json``, ``ResNeXt-B.json``,
``Vanilla.json`` (CIFAR-10), variants ``<space>_fix-w-d`` (width and depth fixed), ``<space>_lr-wd``
(learning rate and weight decay sampled too), ``<space>_in`` (ImageNet), ``_reruns`` / ``_rng<k>``.

A file is a list of job records (the NDS notebooks' ``load_sweep``; ``_reruns`` files are a dict
``{"top": [...], "mid": [...]}``, read as top then mid, as the NASWOT and NNI loaders do). Keys used
here (the notebooks' ``_KEYS_TO_CP`` / ``_KEYS_TO_AVG`` / ``_KEYS_TO_APPEND`` and NNI's NDS importer):

* ``net``: the architecture config (see :mod:`nwot.spaces.nds.codec`);
* ``test_ep_top1`` / ``train_ep_top1``: top-1 *error* (%) after each epoch; ``train_ep_loss``;
  ``min_test_top1``: the lowest test error over epochs;
* ``params``: learnable parameters (a count; the notebooks plot ``params * 1e-6`` as "params (M)");
  ``flops``: pycls multiply-adds (a count; plotted as ``flops * 1e-9`` "flops (B)");
* ``optim`` (``base_lr``, ``wd``, ``max_ep``, ...), ``rng_seed``, ``job_id``; others are ignored.

Accuracy as the NASWOT paper uses it (Mellor et al., ICML 2021; their released ``nasspace.py``
``NDS.get_final_accuracy``) is ``100 - test_ep_top1[-1]``: the CIFAR-10 test accuracy after the last
epoch. Here it is split ``ori-test`` at ``hp="final"`` (``epoch=e``, 0-based like the official ``iepoch``,
gives it after epoch ``e + 1``).
Every record is one index (one trained job, one seed); ``params`` is reported in MB (1e6 parameters)
and ``flops`` in millions, like the other benchmarks.

Open a file with ``get_benchmark("nds", path="DARTS.json")`` (space from the file name) or
``get_benchmark("nds", path=folder, space="DARTS")`` (``<folder>/DARTS.json``); without ``path`` the
folder ``$NWOT_NDS_DIR`` is used.
"""
from __future__ import annotations

import gzip
import json
import lzma
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from nwot.adapters.base import Benchmark, QueryResult, SeedLike, SplitResult, register_benchmark, resolve_seed
from nwot.errors import BenchmarkFileError, NwotError, OutOfSpaceError
from nwot.spaces.nds.codec import NDS_URL, SPACE_NAMES, canonical_net, check_net, to_arch

#: Folder holding the extracted NDS data (``<space>.json`` files), used when no path is given.
NDS_DIR_ENV = "NWOT_NDS_DIR"
#: The one schedule each file stores: its final epoch (``optim.max_ep``).
HPS: Tuple[str, ...] = ("final",)
#: Benchmark split holding ``test_ep_top1`` (CIFAR-10 official test set / ImageNet val).
TEST_SPLIT = "ori-test"
_OPENERS = {".xz": lzma.open, ".gz": gzip.open}


@dataclass(frozen=True)
class NDSRecord:
    """One trained network of an NDS file (errors in %, as stored)."""

    index: int  # position in the file (top then mid for _reruns files)
    arch: str  # canonical JSON of ``net``
    test_error: Tuple[float, ...]  # test_ep_top1: top-1 test error (%) after each epoch
    params: float  # learnable parameters (count)
    flops: float  # multiply-adds (count)
    train_error: Optional[Tuple[float, ...]] = None  # train_ep_top1
    train_loss: Optional[Tuple[float, ...]] = None  # train_ep_loss (NaN where training diverged)
    min_test_error: Optional[float] = None  # min_test_top1
    rng_seed: Optional[int] = None
    job_id: Optional[Union[int, str]] = None
    optim: Optional[str] = None  # canonical JSON of ``optim``
    group: Optional[str] = None  # "top" / "mid" in _reruns files

    @property
    def epochs(self) -> int:
        return len(self.test_error)

    @property
    def test_accuracy(self) -> float:
        """``100 - test_ep_top1[-1]`` (the NASWOT paper's NDS accuracy)."""
        return 100.0 - self.test_error[-1]

    def optim_value(self, key: str) -> Any:
        return None if self.optim is None else json.loads(self.optim).get(key)


@dataclass(frozen=True)
class FileName:
    """What an NDS file stem says: ``<space>[_<variant>]``, e.g. ``DARTS_lr-wd_in``."""

    space: str  # one of SPACE_NAMES
    variant: str  # "" or e.g. "fix-w-d", "lr-wd", "in", "lr-wd_in", "reruns", "rng1"
    dataset: str  # "imagenet" if the variant has an "in" part, else "cifar10"


def parse_file_name(path: Union[str, os.PathLike]) -> Optional[FileName]:
    """Parse ``<space>[_<variant>].json`` (also ``.json.xz`` / ``.json.gz``); None if the space is not an NDS one."""
    name = Path(path).name
    for suffix in (".xz", ".gz"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    if name.endswith(".json"):
        name = name[: -len(".json")]
    space, _, variant = name.partition("_")
    if space not in SPACE_NAMES:
        return None
    return FileName(space, variant, "imagenet" if "in" in variant.split("_") else "cifar10")


def resolve_file(path: Optional[Union[str, os.PathLike]], space: Optional[str]) -> Path:
    """The NDS file for ``path`` (a file, or a folder + ``space`` file stem); missing -> BenchmarkFileError."""
    where = f"download data.zip from {NDS_URL} (README), unzip it, and pass its .json file"
    if path is None:
        env = os.environ.get(NDS_DIR_ENV)
        if not env:
            raise BenchmarkFileError(f"NDS needs a space file: {where} as path=... (CLI: --file), or set "
                                     f"${NDS_DIR_ENV} to the folder of the .json files")
        path = env
    p = Path(path).expanduser()
    if p.is_dir():
        if space is None:
            raise BenchmarkFileError(f"{p} is a folder; name the NDS space (space='DARTS', ...; allowed: "
                                     f"{', '.join(SPACE_NAMES)}, optionally with a variant such as 'DARTS_fix-w-d')")
        for candidate in (p / f"{space}.json", p / f"{space}.json.xz", p / f"{space}.json.gz"):
            if candidate.is_file():
                return candidate
        raise BenchmarkFileError(f"NDS file {p / (space + '.json')} not found; {where}")
    if not p.is_file():
        raise BenchmarkFileError(f"NDS file {p} not found; {where}")
    return p


def read_jobs(path: Path) -> List[Tuple[Optional[str], Any]]:
    """``[(group, raw record), ...]`` of a file: a list, or a ``{"top": [...], "mid": [...]}`` dict."""
    opener = _OPENERS.get(path.suffix, open)
    try:
        with opener(path, "rt") as f:
            data = json.load(f)
    except (OSError, EOFError, lzma.LZMAError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BenchmarkFileError(f"NDS file {path} is not readable JSON ({e}); re-download data.zip from {NDS_URL}") \
            from None
    if isinstance(data, list):
        return [(None, r) for r in data]
    if isinstance(data, dict) and all(isinstance(data.get(k), list) for k in ("top", "mid")):
        return [("top", r) for r in data["top"]] + [("mid", r) for r in data["mid"]]
    raise BenchmarkFileError(f"NDS file {path} must hold a list of job records or a dict with 'top' and 'mid' "
                             f"lists; got {type(data).__name__}"
                             + (f" with keys {sorted(data)[:8]}" if isinstance(data, dict) else ""))


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _series(raw: Mapping[str, Any], key: str, where: str, required: bool) -> Optional[Tuple[float, ...]]:
    if key not in raw:
        if required:
            raise BenchmarkFileError(f"{where} has no {key!r}")
        return None
    v = raw[key]
    if not isinstance(v, list) or not v or not all(_number(x) for x in v):
        raise BenchmarkFileError(f"{where}: {key!r} must be a non-empty list of numbers (one per epoch), got "
                                 f"{str(v)[:80]}")
    return tuple(float(x) for x in v)


def parse_record(raw: Any, index: int, where: str, space: Optional[str], group: Optional[str] = None) -> NDSRecord:
    """Validate one raw job record; malformed ones raise :class:`BenchmarkFileError` naming record and key."""
    where = f"{where} record {index}"
    if not isinstance(raw, Mapping):
        raise BenchmarkFileError(f"{where} must be a JSON object, got {type(raw).__name__}")
    if "net" not in raw:
        raise BenchmarkFileError(f"{where} has no 'net' (architecture config)")
    try:
        check_net(raw["net"], space)
    except OutOfSpaceError as e:
        raise BenchmarkFileError(f"{where} has a malformed 'net': {e}") from None
    test_error = _series(raw, "test_ep_top1", where, required=True)
    if not all(0.0 <= x <= 100.0 for x in test_error):
        raise BenchmarkFileError(f"{where}: 'test_ep_top1' holds errors in % (0..100), got {list(test_error)[:5]}...")
    values: Dict[str, float] = {}
    for key in ("params", "flops"):
        if key not in raw:
            raise BenchmarkFileError(f"{where} has no {key!r}")
        if not _number(raw[key]) or raw[key] < 0 or not math.isfinite(raw[key]):
            raise BenchmarkFileError(f"{where}: {key!r} must be a non-negative number, got {raw[key]!r}")
        values[key] = float(raw[key])
    min_test = raw.get("min_test_top1")
    if min_test is not None and not _number(min_test):
        raise BenchmarkFileError(f"{where}: 'min_test_top1' must be a number, got {min_test!r}")
    seed = raw.get("rng_seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise BenchmarkFileError(f"{where}: 'rng_seed' must be an int, got {seed!r}")
    optim = raw.get("optim")
    if optim is not None and not isinstance(optim, Mapping):
        raise BenchmarkFileError(f"{where}: 'optim' must be an object, got {optim!r}")
    job_id = raw.get("job_id")
    if job_id is not None and (isinstance(job_id, bool) or not isinstance(job_id, (int, str))):
        raise BenchmarkFileError(f"{where}: 'job_id' must be an int or str, got {job_id!r}")
    return NDSRecord(
        index=index, arch=canonical_net(raw["net"]), test_error=test_error, params=values["params"],
        flops=values["flops"], train_error=_series(raw, "train_ep_top1", where, required=False),
        train_loss=_series(raw, "train_ep_loss", where, required=False),
        min_test_error=None if min_test is None else float(min_test), rng_seed=seed, job_id=job_id,
        optim=None if optim is None else json.dumps(optim, sort_keys=True), group=group,
    )


@register_benchmark("nds")
class NDSBenchmark(Benchmark):
    """One NDS space file as a tabular benchmark (module docstring). Index = position in the file."""

    name = "nds"
    hps = HPS
    has_seeds = True  # one trained job (one rng_seed) per record
    source = NDS_URL
    cost_definition = "not stored (NDS keeps only seconds per iteration, iter_time)"

    def __init__(self, path: Optional[Union[str, os.PathLike]] = None, space: Optional[str] = None) -> None:
        self.path = resolve_file(path, space)
        parsed = parse_file_name(self.path)
        if space is not None:
            wanted = parse_file_name(f"{space}.json")
            if wanted is None:
                raise NwotError(f"unknown NDS space {space!r}; allowed: {', '.join(SPACE_NAMES)} "
                                f"(optionally with a variant, e.g. 'DARTS_fix-w-d')")
            if parsed is not None and parsed.space != wanted.space:
                raise NwotError(f"NDS file {self.path.name} is a {parsed.space} file, not {wanted.space!r}")
            parsed = wanted if parsed is None else parsed
        if parsed is None:
            raise NwotError(f"cannot tell the NDS space of {self.path.name}: name the file <space>[_<variant>].json "
                            f"or pass space=...; allowed spaces: {', '.join(SPACE_NAMES)}")
        self.design_space, self.variant = parsed.space, parsed.variant
        self.space = f"nds:{parsed.space}"  # the registered search space of the archs
        self.datasets = (parsed.dataset,)
        where = f"NDS file {self.path}"
        jobs = read_jobs(self.path)
        if not jobs:
            raise BenchmarkFileError(f"{where} holds no records")
        self.records: Tuple[NDSRecord, ...] = tuple(
            parse_record(raw, i, where, self.design_space, group) for i, (group, raw) in enumerate(jobs))
        self._by_arch: Dict[str, List[int]] = {}
        for r in self.records:
            self._by_arch.setdefault(r.arch, []).append(r.index)

    # --- identity -----------------------------------------------------------------------
    @property
    def location(self) -> str:
        return str(self.path)

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        return f"NDSBenchmark({str(self.path)!r}, space={self.design_space!r}, records={len(self)})"

    def arch(self, index: int) -> str:
        return self.records[self.check_index(index)].arch

    def index_of(self, arch: Any, *, resolve_isomorph: bool = False) -> int:
        """Index of a record index / net config (dict or JSON). Duplicate configs map to their first record."""
        if not isinstance(arch, (str, Mapping)):
            return self.check_index(arch)
        key = to_arch(arch, self.design_space)
        if key not in self._by_arch:
            raise OutOfSpaceError(f"config {key[:120]}{'...' if len(key) > 120 else ''} is not a record of "
                                  f"{self.path.name}")
        return self._by_arch[key][0]

    def indices_of(self, arch: Any) -> List[int]:
        """All records with this config (re-runs of the same net)."""
        return list(self._by_arch.get(to_arch(arch, self.design_space), []))

    def record(self, arch: Any) -> NDSRecord:
        return self.records[self.index_of(arch)]

    def config(self, arch: Any) -> Dict[str, Any]:
        """The record's ``net`` config as a fresh dict."""
        return json.loads(self.record(arch).arch)

    # --- lookups --------------------------------------------------------------------------
    def query(self, arch: Any, dataset: str = "cifar10", hp: Union[str, int] = "final", *, seed: SeedLike = None,
              epoch: Optional[int] = None) -> QueryResult:
        """Test (``ori-test``) and train accuracy of one record at its final epoch or after 0-based ``epoch``.

        ``seed`` may be None (the record is one job: its own result) or the record's ``rng_seed``.
        """
        r = self.record(arch)
        self.check_dataset(dataset)
        hp = self.check_hp(hp)
        seeds = () if r.rng_seed is None else (r.rng_seed,)
        chosen = resolve_seed(seed, seeds)
        e = self._check_epoch(r, epoch)
        train = SplitResult(None)
        if r.train_error is not None and len(r.train_error) > e:
            loss = r.train_loss[e] if r.train_loss is not None and len(r.train_loss) > e else None
            train = SplitResult(100.0 - r.train_error[e], loss)
        splits = {"train": train, TEST_SPLIT: SplitResult(100.0 - r.test_error[e])}
        return QueryResult(index=r.index, arch=r.arch, dataset=dataset, hp=hp, seed=chosen, seeds=seeds,
                           splits=splits, cost=None, params=r.params / 1e6, flops=r.flops / 1e6, epoch=epoch)

    def _check_epoch(self, r: NDSRecord, epoch: Optional[int]) -> int:
        """0-based epoch index (None = the last)."""
        if epoch is None:
            return r.epochs - 1
        if isinstance(epoch, bool) or not isinstance(epoch, int) or not 0 <= epoch < r.epochs:
            raise NwotError(f"NDS epoch is a 0-based index in 0..{r.epochs - 1} (record {r.index}), got {epoch!r}")
        return epoch

    def missing_cost_message(self, dataset: str, hp: str) -> str:
        return (f"NDS stores no simulated training cost for {self.path.name} (only seconds per iteration, "
                f"'iter_time'); search it by score or by query count instead")

    def accuracy(self, arch: Any, dataset: str = "cifar10", hp: Union[str, int] = "final") -> float:
        """``100 - test_ep_top1[-1]``: final test accuracy (%) as the NASWOT paper reads NDS."""
        self.check_dataset(dataset)
        self.check_hp(hp)
        return self.record(arch).test_accuracy

    def params(self, arch: Any, dataset: Optional[str] = None) -> float:
        """Parameters in MB (1e6) as stored in the record."""
        return self.record(arch).params / 1e6

    def flops(self, arch: Any, dataset: Optional[str] = None) -> float:
        """Multiply-adds in millions as stored in the record."""
        return self.record(arch).flops / 1e6

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self)))

    def to_frame(self):
        """One row per record: ``arch``, ``{dataset}/ori-test@final`` (final test accuracy), ``.../ori-test@best``
        (``100 - min_test_top1``), ``.../train@final``, ``params`` (MB), ``flops`` (M), ``epochs``, ``rng_seed``,
        ``job_id``, ``base_lr``, ``wd``, ``group``, ``space``, ``variant``."""
        import pandas as pd

        ds = self.datasets[0]
        rows = []
        for r in self.records:
            rows.append({
                "arch": r.arch,
                f"{ds}/{TEST_SPLIT}@final": r.test_accuracy,
                f"{ds}/{TEST_SPLIT}@best": None if r.min_test_error is None else 100.0 - r.min_test_error,
                f"{ds}/train@final": None if r.train_error is None else 100.0 - r.train_error[-1],
                "params": r.params / 1e6, "flops": r.flops / 1e6, "epochs": r.epochs,
                "rng_seed": r.rng_seed, "job_id": r.job_id, "base_lr": r.optim_value("base_lr"),
                "wd": r.optim_value("wd"), "group": r.group, "space": self.design_space, "variant": self.variant,
            })
        return pd.DataFrame(rows, index=pd.RangeIndex(len(rows), name="index"))


def open_files(paths: Sequence[Union[str, os.PathLike]]) -> List[NDSBenchmark]:
    """Open several NDS files (folders expand to their ``*.json`` NDS files, sorted by name)."""
    out: List[NDSBenchmark] = []
    for p in paths:
        p = Path(p).expanduser()
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.is_file() and parse_file_name(f) is not None
                           and (f.name.endswith(".json") or f.name.endswith(".json.xz") or f.name.endswith(".json.gz")))
            if not files:
                raise BenchmarkFileError(f"no NDS <space>.json files in {p}; download data.zip from {NDS_URL}")
            out.extend(NDSBenchmark(path=f) for f in files)
        else:
            out.append(NDSBenchmark(path=p))
    return out


__all__ = ["NDSBenchmark", "NDSRecord", "FileName", "parse_file_name", "resolve_file", "read_jobs", "parse_record",
           "open_files", "NDS_URL", "NDS_DIR_ENV", "HPS", "TEST_SPLIT"]
