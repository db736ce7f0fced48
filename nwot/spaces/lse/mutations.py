"""The 11 mutations of large-scale evolution (Real et al., ICML 2017, §3.2 and supplementary S1).

Each mutation is a pure function ``(genome, rng, image) -> (child genome, what happened)`` drawing only
from the passed ``random.Random``. Numerical parameters move "at random around the existing value",
uniformly from half to twice it (§3.2: a convolution with 10 channels becomes one with 5..20):

* ``alter-learning-rate``: ``lr' ~ U[lr / 2, 2 lr]``;
* ``identity``: no change ("keep training");
* ``reset-weights``: no change to the genome; the child is re-initialised (He et al., 2015) instead of
  inheriting its parent's weights (see :attr:`~nwot.spaces.lse.codec.Individual.inherits`);
* ``insert-convolution``: at a random vertex ``u`` of the backbone, a new vertex ``w`` with a random
  activation (batch norm + ReLU or none) and a 3x3 convolution ``u -> w`` with stride 1 or 2 at random and
  as many channels as ``u`` (S1); the backbone edge that left ``u`` now leaves ``w``;
* ``remove-convolution``: a random convolution ``u -> w`` is removed and ``w`` merged into ``u`` (its
  other edges move to ``u``; those that would become loops or duplicates are dropped);
* ``alter-stride``: a random convolution's stride is halved or doubled (powers of 2 only, S1);
* ``alter-number-of-channels``: a random convolution's channels ``c' ~ U{ceil(c/2) .. 2c} \\ {c}``;
* ``filter-size``: a random convolution's height or width (at random) ``k' ~`` the odd values in
  ``[k/2, 2k]`` other than ``k`` (odd values only, S1);
* ``insert-one-to-one``: as insert-convolution with an identity instead of the convolution;
* ``add-skip``: an identity skip edge between two random backbone vertices not yet joined (earlier -> later);
* ``remove-skip``: a random skip edge is removed.

:func:`mutate` picks a mutation uniformly at random; one that does not apply (e.g. remove-skip without
skips) or whose child is invalid (e.g. a stride that shrinks the image below 1 pixel) is replaced by another
mutation drawn uniformly among those not tried yet for this child, and counted in ``Mutated.rejected``.
``identity`` always applies, so the draw ends.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from typing import Callable, Dict, List, Sequence, Tuple

from nwot.errors import NwotError
from nwot.spaces.lse.codec import ACTIVATIONS, CIFAR_SHAPE, Conv, Edge, Genome, Shape, Vertex, shapes, validate

#: The paper's mutation set, in the order of §3.2.
MUTATIONS: Tuple[str, ...] = ("alter-learning-rate", "identity", "reset-weights", "insert-convolution",
                              "remove-convolution", "alter-stride", "alter-number-of-channels", "filter-size",
                              "insert-one-to-one", "add-skip", "remove-skip")

MutationFn = Callable[[Genome, random.Random, Shape], Tuple[Genome, str]]


class NotApplicable(NwotError):
    """A mutation that has nothing to act on in this genome (``reason`` says why)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Mutated:
    genome: Genome  # the child's genome (valid)
    mutation: str  # the mutation applied
    detail: str  # what it did, in words
    rejected: Tuple[Tuple[str, str], ...] = ()  # (mutation, reason) of the mutations redrawn before it


def _with_edges(g: Genome, edges: Sequence[Edge], **kw) -> Genome:
    return replace(g, edges=tuple(edges), **kw)


def _random_conv(g: Genome, rng: random.Random, what: str) -> Edge:
    convs = g.convs()
    if not convs:
        raise NotApplicable(f"{what}: the genome has no convolution")
    return rng.choice(convs)


def _swap_edge(g: Genome, old: Edge, new: Edge) -> Genome:
    return _with_edges(g, [new if e.id == old.id else e for e in g.edges])


# -- training genes --------------------------------------------------------------------------------
def alter_learning_rate(g: Genome, rng: random.Random, image: Shape) -> Tuple[Genome, str]:
    lr = rng.uniform(g.learning_rate / 2, 2 * g.learning_rate)
    return replace(g, learning_rate=lr), f"learning rate {g.learning_rate!r} -> {lr!r}"


def identity(g: Genome, rng: random.Random, image: Shape) -> Tuple[Genome, str]:
    return g, "unchanged (keep training)"


def reset_weights(g: Genome, rng: random.Random, image: Shape) -> Tuple[Genome, str]:
    return g, "unchanged genome, weights re-initialised"


# -- structure -------------------------------------------------------------------------------------
def _insert(g: Genome, rng: random.Random, image: Shape, conv: bool) -> Tuple[Genome, str]:
    backbone = g.backbone()
    u = rng.choice(backbone)
    w, eid = g.next_vertex_id(), g.next_edge_id()
    act = rng.choice(ACTIVATIONS)
    if conv:
        stride = rng.choice((1, 2))
        new = Edge(eid, u, w, Conv(shapes(g, image)[u][0], 3, 3, stride))
        what = f"3x3 convolution (stride {stride}, {new.conv.channels} channels)"
    else:
        new = Edge(eid, u, w)
        what = "identity"
    edges: List[Edge] = list(g.edges)
    output = g.output
    if u == g.output:
        output = w
    else:
        v = backbone[backbone.index(u) + 1]
        succ = g.primary(v)
        edges = [replace(e, src=w) if e.id == succ.id else e for e in edges]
    child = replace(g, vertices=g.vertices + (Vertex(w, act),), edges=tuple(edges) + (new,), output=output)
    return child, f"{what} edge {eid} {u}->{w}, new vertex {w} ({act})"


def insert_convolution(g: Genome, rng: random.Random, image: Shape) -> Tuple[Genome, str]:
    return _insert(g, rng, image, conv=True)


def insert_one_to_one(g: Genome, rng: random.Random, image: Shape) -> Tuple[Genome, str]:
    return _insert(g, rng, image, conv=False)


def remove_convolution(g: Genome, rng: random.Random, image: Shape) -> Tuple[Genome, str]:
    e = _random_conv(g, rng, "remove-convolution")
    u, w = e.src, e.dst
    moved: List[Edge] = []
    for f in g.edges:
        if f.id == e.id:
            continue
        moved.append(replace(f, src=u if f.src == w else f.src, dst=u if f.dst == w else f.dst))
    kept: List[Edge] = []
    pairs = {(f.src, f.dst) for f in moved if not f.skip}
    seen = set()
    dropped = []
    for f in moved:
        pair = (f.src, f.dst)
        if f.src == f.dst or (f.skip and (f.dst == 0 or pair in pairs or pair in seen)):
            dropped.append(f.id)
            continue
        if f.skip:
            seen.add(pair)
        kept.append(f)
    child = replace(g, vertices=tuple(v for v in g.vertices if v.id != w), edges=tuple(kept),
                    output=u if g.output == w else g.output)
    extra = f", dropped edges {dropped}" if dropped else ""
    return child, f"removed convolution edge {e.id} {u}->{w}, vertex {w} merged into {u}{extra}"


def alter_stride(g: Genome, rng: random.Random, image: Shape) -> Tuple[Genome, str]:
    e = _random_conv(g, rng, "alter-stride")
    s = e.conv.stride
    s2 = rng.choice(([s // 2] if s > 1 else []) + [2 * s])
    return _swap_edge(g, e, replace(e, conv=replace(e.conv, stride=s2))), f"edge {e.id} stride {s} -> {s2}"


def alter_number_of_channels(g: Genome, rng: random.Random, image: Shape) -> Tuple[Genome, str]:
    e = _random_conv(g, rng, "alter-number-of-channels")
    c = e.conv.channels
    c2 = rng.choice([k for k in range(math.ceil(c / 2), 2 * c + 1) if k != c])
    return _swap_edge(g, e, replace(e, conv=replace(e.conv, channels=c2))), f"edge {e.id} channels {c} -> {c2}"


def filter_size(g: Genome, rng: random.Random, image: Shape) -> Tuple[Genome, str]:
    e = _random_conv(g, rng, "filter-size")
    dim = rng.choice(("kh", "kw"))
    k = getattr(e.conv, dim)
    options = [j for j in range(math.ceil(k / 2), 2 * k + 1) if j % 2 == 1 and j != k]
    if not options:
        raise NotApplicable(f"filter-size: no other odd size in [{k}/2, 2*{k}] for edge {e.id}")
    k2 = rng.choice(options)
    side = "height" if dim == "kh" else "width"
    return _swap_edge(g, e, replace(e, conv=replace(e.conv, **{dim: k2}))), f"edge {e.id} filter {side} {k} -> {k2}"


def add_skip(g: Genome, rng: random.Random, image: Shape) -> Tuple[Genome, str]:
    backbone = g.backbone()
    joined = {(e.src, e.dst) for e in g.edges}
    pairs = [(u, v) for i, u in enumerate(backbone) for v in backbone[i + 1:] if (u, v) not in joined]
    if not pairs:
        raise NotApplicable("add-skip: every pair of backbone vertices is already joined")
    u, v = rng.choice(pairs)
    eid = g.next_edge_id()
    return _with_edges(g, g.edges + (Edge(eid, u, v, None, True),)), f"skip edge {eid} {u}->{v}"


def remove_skip(g: Genome, rng: random.Random, image: Shape) -> Tuple[Genome, str]:
    skips = g.skips()
    if not skips:
        raise NotApplicable("remove-skip: the genome has no skip edge")
    e = rng.choice(skips)
    return _with_edges(g, [f for f in g.edges if f.id != e.id]), f"removed skip edge {e.id} {e.src}->{e.dst}"


#: Mutation name -> function (the registry of this module).
MUTATION_FNS: Dict[str, MutationFn] = {
    "alter-learning-rate": alter_learning_rate,
    "identity": identity,
    "reset-weights": reset_weights,
    "insert-convolution": insert_convolution,
    "remove-convolution": remove_convolution,
    "alter-stride": alter_stride,
    "alter-number-of-channels": alter_number_of_channels,
    "filter-size": filter_size,
    "insert-one-to-one": insert_one_to_one,
    "add-skip": add_skip,
    "remove-skip": remove_skip,
}
assert tuple(MUTATION_FNS) == MUTATIONS


def check_mutations(names: Sequence[str]) -> Tuple[str, ...]:
    """``names`` as a tuple, each a known mutation (no duplicates, at least one)."""
    names = tuple(names)
    bad = [n for n in names if n not in MUTATION_FNS]
    if bad or not names or len(set(names)) != len(names):
        raise NwotError(f"LSE mutations must be distinct names from {', '.join(MUTATIONS)}; got {list(names)}")
    return names


def apply(name: str, g: Genome, rng: random.Random, image: Shape = CIFAR_SHAPE) -> Tuple[Genome, str]:
    """Apply mutation ``name`` (no validation of the child; :class:`NotApplicable` if it has nothing to act on)."""
    check_mutations([name])
    return MUTATION_FNS[name](g, rng, image)


def mutate(g: Genome, rng: random.Random, image: Shape = CIFAR_SHAPE,
           mutations: Sequence[str] = MUTATIONS) -> Mutated:
    """One mutation drawn uniformly from ``mutations``; inapplicable / invalid ones are redrawn and counted."""
    left = list(check_mutations(mutations))
    rejected: List[Tuple[str, str]] = []
    while left:
        name = rng.choice(left)
        try:
            child, detail = MUTATION_FNS[name](g, rng, image)
            reason = validate(child, image)
        except NotApplicable as err:
            reason = err.reason
        if reason is None:
            return Mutated(child, name, detail, tuple(rejected))
        rejected.append((name, reason))
        left.remove(name)
    raise NwotError(f"no mutation of {list(mutations)} gives a valid child of this genome: {rejected}")
