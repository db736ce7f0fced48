"""The PNAS cell space as a registered :class:`~nwot.spaces.base.SearchSpace`.

Arch maths live in :mod:`nwot.spaces.pnas.codec`, the network in :mod:`nwot.spaces.pnas.model`.
"""

from __future__ import annotations

import random
from typing import Any, Dict, List, Optional, Sequence, Tuple

from nwot.errors import NwotError, OutOfSpaceError
from nwot.spaces.base import check_build_compat, register_space
from nwot.spaces.pnas.codec import (
    DEFAULT_BLOCKS,
    NUM_CELL_INPUTS,
    OPS,
    Arch,
    Block,
    canonical_block,
    count_cells,
)
from nwot.spaces.pnas.model import build_pnas_net


@register_space("pnas")
class PNASCellSpace:
    """PNAS cells of up to ``num_blocks`` blocks over ``ops`` (a sub-list of :data:`OPS`, in that order)."""

    name = "pnas"
    #: Build kwargs of the networks trained under each training preset (nwot.evaluators.train.PRESETS):
    #: cpu_tiny a minimal skeleton, pnas_proxy the search networks of PNAS §5.1 (N = 2, F = 24).
    train_build = {"cpu_tiny": {"C": 8, "N": 1}, "pnas_proxy": {"C": 24, "N": 2}}

    def __init__(self, num_blocks: int = DEFAULT_BLOCKS, ops: Optional[Sequence[str]] = None) -> None:
        if isinstance(num_blocks, bool) or not isinstance(num_blocks, int) or num_blocks < 1:
            raise NwotError(f"num_blocks must be an int >= 1, got {num_blocks!r}")
        ops = tuple(OPS if ops is None else ops)
        unknown = [o for o in ops if o not in OPS]
        if unknown or not ops or len(set(ops)) != len(ops):
            raise NwotError(f"ops must be distinct names from {', '.join(OPS)}; got {ops!r}")
        self.num_blocks = num_blocks
        self.ops = tuple(o for o in OPS if o in ops)  # keep the paper's order
        self._op_index = {o: k for k, o in enumerate(self.ops)}

    # -- codec ------------------------------------------------------------------------------------
    def check(self, arch: Any) -> Arch:
        """Validate ``arch`` and return it with every block in canonical order; raise :class:`OutOfSpaceError`."""
        try:
            blocks = tuple(tuple(b) for b in arch)
        except TypeError as e:
            raise OutOfSpaceError(f"a PNAS cell is a sequence of (in1, op1, in2, op2) blocks, got {arch!r}") from e
        if not 1 <= len(blocks) <= self.num_blocks:
            raise OutOfSpaceError(f"a PNAS cell has 1..{self.num_blocks} blocks, got {len(blocks)}: {arch!r}")
        out = []
        for b, block in enumerate(blocks):
            if len(block) != 4:
                raise OutOfSpaceError(f"block {b} must be (in1, op1, in2, op2), got {block!r}")
            i1, op1, i2, op2 = block
            for i in (i1, i2):
                if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < b + NUM_CELL_INPUTS:
                    raise OutOfSpaceError(
                        f"block {b} input {i!r} out of range; allowed 0..{b + NUM_CELL_INPUTS - 1} "
                        f"(0 = H^{{c-2}}, 1 = H^{{c-1}}, 2+j = block j)"
                    )
            for op in (op1, op2):
                if op not in self.ops:
                    raise OutOfSpaceError(f"unknown op {op!r} in block {b}; allowed: {', '.join(self.ops)}")
            out.append(canonical_block(i1, op1, i2, op2, self.ops))
        return tuple(out)  # type: ignore[return-value]

    def is_valid(self, arch: Any) -> bool:
        try:
            return self.check(arch) == tuple(tuple(b) for b in arch)
        except (OutOfSpaceError, TypeError):
            return False

    def encode(self, arch: Arch) -> str:
        return "+".join(f"|{o1}~{i1}|{o2}~{i2}|" for i1, o1, i2, o2 in self.check(arch))

    def decode(self, s: str) -> Arch:
        if not isinstance(s, str) or not s:
            raise OutOfSpaceError(f"a PNAS cell string looks like '|op~i|op~j|+|op~i|op~j|', got {s!r}")
        blocks = []
        for b, part in enumerate(s.split("+")):
            if not (part.startswith("|") and part.endswith("|")):
                raise OutOfSpaceError(f"malformed block {b} {part!r} in {s!r}; expected '|op~i|op~j|'")
            halves = part[1:-1].split("|")
            if len(halves) != 2:
                raise OutOfSpaceError(f"block {b} {part!r} of {s!r} needs exactly 2 'op~input' halves")
            pair = []
            for h in halves:
                op, sep, i = h.rpartition("~")
                if not sep or not i.isdigit():
                    raise OutOfSpaceError(f"malformed half {h!r} in block {b} of {s!r}; expected 'op~input'")
                pair.extend([int(i), op])
            blocks.append(tuple(pair))
        arch = self.check(blocks)
        if self.encode(arch) != s:
            raise OutOfSpaceError(f"{s!r} is not in canonical form; canonical: {self.encode(arch)!r}")
        return arch

    # -- enumeration ------------------------------------------------------------------------------
    def block_choices(self, b: int) -> List[Block]:
        """All distinct (canonical) blocks at position ``b``."""
        halves = [(i, o) for i in range(b + NUM_CELL_INPUTS) for o in self.ops]
        return [
            (halves[x][0], halves[x][1], halves[y][0], halves[y][1])
            for x in range(len(halves))
            for y in range(x, len(halves))
        ]

    def expand(self, arch: Arch = ()) -> List[Arch]:
        """All cells made of ``arch`` plus one more block (PNAS's ``expand``); ``expand(())`` = all 1-block cells."""
        arch = tuple(arch)
        if len(arch) >= self.num_blocks:
            return []
        if arch:
            arch = self.check(arch)
        return [arch + (blk,) for blk in self.block_choices(len(arch))]

    def count(self, num_blocks: int) -> int:
        return count_cells(num_blocks, len(self.ops))

    # -- search-space protocol ----------------------------------------------------------------------
    def sample(self, rng: random.Random, num_blocks: Optional[int] = None) -> Arch:
        """Uniform over cells of ``num_blocks`` (default B) blocks: each block uniform over its distinct blocks."""
        n = self.num_blocks if num_blocks is None else num_blocks
        out: List[Block] = []
        for b in range(n):
            out.append(rng.choice(self.block_choices(b)))
        return self.check(out)

    def mutate(self, arch: Arch, rng: random.Random) -> Arch:
        """Real et al., AAAI 2019 (NASNet space) mutations: with probability 1/2 an *op mutation* (one op of
        one block becomes another op) else a *hidden-state mutation* (one input of one block becomes
        another allowed input). The child always differs from the parent (the block's multiset of
        (input, op) halves changes)."""
        blocks = [list(b) for b in self.check(arch)]
        b = rng.randrange(len(blocks))
        side = rng.randrange(2)
        n_inputs = b + NUM_CELL_INPUTS
        if len(self.ops) > 1 and rng.random() < 0.5:
            pos = 2 * side + 1
            blocks[b][pos] = rng.choice([o for o in self.ops if o != blocks[b][pos]])
        else:
            pos = 2 * side
            blocks[b][pos] = rng.choice([i for i in range(n_inputs) if i != blocks[b][pos]])
        return self.check(blocks)

    def build(self, arch: Arch, num_classes: int = 10, *, compat: str = "clean", **kwargs: Any):
        """The network of ``arch`` (``compat``: one network for both scorer modes here)."""
        check_build_compat(self.name, compat)
        return build_pnas_net(self.check(arch), num_classes=num_classes, **kwargs)

    # -- PNAS progression (see nwot.search.progressive) ----------------------------------------------
    @property
    def depth(self) -> int:
        """Number of progressive levels (blocks)."""
        return self.num_blocks

    def level(self, arch: Arch) -> int:
        return len(arch)

    def roots(self) -> List[Arch]:
        """The level-1 cells (all 1-block cells; 136 with the 8 ops)."""
        return self.expand(())

    def children(self, arch: Arch) -> List[Arch]:
        return self.expand(arch)

    token_kinds: Tuple[str, ...] = ("input", "op", "input", "op")

    def token_vocab(self) -> Dict[str, int]:
        return {"input": self.num_blocks + NUM_CELL_INPUTS - 1, "op": len(self.ops)}

    def tokens(self, arch: Arch) -> List[Tuple[int, ...]]:
        """Per block ``(i1, op1, i2, op2)`` as integer ids (PNAS §3.3's LSTM input)."""
        idx = self._op_index
        try:
            return [(i1, idx[o1], i2, idx[o2]) for i1, o1, i2, o2 in arch]
        except (KeyError, TypeError, ValueError) as e:
            raise OutOfSpaceError(f"not a PNAS cell over ops {', '.join(self.ops)}: {arch!r}") from e
