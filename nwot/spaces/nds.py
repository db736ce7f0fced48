"""The NDS CIFAR design spaces as search spaces: ``nds:Amoeba``, ``nds:DARTS``, ``nds:ENAS``, ``nds:NASNet``,
``nds:PNAS`` (cell spaces) and ``nds:ResNet``, ``nds:ResNeXt-A``, ``nds:ResNeXt-B``, ``nds:Vanilla`` (AnyNet).

Radosavovic et al., "On Network Design Spaces for Visual Recognition", ICCV 2019. NDS publishes, per
design space, a file of a few thousand networks sampled from the space and trained on CIFAR-10
(see :mod:`nwot.adapters.nds`). An architecture here is one record's ``net`` config (the dict NDS
trained: a genotype + width + depth for cell spaces, stage lists for AnyNet spaces), held as its
**canonical JSON string** (sorted keys, no spaces) so that it is hashable and round-trips::

    space = get_space("nds:DARTS", path="data/DARTS.json")
    arch = space.sample(random.Random(0))        # a record's net config, canonical JSON
    model = space.build(arch)                     # nwot.models.nds_cell / nwot.models.anynet

Sampling and mutation draw from the loaded file (the spaces are defined by their samples; NDS never
enumerates them): ``path=`` / ``benchmark=``, else ``$NWOT_NDS_DIR/<space>.json`` opened on first use. A
space without its file can encode, decode and build but raises on ``sample`` / ``mutate``:

* ``sample(rng)``: a uniformly drawn record of the file;
* ``mutate(arch, rng)``: a uniformly drawn record among the **nearest other configs in the file**,
  distance = number of differing leaves of the flattened configs (each op name, input index and
  concat entry of the genotype, ``width``, ``depth``; each stage's depth / width / stride / bottleneck
  multiplier / groups and the block type; training-only ``aux`` and ``drop_prob`` are ignored).
  This keeps every child inside the benchmark, which is what a tabular search (REA) needs.
"""
from __future__ import annotations

import json
import os
import random
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import torch.nn as nn

from ..errors import NwotError, OutOfSpaceError, check_choice
from .base import register_space

CELL_SPACES: Tuple[str, ...] = ("Amoeba", "DARTS", "ENAS", "NASNet", "PNAS")
ANYNET_SPACES: Tuple[str, ...] = ("ResNet", "ResNeXt-A", "ResNeXt-B", "Vanilla")
#: The nine NDS CIFAR design spaces (file stems of the official data.zip without a variant suffix).
SPACE_NAMES: Tuple[str, ...] = CELL_SPACES + ANYNET_SPACES
#: ``net`` keys that only configure training; they are kept in the arch but ignored by distance and build.
TRAINING_ONLY_KEYS = ("aux", "drop_prob")

Arch = str  # canonical JSON of a record's ``net``
Leaf = Tuple[str, Any]


def family(space: str) -> str:
    """``"cell"`` for the NAS cell spaces, ``"anynet"`` for the stage-wise ones."""
    check_choice("NDS space", space, SPACE_NAMES)
    return "cell" if space in CELL_SPACES else "anynet"


def net_family(net: Mapping[str, Any]) -> str:
    """``"cell"`` if the config has a ``genotype``, ``"anynet"`` if it has a ``block_type``."""
    if not isinstance(net, Mapping):
        raise OutOfSpaceError(f"an NDS net config must be a dict, got {type(net).__name__}: {net!r}")
    if "genotype" in net:
        return "cell"
    if "block_type" in net:
        return "anynet"
    raise OutOfSpaceError(f"NDS net config has neither 'genotype' (cell spaces) nor 'block_type' (AnyNet spaces): "
                          f"keys {sorted(net)}")


def check_net(net: Mapping[str, Any], space: Optional[str] = None) -> None:
    """Validate a ``net`` config (structure, op names, ranges); with ``space``, also its family."""
    fam = net_family(net)
    if space is not None and family(space) != fam:
        raise OutOfSpaceError(f"a {fam} config is not a member of NDS space {space!r} "
                              f"({'cell' if family(space) == 'cell' else 'AnyNet'} configs only)")
    if fam == "cell":
        from ..models.nds_cell import check_cell_net

        check_cell_net(net)
    else:
        from ..models.anynet import config_from_nds

        config_from_nds(net, space=space)


def canonical_net(net: Mapping[str, Any]) -> Arch:
    """The canonical JSON string of a ``net`` config: ``json.dumps(net, sort_keys=True, separators=(",", ":"))``."""
    try:
        return json.dumps(net, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as e:
        raise OutOfSpaceError(f"NDS net config is not JSON-serialisable ({e}): {net!r}") from None


def parse_net(x: Union[str, Mapping[str, Any]]) -> Dict[str, Any]:
    """A ``net`` dict from a JSON string or a mapping (a fresh copy; not validated)."""
    if isinstance(x, str):
        try:
            obj = json.loads(x)
        except json.JSONDecodeError as e:
            raise OutOfSpaceError(f"not an NDS net config: {x[:80]!r} is not JSON ({e})") from None
    elif isinstance(x, Mapping):
        obj = json.loads(canonical_net(x))
    else:
        raise OutOfSpaceError(f"an NDS arch is a net config (dict or its JSON string), got {type(x).__name__}: {x!r}")
    if not isinstance(obj, dict):
        raise OutOfSpaceError(f"an NDS net config must be a JSON object, got {obj!r}")
    return obj


def to_arch(x: Union[str, Mapping[str, Any]], space: Optional[str] = None) -> Arch:
    """Validate and canonicalise a net config (dict or JSON string) -> :data:`Arch`."""
    net = parse_net(x)
    check_net(net, space)
    return canonical_net(net)


def flatten(net: Mapping[str, Any]) -> Dict[str, Any]:
    """Leaves of a config, ``{"genotype.normal.3.0": "sep_conv_3x3", "ds.1": 4, ...}``; training-only keys dropped."""
    out: Dict[str, Any] = {}

    def walk(prefix: str, v: Any) -> None:
        if isinstance(v, Mapping):
            for k, x in v.items():
                if not prefix and k in TRAINING_ONLY_KEYS:
                    continue
                walk(f"{prefix}.{k}" if prefix else str(k), x)
        elif isinstance(v, (list, tuple)):
            for i, x in enumerate(v):
                walk(f"{prefix}.{i}", x)
        else:
            out[prefix] = v

    walk("", net)
    return out


def distance(a: Mapping[str, Any], b: Mapping[str, Any]) -> int:
    """Number of leaves (of :func:`flatten`) present in only one config or with different values."""
    return sum(1 for k in set(a) | set(b) if k not in a or k not in b or a[k] != b[k])


def build(arch: Union[str, Mapping[str, Any]], space: str, num_classes: int = 10, compat: str = "clean",
          **kwargs: Any) -> nn.Module:
    """The CIFAR network of a config in ``space`` (``compat`` only affects AnyNet, see :mod:`nwot.models.anynet`)."""
    check_choice("compat", compat, ("clean", "reference"))
    net = parse_net(arch)
    check_net(net, space)
    if family(space) == "cell":
        from ..models.nds_cell import build_from_net

        if kwargs:
            raise NwotError(f"unexpected build options for NDS cell space {space}: {sorted(kwargs)}")
        return build_from_net(net, num_classes)
    from ..models.anynet import build_from_net as build_anynet_net

    return build_anynet_net(net, num_classes, space=space, compat=compat, **kwargs)


class NDSSpace:
    """One NDS CIFAR design space (module docstring). ``benchmark`` / ``path`` give the records to draw from."""

    def __init__(self, space: str, path: Optional[os.PathLike] = None, benchmark: Any = None) -> None:
        check_choice("NDS space", space, SPACE_NAMES)
        self.space = space
        self.name = f"nds:{space}"
        self.family = family(space)
        if benchmark is None and path is not None:
            from ..adapters.nds import NDSBenchmark

            benchmark = NDSBenchmark(path=path, space=space)
        if benchmark is not None:
            if getattr(benchmark, "design_space", None) != space:
                raise NwotError(f"{self.name} needs an NDS {space} file; the benchmark given holds "
                                f"{getattr(benchmark, 'design_space', None)!r} ({getattr(benchmark, 'path', '?')})")
            if "cifar10" not in benchmark.datasets:
                raise NwotError(f"{self.name} builds CIFAR networks; {benchmark.path} is an ImageNet (_in) file "
                                f"(ImageNet NDS networks are not implemented)")
        self.benchmark = benchmark
        self._leaves: Optional[List[Dict[str, Any]]] = None

    # --- codec -----------------------------------------------------------------------
    @property
    def size(self) -> Optional[int]:
        """Records in the loaded file (None without one)."""
        return None if self.benchmark is None else len(self.benchmark)

    def to_arch(self, x: Union[int, str, Mapping[str, Any]]) -> Arch:
        """Canonical arch from a net config (dict / JSON) or, with a file, a record index."""
        if isinstance(x, int) and not isinstance(x, bool):
            return self._bench("look up an index").arch(x)
        return to_arch(x, self.space)

    def encode(self, arch: Union[str, Mapping[str, Any]]) -> str:
        return to_arch(arch, self.space)

    def decode(self, s: str) -> Arch:
        return to_arch(s, self.space)

    def build(self, arch: Union[int, str, Mapping[str, Any]], num_classes: int = 10, **kwargs: Any) -> nn.Module:
        return build(self.to_arch(arch), self.space, num_classes=num_classes, **kwargs)

    # --- sampling from the file ----------------------------------------------------------
    def _bench(self, what: str):
        """The loaded file; opened from ``$NWOT_NDS_DIR/<space>.json`` on first use when that is set."""
        if self.benchmark is None:
            from ..adapters.nds import NDS_DIR_ENV, NDS_URL, NDSBenchmark

            if not os.environ.get(NDS_DIR_ENV):
                raise NwotError(f"{self.name} cannot {what} without its NDS file: the space is defined by the "
                                f"trained samples of {self.space}.json (from {NDS_URL}, data.zip); pass "
                                f"get_space({self.name!r}, path=...), benchmark=get_benchmark('nds', path=..., "
                                f"space={self.space!r}), or set ${NDS_DIR_ENV} to the folder of the files")
            self.benchmark = NDSBenchmark(space=self.space)
        return self.benchmark

    def sample(self, rng: random.Random) -> Arch:
        """A uniformly drawn record of the file."""
        bench = self._bench("sample")
        return bench.arch(rng.randrange(len(bench)))

    def _flat(self) -> List[Dict[str, Any]]:
        if self._leaves is None:
            bench = self._bench("mutate")
            self._leaves = [flatten(bench.config(i)) for i in range(len(bench))]
        return self._leaves

    def neighbours(self, arch: Union[int, str, Mapping[str, Any]]) -> Tuple[int, List[int]]:
        """(distance, record indices) of the nearest configs in the file that differ from ``arch``."""
        bench = self._bench("mutate")
        ref = flatten(parse_net(self.to_arch(arch)))
        best, idx = None, []
        for i, leaves in enumerate(self._flat()):
            d = distance(ref, leaves)
            if d == 0:
                continue
            if best is None or d < best:
                best, idx = d, [i]
            elif d == best:
                idx.append(i)
        if best is None:
            raise NwotError(f"{self.name}: every record of {bench.path} equals the arch; nothing to mutate to")
        return best, idx

    def mutate(self, arch: Union[int, str, Mapping[str, Any]], rng: random.Random) -> Arch:
        """A uniformly drawn nearest other config of the file (module docstring)."""
        _, idx = self.neighbours(arch)
        return self.benchmark.arch(rng.choice(idx))


def _factory(space: str):
    def make(path: Optional[os.PathLike] = None, benchmark: Any = None) -> NDSSpace:
        return NDSSpace(space, path=path, benchmark=benchmark)

    make.__name__ = f"nds_{space}"
    make.__doc__ = f"NDS {space} design space (see :class:`NDSSpace`)."
    return make


for _space in SPACE_NAMES:
    register_space(f"nds:{_space}")(_factory(_space))
