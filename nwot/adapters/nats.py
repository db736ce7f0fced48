"""NATS-Bench backends: topology (TSS, = NB201 cells) and size (SSS) spaces, on a user's official archive.

Dong et al., "NATS-Bench: Benchmarking NAS Algorithms for Architecture Topology and Size", TPAMI 2021.
Archives (https://github.com/D-X-Y/NATS-Bench):

* ``NATS-tss-v1_0-3ffb9-simple/`` / ``NATS-sss-v1_0-50262-simple/``: ``meta.pickle.pbz2`` (``meta_archs``)
  plus one ``NNNNNN.pickle.pbz2`` record per arch -- what the official API opens with ``fast_mode=True``;
* ``NATS-tss-v1_0-3ffb9.pickle.pbz2`` / ``NATS-sss-v1_0-50262.pickle.pbz2``: one file with every record
  (``arch2infos``), the official ``fast_mode=False`` file.

``path`` is either of those, or a folder holding them; by default ``$TORCH_HOME`` (else ``~/.torch``), as
the official ``get_torch_home``. The official API unpickles with plain ``pickle``; nwot reads every file
with the allow-list unpickler (:func:`nwot.safe_pickle.safe_load`) and hands the resulting dicts to the
official ``ArchResults`` class (:mod:`nwot.adapters.autodl`), so a malicious archive cannot run code.

Schedules: TSS ``hp`` = "12" / "200" epochs, SSS "01" / "12" / "90". SSS accuracies exist only in these
archives (nwot embeds none).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

from nwot.adapters.autodl import RecordBenchmark
from nwot.adapters.base import register_benchmark
from nwot.adapters.index import ArchIndex, detect_space
from nwot.errors import BenchmarkFileError, NwotError, check_choice
from nwot.safe_pickle import safe_load

SOURCE = "https://github.com/D-X-Y/NATS-Bench"
#: Archive base names (official ``ALL_BASE_NAMES``) and sizes of the two spaces.
ARCHIVES: Dict[str, str] = {"tss": "NATS-tss-v1_0-3ffb9", "sss": "NATS-sss-v1_0-50262"}
SIZES: Dict[str, int] = {"tss": 15_625, "sss": 32_768}
HPS: Dict[str, Sequence[str]] = {"tss": ("12", "200"), "sss": ("01", "12", "90")}
SPACES: Dict[str, str] = {"tss": "nb201", "sss": "nats_sss"}
PICKLE_EXT = ".pickle.pbz2"
_RECORD_RE = re.compile(r"^(\d+)\.pickle\.pbz2$")


def torch_home() -> Path:
    """``$TORCH_HOME``, else ``$HOME/.torch`` (the official ``get_torch_home``)."""
    if "TORCH_HOME" in os.environ:
        return Path(os.environ["TORCH_HOME"]).expanduser()
    return Path.home() / ".torch"


def locate_archive(path: Optional[Any], kind: str) -> Path:
    """The ``-simple`` folder or the single ``.pickle.pbz2`` file of ``kind`` ("tss" / "sss") under ``path``."""
    base = ARCHIVES[kind]
    root = torch_home() if path is None else Path(path).expanduser()
    tried = [root, root / f"{base}-simple", root / f"{base}{PICKLE_EXT}"]
    for p in tried:
        if p.is_dir() and (p / f"meta{PICKLE_EXT}").is_file():
            return p
        if p.is_file():
            return p
    where = "$TORCH_HOME (or ~/.torch)" if path is None else "the given path"
    only = (" nwot ships no SSS accuracies: they exist only in the official archive." if kind == "sss" else
            " (offline, the embedded table `table` has the TSS seed means.)")
    raise BenchmarkFileError(
        f"NATS-Bench {kind.upper()} archive not found in {where}: tried {', '.join(str(t) for t in tried)}. "
        f"Download {base}-simple.tar (or {base}{PICKLE_EXT}) from {SOURCE}, unpack it, and pass its folder as "
        f"path.{only}")


def _nats_archresults():
    from nats_bench.api_utils import ArchResults

    return ArchResults


class NATSBenchmark(RecordBenchmark):
    """NATS-Bench ``tss`` or ``sss`` on an official archive (module docstring)."""

    source = SOURCE

    def __init__(self, search_space: str = "tss", path: Optional[Any] = None, *, cache_size: int = 64) -> None:
        super().__init__()
        check_choice("NATS-Bench search space", search_space, tuple(ARCHIVES))
        self.kind = search_space
        self.name = f"nats-{search_space}"
        self.space, self.hps = SPACES[search_space], tuple(HPS[search_space])
        self.cache_size = cache_size
        self.location = locate_archive(path, search_space)
        self._all: Optional[Dict[int, Any]] = None
        if self.location.is_dir():
            meta = safe_load(self.location / f"meta{PICKLE_EXT}", source=SOURCE)
        else:
            meta = safe_load(self.location, source=SOURCE)
            if not isinstance(meta, dict) or not isinstance(meta.get("arch2infos"), dict):
                raise BenchmarkFileError(f"corrupt NATS-Bench archive {self.location}: expected a dict with "
                                         f"'meta_archs' and 'arch2infos' (official source: {SOURCE})")
            self._all = meta["arch2infos"]
        archs = meta.get("meta_archs") if isinstance(meta, dict) else None
        bad = BenchmarkFileError(f"corrupt NATS-Bench {search_space.upper()} meta in {self.location}: expected "
                                 f"'meta_archs' with {SIZES[search_space]} archs (official source: {SOURCE})")
        if not isinstance(archs, list) or not archs or not isinstance(archs[0], str):
            raise bad
        held = detect_space(archs[0]) if archs[0].startswith("|") or ":" in archs[0] else None
        if held is not None and held != self.space:
            raise BenchmarkFileError(f"{self.location} holds {held} archs, not NATS-Bench {search_space.upper()} "
                                     f"({self.space}); use the matching backend")
        if held is None or len(archs) != SIZES[search_space]:
            raise bad
        self.index = ArchIndex(archs, self.space, self.name)

    def record_path(self, index: int) -> Path:
        """The record file of ``index`` in a ``-simple`` folder (``{index:06d}`` or ``{index}`` + .pickle.pbz2)."""
        p = self.location / f"{index:06d}{PICKLE_EXT}"
        alt = self.location / f"{index}{PICKLE_EXT}"
        return alt if not p.is_file() and alt.is_file() else p

    def available_indices(self) -> Sequence[int]:
        if self._all is not None:
            return sorted(int(i) for i in self._all)
        found = (_RECORD_RE.match(n) for n in os.listdir(self.location))
        return sorted({int(m[1]) for m in found if m and int(m[1]) < len(self)})

    def _load_results(self, index: int) -> Dict[str, Any]:
        if self._all is not None:
            if index not in self._all:
                raise NwotError(f"{self.name}: index {index} has no record in {self.location}")
            state, where = self._all[index], f"{self.location} [arch2infos][{index}]"
        else:
            path = self.record_path(index)
            if not path.is_file():
                raise BenchmarkFileError(
                    f"{self.name}: record of index {index} not found: {path} (this folder has "
                    f"{len(self.available_indices())} of {len(self)} records); the full archive "
                    f"{ARCHIVES[self.kind]}-simple comes from {SOURCE}")
            state, where = safe_load(path, source=SOURCE), str(path)
        if not isinstance(state, dict) or not state or not all(
                isinstance(v, dict) and {"all_results", "dataset_seed"} <= set(v) for v in state.values()):
            raise BenchmarkFileError(f"corrupt NATS-Bench record {where}: expected {{hp: ArchResults state dict}} "
                                     f"(official source: {SOURCE})")
        ArchResults = _nats_archresults()
        return {str(hp): ArchResults.create_from_state_dict(st) for hp, st in state.items()}


@register_benchmark("nats-tss")
def open_nats_tss(path: Optional[Any] = None, **kwargs: Any) -> NATSBenchmark:
    """NATS-Bench topology space (15,625 NB201 cells; hp "12" / "200") on an official archive."""
    return NATSBenchmark("tss", path, **kwargs)


@register_benchmark("nats-sss")
def open_nats_sss(path: Optional[Any] = None, **kwargs: Any) -> NATSBenchmark:
    """NATS-Bench size space (32,768 channel configs; hp "01" / "12" / "90") on an official archive."""
    return NATSBenchmark("sss", path, **kwargs)
