"""NAS-Bench-201 backend on a user's official ``NAS-Bench-201-v1_1-096897.pth`` (``nas_201_api`` semantics).

Dong & Yang, "NAS-Bench-201: Extending the Scope of Reproducible NAS", ICLR 2020
(https://github.com/D-X-Y/NAS-Bench-201). The ``.pth`` is a ``torch.save``-d dict::

    {"meta_archs": [15,625 arch strings], "total_archs": 15625, "evaluated_indexes": {indices},
     "arch2infos": {index: {"less": ArchResults state (hp "12"), "full": ArchResults state (hp "200")}}}

(the layout the official ``NASBench201API(file_path_or_dict)`` reads; it also accepts that dict, and so
does :class:`NB201APIBenchmark` via ``data=``). The official API calls ``torch.load`` with full
unpickling; nwot loads with ``torch.load(weights_only=True)`` plus the numpy allow-list of
:mod:`nwot.safe_pickle`, so a malicious file raises :class:`~nwot.errors.UnsafePickleError` instead of
running code. Numbers come from the official ``nas_201_api`` ``ArchResults`` (:mod:`nwot.adapters.autodl`).

Differences from NATS-TSS worth knowing (MANIFEST §0): NB201 v1_1 trained 2,225 archs with 1 seed and
5,439 with 2 at hp 200 (NATS: 3 for almost all), so seed means differ for some archs.
"""
from __future__ import annotations

import importlib
import os
import pickle
import struct
import zipfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from nwot.adapters.autodl import RecordBenchmark
from nwot.adapters.base import register_benchmark
from nwot.adapters.index import ArchIndex
from nwot.errors import BenchmarkFileError, NwotError, UnsafePickleError
from nwot.safe_pickle import DEFAULT_ALLOWED

SOURCE = "https://github.com/D-X-Y/NAS-Bench-201"
#: Official file names, newest last (official ``ALL_BENCHMARK_FILES``).
FILES = ("NAS-Bench-201-v1_0-e61699.pth", "NAS-Bench-201-v1_1-096897.pth")
#: hp key -> key of the record in ``arch2infos[index]``.
HP_KEYS: Dict[str, str] = {"12": "less", "200": "full"}


def _torch_allow_list() -> List[Tuple[Any, str]]:
    """``(object, "module.name")`` pairs for ``torch.serialization.safe_globals``: nwot's pickle allow-list
    (numpy scalars / arrays / dtypes under both ``numpy.core`` and ``numpy._core``) plus numpy's dtype classes."""
    import numpy as np

    out: List[Tuple[Any, str]] = []
    for module, name in sorted(DEFAULT_ALLOWED):
        real = module.replace("numpy.core", "numpy._core") if hasattr(np, "_core") else module
        try:
            obj = getattr(importlib.import_module(real), name)
        except (ImportError, AttributeError):
            continue
        out.append((obj, f"{module}.{name}"))
    dtypes = getattr(np, "dtypes", None)
    for name in dir(dtypes) if dtypes is not None else ():
        obj = getattr(dtypes, name)
        if isinstance(obj, type) and name.endswith("DType"):
            out.append((obj, f"{obj.__module__}.{obj.__name__}"))
    return out


def load_pth(path: Any) -> Any:
    """``torch.load`` a benchmark ``.pth`` without arbitrary code (``weights_only=True`` + numpy allow-list).

    A global outside the allow-list raises :class:`UnsafePickleError`; a missing or unreadable file raises
    :class:`BenchmarkFileError` naming the file and the official source.
    """
    import torch

    path = Path(path).expanduser()
    if not path.is_file():
        raise BenchmarkFileError(f"NAS-Bench-201 file not found: {path}; download {FILES[-1]} from {SOURCE}")
    try:
        with torch.serialization.safe_globals(_torch_allow_list()):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        if "GLOBAL" in str(e) or "global" in str(e):
            raise UnsafePickleError(f"refusing to load {path}: it references a global outside the allow-list "
                                    f"(torch weights_only: {str(e).strip().splitlines()[-1][:300]})") from e
        raise BenchmarkFileError(f"corrupt NAS-Bench-201 file {path}: {type(e).__name__}: {str(e)[:300]} "
                                 f"(official source: {SOURCE})") from e
    except (OSError, EOFError, RuntimeError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            struct.error, zipfile.BadZipFile) as e:
        raise BenchmarkFileError(f"corrupt NAS-Bench-201 file {path}: {type(e).__name__}: {str(e)[:300]} "
                                 f"(official source: {SOURCE})") from e


def locate_pth(path: Optional[Any]) -> Path:
    """``path`` itself (a file), or the newest official file name inside ``path`` / ``$TORCH_HOME``."""
    if path is not None and Path(path).expanduser().is_file():
        return Path(path).expanduser()
    root = Path(path).expanduser() if path is not None else (
        Path(os.environ["TORCH_HOME"]).expanduser() if "TORCH_HOME" in os.environ else Path.home() / ".torch")
    tried = [root / name for name in reversed(FILES)]
    for p in tried:
        if p.is_file():
            return p
    raise BenchmarkFileError(f"NAS-Bench-201 file not found: tried {', '.join(map(str, tried))}. Download "
                             f"{FILES[-1]} from {SOURCE} and pass its path (or the folder holding it)")


def _nb201_archresults():
    from nas_201_api.api_utils import ArchResults

    return ArchResults


class NB201APIBenchmark(RecordBenchmark):
    """NAS-Bench-201 (v1_0 / v1_1 ``.pth``) with the official API's semantics (module docstring)."""

    name = "nb201-api"
    space = "nb201"
    hps = ("12", "200")
    source = SOURCE

    def __init__(self, path: Optional[Any] = None, *, data: Optional[Dict[str, Any]] = None,
                 cache_size: int = 256) -> None:
        super().__init__()
        self.cache_size = cache_size
        if data is None:
            self.location: Optional[Path] = locate_pth(path)
            data = load_pth(self.location)
            where = str(self.location)
        else:
            self.location, where = None, "the given dict"
        if not isinstance(data, dict) or not all(k in data for k in ("meta_archs", "arch2infos", "evaluated_indexes")):
            raise BenchmarkFileError(f"corrupt NAS-Bench-201 data in {where}: expected a dict with 'meta_archs', "
                                     f"'arch2infos', 'evaluated_indexes' (official source: {SOURCE})")
        archs = data["meta_archs"]
        if not isinstance(archs, list) or not archs or not isinstance(archs[0], str) or not archs[0].startswith("|"):
            raise BenchmarkFileError(f"corrupt NAS-Bench-201 data in {where}: 'meta_archs' must list NB201 arch "
                                     f"strings (official source: {SOURCE})")
        self.index = ArchIndex(archs, "nb201", self.name)
        self._arch2infos: Dict[int, Any] = data["arch2infos"]
        self._evaluated = sorted(int(i) for i in data["evaluated_indexes"] if i in self._arch2infos)

    def available_indices(self) -> Sequence[int]:
        return list(self._evaluated)

    def _load_results(self, index: int) -> Dict[str, Any]:
        infos = self._arch2infos.get(index)
        if infos is None:
            raise NwotError(f"{self.name}: index {index} was not evaluated in this file "
                            f"({len(self._evaluated)} of {len(self)} archs are)")
        if not isinstance(infos, dict) or not all(
                isinstance(infos.get(k), dict) and {"all_results", "dataset_seed"} <= set(infos[k])
                for k in HP_KEYS.values()):
            raise BenchmarkFileError(f"corrupt NAS-Bench-201 record of index {index}: expected "
                                     f"{{'less': ArchResults state, 'full': ArchResults state}} "
                                     f"(official source: {SOURCE})")
        ArchResults = _nb201_archresults()
        return {hp: ArchResults.create_from_state_dict(infos[key]) for hp, key in HP_KEYS.items()}


@register_benchmark("nb201-api")
def open_nb201_api(path: Optional[Any] = None, **kwargs: Any) -> NB201APIBenchmark:
    """NAS-Bench-201 on the official ``NAS-Bench-201-v1_1-096897.pth`` (default: in ``$TORCH_HOME``)."""
    return NB201APIBenchmark(path, **kwargs)
