"""The NDS CIFAR design spaces as search spaces: ``nds:Amoeba``, ``nds:DARTS``, ``nds:ENAS``, ``nds:NASNet``,
``nds:PNAS`` (cell spaces) and ``nds:ResNet``, ``nds:ResNeXt-A``, ``nds:ResNeXt-B``, ``nds:Vanilla`` (AnyNet).

Radosavovic et al., "On Network Design Spaces for Visual Recognition", ICCV 2019. NDS publishes, per
design space, a file of a few thousand networks sampled from the space and trained on CIFAR-10
(see :mod:`nwot.adapters.nds`). An architecture here is one record's ``net`` config (the dict NDS
trained: a genotype + width + depth for cell spaces, stage lists for AnyNet spaces), held as its
**canonical JSON string** (sorted keys, no spaces) so that it is hashable and round-trips::

    space = get_space("nds:DARTS", benchmark=get_benchmark("nds", path="data/DARTS.json"))
    arch = space.sample(random.Random(0))        # a record's net config, canonical JSON
    model = space.build(arch)                     # nwot.spaces.nds.cell_model / nwot.spaces.nds.anynet_model

Sampling and mutation draw from the loaded file (the spaces are defined by their samples; NDS never
enumerates them): the records come from ``benchmark=`` (the adapter, which also finds
``$NWOT_NDS_DIR/<space>.json``); a space without them can encode, decode and build but raises on
``sample`` / ``mutate``:

* ``sample(rng)``: a uniformly drawn record of the file;
* ``mutate(arch, rng)``: a uniformly drawn record among the **nearest other configs in the file**,
  distance = number of differing leaves of the flattened configs (each op name, input index and
  concat entry of the genotype, ``width``, ``depth``; each stage's depth / width / stride / bottleneck
  multiplier / groups and the block type; training-only ``aux`` and ``drop_prob`` are ignored).
  This keeps every child inside the benchmark, which is what a tabular search (REA) needs.
"""
from __future__ import annotations

import json
from typing import Any, Dict, Mapping, Optional, Tuple, Union

from nwot.errors import OutOfSpaceError, check_choice

#: Where the NDS records come from (``data.zip``).
NDS_URL = "https://github.com/facebookresearch/nds"
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
        from nwot.spaces.nds.cell_model import check_cell_net

        check_cell_net(net)
    else:
        from nwot.spaces.nds.anynet_model import config_from_nds

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
