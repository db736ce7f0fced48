"""The NDS design spaces as registered search spaces (``nds:<Space>``); arch maths in :mod:`.codec`.

The records a space samples from come from :class:`nwot.adapters.nds.NDSBenchmark`.
"""

from __future__ import annotations

import random
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import torch.nn as nn

from nwot.errors import NwotError, check_choice
from nwot.spaces.base import register_space
from nwot.spaces.nds.codec import NDS_URL, SPACE_NAMES, Arch, check_net, distance, family, flatten, parse_net, to_arch


def build(
    arch: Union[str, Mapping[str, Any]], space: str, num_classes: int = 10, compat: str = "clean", **kwargs: Any
) -> nn.Module:
    """The CIFAR network of a config in ``space``; ``compat`` only affects AnyNet (:mod:`.anynet_model`)."""
    check_choice("compat", compat, ("clean", "reference"))
    net = parse_net(arch)
    check_net(net, space)
    if family(space) == "cell":
        from nwot.spaces.nds.cell_model import build_from_net

        if kwargs:
            raise NwotError(f"unexpected build options for NDS cell space {space}: {sorted(kwargs)}")
        return build_from_net(net, num_classes)
    from nwot.spaces.nds.anynet_model import build_from_net as build_anynet_net

    return build_anynet_net(net, num_classes, space=space, compat=compat, **kwargs)


class NDSSpace:
    """One NDS CIFAR design space. ``benchmark`` (:class:`nwot.adapters.nds.NDSBenchmark`, e.g.
    ``get_benchmark("nds", path=..., space="ResNet")``) holds the trained records it samples from and
    mutates within; without it the space encodes, decodes and builds but cannot sample (the spaces are
    defined by their samples). The space never opens files itself."""

    def __init__(self, space: str, benchmark: Any = None) -> None:
        check_choice("NDS space", space, SPACE_NAMES)
        self.space = space
        self.name = f"nds:{space}"
        self.family = family(space)
        if benchmark is not None:
            if getattr(benchmark, "design_space", None) != space:
                raise NwotError(
                    f"{self.name} needs an NDS {space} file; the benchmark given holds "
                    f"{getattr(benchmark, 'design_space', None)!r} ({getattr(benchmark, 'path', '?')})"
                )
            if "cifar10" not in benchmark.datasets:
                raise NwotError(
                    f"{self.name} builds CIFAR networks; {benchmark.path} is an ImageNet (_in) file "
                    f"(ImageNet NDS networks are not implemented)"
                )
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

    def build(self, arch: Union[int, str, Mapping[str, Any]], num_classes: int = 10, *, compat: str = "clean",
              **kwargs: Any) -> nn.Module:
        """The CIFAR network; ``compat="reference"`` builds AnyNets as the NASWOT authors' loader did."""
        return build(self.to_arch(arch), self.space, num_classes=num_classes, compat=compat, **kwargs)

    # --- sampling from the file ----------------------------------------------------------
    def _bench(self, what: str):
        if self.benchmark is None:
            raise NwotError(f"{self.name} cannot {what} without its NDS file: the space is defined by the trained "
                            f"samples of {self.space}.json (from {NDS_URL}, data.zip); pass get_space({self.name!r}, "
                            f"benchmark=get_benchmark('nds', path=..., space={self.space!r})) (the adapter also finds "
                            f"the file in $NWOT_NDS_DIR)")
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
    def make(benchmark: Any = None) -> NDSSpace:
        return NDSSpace(space, benchmark=benchmark)

    make.__name__ = f"nds_{space}"
    make.__doc__ = f"NDS {space} design space (see :class:`NDSSpace`)."
    return make


for _space in SPACE_NAMES:
    register_space(f"nds:{_space}")(_factory(_space))
