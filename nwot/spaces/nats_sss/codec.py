"""NATS-Bench size search space (SSS).

Dong et al., "NATS-Bench: Benchmarking NAS Algorithms for Architecture Topology and Size", TPAMI 2021,
§3.2. The cell is fixed (the best TSS cell, :data:`FIXED_CELL`); what varies is the number of channels
of each of the 5 layers of the ``infer.shape.tiny`` network (stem + cell, reduction block, cell,
reduction block, cell), each one of ``8, 16, ..., 64``: ``8**5 = 32,768`` configurations.

Encoding (the benchmark's own ``meta_archs`` strings): ``"c0:c1:c2:c3:c4"``, e.g. ``"8:8:40:32:40"``.
Index order is ``itertools.product(CHANNELS, repeat=5)``, last position fastest::

    index = sum_k  CHANNELS.index(c_k) * 8 ** (4 - k)

so index 0 = ``8:8:8:8:8``, 1 = ``8:8:8:8:16``, 32767 = ``64:64:64:64:64`` (checked against the real
``NATS-sss-v1_0-50262-simple/meta.pickle.pbz2`` in ``tests/spaces/test_nats_sss.py``).
An :data:`Arch` is the tuple of the 5 channel counts.
"""
from __future__ import annotations

import random
from typing import List, Sequence, Tuple, Union

from nwot.errors import OutOfSpaceError

#: Channel candidates of every layer (NATS ``search_space_info``: ``candidates``).
CHANNELS: Tuple[int, ...] = (8, 16, 24, 32, 40, 48, 56, 64)
#: Number of layers whose width is searched (NATS: ``num_layers``).
NUM_LAYERS = 5
NUM_ARCHS = len(CHANNELS) ** NUM_LAYERS  # 32,768
#: The fixed cell of every SSS network (NATS-Bench §3.2: the best cell of the topology space).
FIXED_CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"

Arch = Tuple[int, int, int, int, int]
ArchLike = Union[str, Sequence[int]]


def check_channels(arch: Sequence[int]) -> Arch:
    """Validate a sequence of 5 channel counts, each in :data:`CHANNELS`."""
    if isinstance(arch, (str, bytes)):
        raise OutOfSpaceError(f"an SSS arch is a sequence of {NUM_LAYERS} ints, got the string {arch!r}")
    chans = tuple(arch)
    if len(chans) != NUM_LAYERS:
        raise OutOfSpaceError(f"an SSS arch has {NUM_LAYERS} channel counts, got {len(chans)}: {arch!r}")
    out = []
    for c in chans:
        if isinstance(c, bool) or not hasattr(c, "__index__") or int(c) not in CHANNELS:
            raise OutOfSpaceError(f"SSS channel count {c!r} in {arch!r} not allowed; allowed: "
                                  f"{', '.join(map(str, CHANNELS))}")
        out.append(int(c))
    return tuple(out)  # type: ignore[return-value]


def parse_arch(s: str) -> Arch:
    """``"8:16:24:32:40"`` -> ``(8, 16, 24, 32, 40)`` (strict)."""
    if not isinstance(s, str):
        raise OutOfSpaceError(f"SSS arch string must be a str, got {type(s).__name__}: {s!r}")
    parts = s.split(":")
    if len(parts) != NUM_LAYERS or not all(p.isdigit() for p in parts):
        raise OutOfSpaceError(f"malformed SSS arch string {s!r}: expected {NUM_LAYERS} ':'-separated channel "
                              f"counts like '8:16:24:32:40', each in {', '.join(map(str, CHANNELS))}")
    return check_channels([int(p) for p in parts])


def format_arch(arch: Sequence[int]) -> str:
    """Inverse of :func:`parse_arch`."""
    return ":".join(str(c) for c in check_channels(arch))


def to_arch(x: ArchLike) -> Arch:
    """Normalise an arch string or a channel sequence to :data:`Arch` (not an index)."""
    return parse_arch(x) if isinstance(x, str) else check_channels(x)


def arch_index(arch: ArchLike) -> int:
    """Benchmark index of ``arch`` (``itertools.product`` order, last position fastest)."""
    index = 0
    for c in to_arch(arch):
        index = index * len(CHANNELS) + CHANNELS.index(c)
    return index


def from_index(index: int) -> Arch:
    """Inverse of :func:`arch_index`."""
    if isinstance(index, bool) or not hasattr(index, "__index__") or not 0 <= int(index) < NUM_ARCHS:
        raise OutOfSpaceError(f"SSS index {index!r} out of range; allowed 0..{NUM_ARCHS - 1}")
    index, chans = int(index), []
    for _ in range(NUM_LAYERS):
        index, pos = divmod(index, len(CHANNELS))
        chans.append(CHANNELS[pos])
    return tuple(reversed(chans))  # type: ignore[return-value]


def sample(rng: random.Random) -> Arch:
    """Uniform sample over all 32,768 configurations."""
    return tuple(rng.choice(CHANNELS) for _ in range(NUM_LAYERS))  # type: ignore[return-value]


def mutate(arch: Sequence[int], rng: random.Random) -> Arch:
    """Change the channel count of one uniformly chosen layer to a *different* candidate (NATS REA)."""
    chans = list(check_channels(arch))
    k = rng.randrange(NUM_LAYERS)
    chans[k] = rng.choice([c for c in CHANNELS if c != chans[k]])
    return tuple(chans)  # type: ignore[return-value]


def neighbours(arch: Sequence[int]) -> List[Arch]:
    """All 35 configurations that differ in exactly one layer."""
    chans = check_channels(arch)
    return [chans[:k] + (c,) + chans[k + 1:]  # type: ignore[misc]
            for k in range(NUM_LAYERS) for c in CHANNELS if c != chans[k]]


