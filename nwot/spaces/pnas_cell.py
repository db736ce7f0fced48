"""The PNAS cell space: cells of B blocks, each block adding two transformed inputs.

Liu et al., "Progressive Neural Architecture Search", ECCV 2018 (arXiv:1712.00559), §3.1. Block b of
a cell takes two inputs from

    I_b = {H^{c-2}, H^{c-1}} ∪ {H_0, ..., H_{b-1}}      (the two previous cells' outputs, earlier blocks)

applies one op of O to each and adds the results: ``H_b = o_1(i_1) + o_2(i_2)``. Here inputs are
integers: 0 = H^{c-2}, 1 = H^{c-1}, 2 + j = block j of this cell, so block b chooses from ``b + 2``
inputs. O holds the paper's 8 ops (:data:`OPS`). Normal and reduction cells share the cell (reduction
applies stride 2 to the ops reading the previous cells).

**Symmetry.** Addition is commutative, so the blocks ``(i1, o1, i2, o2)`` and ``(i2, o2, i1, o1)`` are
the same: a block is an *unordered* pair (with repetition) of (input, op) choices. PNAS §3.1 counts
``|B_1| = 2^2 * 8^2 = 256`` ordered 1-block cells and 136 after removing this symmetry:
``m = |I_1| * |O| = 16`` (input, op) choices give ``m (m + 1) / 2 = 136`` unordered pairs. In general
block b has ``m_b = (b + 2) * |O|`` choices and ``m_b (m_b + 1) / 2`` distinct blocks (:func:`count_cells`).
We store each block canonically, ``(i1, op1) <= (i2, op2)`` in (input, op index) order; no other
symmetry (block order) is removed, as in PNAS.

An :data:`Arch` is the tuple of blocks ``((i1, op1, i2, op2), ...)``; a cell with fewer than B blocks
is valid (PNAS's progressive steps). Encoding (NB201-like, blocks separated by ``+``)::

    |sep_conv_3x3~1|max_pool_3x3~0|+|identity~2|sep_conv_5x5~1|
"""
from __future__ import annotations

import random
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..errors import NwotError, OutOfSpaceError
from .base import register_space

#: The 8 PNAS operations (§3.1), in this fixed order (the op index used for canonical order / tokens).
OPS: Tuple[str, ...] = (
    "sep_conv_3x3",  # 3x3 depthwise-separable convolution
    "sep_conv_5x5",  # 5x5 depthwise-separable convolution
    "sep_conv_7x7",  # 7x7 depthwise-separable convolution
    "conv_1x7_7x1",  # 1x7 followed by 7x1 convolution
    "identity",  # identity
    "avg_pool_3x3",  # 3x3 average pooling
    "max_pool_3x3",  # 3x3 max pooling
    "dil_conv_3x3",  # 3x3 dilated convolution
)
#: Inputs 0 and 1 are the outputs of cells c-2 and c-1.
NUM_CELL_INPUTS = 2
#: PNAS's number of blocks per cell (§5.1).
DEFAULT_BLOCKS = 5

Block = Tuple[int, str, int, str]
Arch = Tuple[Block, ...]


def canonical_block(i1: int, op1: str, i2: int, op2: str, ops: Sequence[str] = OPS) -> Block:
    """The block with its two (input, op) halves in canonical order ``(i1, op1) <= (i2, op2)``."""
    a, b = (i1, ops.index(op1)), (i2, ops.index(op2))
    if b < a:
        a, b = b, a
    return (a[0], ops[a[1]], b[0], ops[b[1]])


def count_cells(num_blocks: int, num_ops: int = len(OPS)) -> int:
    """Distinct cells of exactly ``num_blocks`` blocks: ``prod_b m_b (m_b + 1) / 2``, ``m_b = (b + 2) |O|``."""
    total = 1
    for b in range(num_blocks):
        m = (b + NUM_CELL_INPUTS) * num_ops
        total *= m * (m + 1) // 2
    return total


def input_name(i: int) -> str:
    """0 -> ``H^{c-2}``, 1 -> ``H^{c-1}``, 2 + j -> ``block j``."""
    return ("H^{c-2}", "H^{c-1}")[i] if i < NUM_CELL_INPUTS else f"block {i - NUM_CELL_INPUTS}"


@register_space("pnas")
class PNASCellSpace:
    """PNAS cells of up to ``num_blocks`` blocks over ``ops`` (a sub-list of :data:`OPS`, in that order)."""

    name = "pnas"

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
                    raise OutOfSpaceError(f"block {b} input {i!r} out of range; allowed 0..{b + NUM_CELL_INPUTS - 1} "
                                          f"(0 = H^{{c-2}}, 1 = H^{{c-1}}, 2+j = block j)")
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
        return [(halves[x][0], halves[x][1], halves[y][0], halves[y][1])
                for x in range(len(halves)) for y in range(x, len(halves))]

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

    def build(self, arch: Arch, num_classes: int = 10, **kwargs: Any):
        from ..models.pnas_net import build_pnas_net

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
