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

from typing import Sequence, Tuple

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


