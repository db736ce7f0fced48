"""The genome of large-scale evolution (Real et al., "Large-Scale Evolution of Image Classifiers", ICML 2017, §3.2).

A genome ("DNA") is a DAG. **Vertices** are rank-3 activation tensors (channels x height x width); each
vertex applies one *activation* to the sum of its inputs: ``"bn_relu"`` (batch normalisation, then ReLU)
or ``"linear"`` (none). Vertex :data:`INPUT` (id 0) is the image. **Edges** are either convolutions
(:class:`Conv`: output channels, filter height x width, stride; "same" zero padding ``k // 2``) or
identity connections. Every non-input vertex has exactly one *primary* input edge (the "convolutional
backbone" of the paper's Fig. 1 is the chain of primary edges from the input to :attr:`Genome.output`);
any further inputs are *skip* edges, which are identities. The learning rate is a gene too.

Shapes: ``shape(INPUT) = image``; a vertex takes its primary input's shape, a convolution with stride ``s``
maps ``H x W`` to ``ceil(H / s) x ceil(W / s)`` with its own number of channels. Skip inputs whose shape
differs are reshaped to the primary one before the sum (§3.2): zeroth-order (nearest-neighbour)
interpolation for height / width, truncation or zero padding for channels.

Validation (:func:`validate`) names the reason a genome is not a network: a cycle, a dangling vertex (not
reachable from the input, or with no path to the output), a stride larger than its input's height or
width ("shrinks the image below 1 pixel": ``H / s < 1``), a vertex without exactly one primary input, a skip
edge that is not an identity, two edges between the same vertices, bad numbers.

Vertex and edge ids are persistent: a mutation keeps the ids of everything it does not touch and gives new
parts fresh ids (``max + 1``). A child's layers are named by these ids, so weight inheritance is "copy the
parent's tensor of the same name when its shape is unchanged" (see :mod:`nwot.evaluators.lineage`).

An :class:`Individual` is a genome plus its lineage (its own ``uid``, its parent's, the mutation that made
it); that is the ``Arch`` of the ``lse`` space. Canonical strings (:func:`encode` / :func:`decode`)::

    uid=5f0c...;parent=-;mut=initial;retries=0;lr=0.1;out=0;v=0:linear;e=
    ...;lr=0.1;out=2;v=0:linear,1:bn_relu,2:linear;e=0:0-1:conv3x3s1c3,1:1-2:id,2:0-2:skip
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

from nwot.errors import OutOfSpaceError

#: Id of the input vertex (the image).
INPUT = 0
#: Vertex activations: none, or batch norm + ReLU (§3.2).
ACTIVATIONS: Tuple[str, ...] = ("linear", "bn_relu")
#: (channels, height, width) of the CIFAR images the genomes are validated against by default.
CIFAR_SHAPE: Tuple[int, int, int] = (3, 32, 32)

Shape = Tuple[int, int, int]


class InvalidGenomeError(OutOfSpaceError):
    """A genome that is not a network; ``reason`` says why (also the message)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid LSE genome: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class Conv:
    """A convolution edge's parameters (all mutable by the paper's mutations)."""

    channels: int  # output channels
    kh: int  # filter height (odd)
    kw: int  # filter width (odd)
    stride: int  # stride in both directions (a power of 2)


@dataclass(frozen=True)
class Edge:
    """A directed edge ``src -> dst``: a convolution, or an identity when ``conv is None``."""

    id: int  # persistent id (names the layer: weight inheritance)
    src: int  # source vertex id
    dst: int  # target vertex id
    conv: Optional[Conv] = None  # None = identity ("one-to-one")
    skip: bool = False  # False: dst's primary input (the backbone); True: a skip input (identity only)


@dataclass(frozen=True)
class Vertex:
    id: int  # persistent id
    act: str = "linear"  # one of ACTIVATIONS


@dataclass(frozen=True)
class Genome:
    """The DNA: vertices, edges, the output vertex (fed to the classifier head) and the learning rate.

    Tuples are kept sorted by id, so equal networks compare (and encode) equal.
    """

    vertices: Tuple[Vertex, ...]
    edges: Tuple[Edge, ...]
    output: int  # vertex whose activations go to global pooling + the fully connected classifier
    learning_rate: float  # SGD learning rate of this individual's training (a gene, §3.2)

    def __post_init__(self) -> None:
        object.__setattr__(self, "vertices", tuple(sorted(self.vertices, key=lambda v: v.id)))
        object.__setattr__(self, "edges", tuple(sorted(self.edges, key=lambda e: e.id)))

    # -- lookups (no validation) ----------------------------------------------------------------
    def vertex(self, vid: int) -> Vertex:
        for v in self.vertices:
            if v.id == vid:
                return v
        raise InvalidGenomeError(f"no vertex {vid} (vertices: {[v.id for v in self.vertices]})")

    def in_edges(self, vid: int) -> List[Edge]:
        return [e for e in self.edges if e.dst == vid]

    def out_edges(self, vid: int) -> List[Edge]:
        return [e for e in self.edges if e.src == vid]

    def primary(self, vid: int) -> Optional[Edge]:
        """The primary (non-skip) input edge of ``vid`` (None for the input or a broken genome)."""
        prim = [e for e in self.in_edges(vid) if not e.skip]
        return prim[0] if len(prim) == 1 else None

    def backbone(self) -> List[int]:
        """Vertex ids along the primary edges from the input to the output (input first)."""
        path, v, seen = [self.output], self.output, {self.output}
        while v != INPUT:
            e = self.primary(v)
            if e is None or e.src in seen:
                raise InvalidGenomeError(f"vertex {v} has no single primary input on the way back to the input")
            v = e.src
            seen.add(v)
            path.append(v)
        return path[::-1]

    def convs(self) -> List[Edge]:
        return [e for e in self.edges if e.conv is not None]

    def skips(self) -> List[Edge]:
        return [e for e in self.edges if e.skip]

    def next_vertex_id(self) -> int:
        return max(v.id for v in self.vertices) + 1

    def next_edge_id(self) -> int:
        return max((e.id for e in self.edges), default=-1) + 1


@dataclass(frozen=True)
class Individual:
    """The ``lse`` space's arch: a genome and its lineage (who its parent is, how it was made)."""

    genome: Genome
    uid: str  # this individual's id (16 hex digits, drawn from the caller's rng)
    parent: str = ""  # the parent's uid ("" for an initial, trivial model)
    mutation: str = "initial"  # the mutation that made it from the parent
    retries: int = 0  # mutations redrawn before this one because they were inapplicable or invalid
    rejected: Tuple[str, ...] = field(default=(), compare=False)  # their names ("name: reason"), not encoded

    @property
    def inherits(self) -> bool:
        """Whether training starts from the parent's trained weights (every mutation but reset-weights)."""
        return bool(self.parent) and self.mutation != "reset-weights"


def trivial_genome(learning_rate: float = 0.1) -> Genome:
    """The paper's initial model: no hidden layers (the image goes straight to the classifier); lr 0.1 (§3.2)."""
    return Genome((Vertex(INPUT, "linear"),), (), INPUT, float(learning_rate))


# --------------------------------------------------------------------------------------------------
# Validation and shapes.
# --------------------------------------------------------------------------------------------------


def _is_int(v, low: int = 0) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= low


def _static_reason(g: Genome) -> Optional[str]:
    if not isinstance(g.learning_rate, float) or not math.isfinite(g.learning_rate) or g.learning_rate <= 0:
        return f"the learning rate must be a finite float > 0, got {g.learning_rate!r}"
    ids = [v.id for v in g.vertices]
    if not all(_is_int(i) for i in ids):
        return f"vertex ids must be ints >= 0, got {ids}"
    if len(set(ids)) != len(ids):
        return f"duplicate vertex ids in {ids}"
    if INPUT not in ids:
        return f"no input vertex {INPUT}"
    for v in g.vertices:
        if v.act not in ACTIVATIONS:
            return f"vertex {v.id} has unknown activation {v.act!r}; allowed: {', '.join(ACTIVATIONS)}"
    if g.vertex(INPUT).act != "linear":
        return f"the input vertex {INPUT} is the image: its activation must be 'linear', got {g.vertex(INPUT).act!r}"
    eids = [e.id for e in g.edges]
    if not all(_is_int(i) for i in eids) or len(set(eids)) != len(eids):
        return f"edge ids must be distinct ints >= 0, got {eids}"
    idset, pairs = set(ids), set()
    for e in g.edges:
        for end in (e.src, e.dst):
            if end not in idset:
                return f"edge {e.id} ({e.src}->{e.dst}) points to vertex {end}, which does not exist"
        if e.src == e.dst:
            return f"edge {e.id} is a loop on vertex {e.src} (a cycle)"
        if (e.src, e.dst) in pairs:
            return f"two edges {e.src}->{e.dst}"
        pairs.add((e.src, e.dst))
        if e.dst == INPUT:
            return f"edge {e.id} ({e.src}->{e.dst}) enters the input vertex"
        if e.skip and e.conv is not None:
            return f"skip edge {e.id} ({e.src}->{e.dst}) must be an identity, got a convolution"
        if e.conv is not None:
            c = e.conv
            if not _is_int(c.channels, 1):
                return f"edge {e.id}: channels must be an int >= 1, got {c.channels!r}"
            for name, k in (("height", c.kh), ("width", c.kw)):
                if not _is_int(k, 1) or k % 2 == 0:
                    return f"edge {e.id}: filter {name} must be an odd int >= 1, got {k!r}"
            if not _is_int(c.stride, 1) or c.stride & (c.stride - 1):
                return f"edge {e.id}: stride must be a power of 2 (1, 2, 4, ...), got {c.stride!r}"
    for v in ids:
        if v == INPUT:
            continue
        n = sum(1 for e in g.edges if e.dst == v and not e.skip)
        if n != 1:
            return f"vertex {v} has {n} primary (non-skip) inputs; every non-input vertex needs exactly 1"
    if g.output not in idset:
        return f"the output vertex {g.output!r} does not exist"
    return None


def topological_order(g: Genome) -> List[int]:
    """Vertex ids in a topological order (Kahn, smallest id first); :class:`InvalidGenomeError` on a cycle."""
    indeg = {v.id: 0 for v in g.vertices}
    for e in g.edges:
        indeg[e.dst] += 1
    ready = sorted(v for v, d in indeg.items() if d == 0)
    order: List[int] = []
    while ready:
        v = ready.pop(0)
        order.append(v)
        for e in g.out_edges(v):
            indeg[e.dst] -= 1
            if indeg[e.dst] == 0:
                ready.append(e.dst)
                ready.sort()
    if len(order) != len(indeg):
        raise InvalidGenomeError(f"a cycle through vertices {sorted(v for v, d in indeg.items() if d > 0)}")
    return order


def _reachable(start: int, step: Dict[int, List[int]]) -> set:
    seen, todo = {start}, [start]
    while todo:
        for w in step.get(todo.pop(), []):
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def shapes(g: Genome, image: Shape = CIFAR_SHAPE) -> Dict[int, Shape]:
    """``{vertex id: (channels, height, width)}``; raises :class:`InvalidGenomeError` with the reason."""
    reason = _static_reason(g)
    if reason:
        raise InvalidGenomeError(reason)
    order = topological_order(g)
    fwd: Dict[int, List[int]] = {}
    back: Dict[int, List[int]] = {}
    for e in g.edges:
        fwd.setdefault(e.src, []).append(e.dst)
        back.setdefault(e.dst, []).append(e.src)
    from_input, to_output = _reachable(INPUT, fwd), _reachable(g.output, back)
    for v in order:
        if v not in from_input:
            raise InvalidGenomeError(f"dangling vertex {v}: not reachable from the input")
        if v not in to_output:
            raise InvalidGenomeError(f"dangling vertex {v}: no path to the output vertex {g.output}")
    out: Dict[int, Shape] = {INPUT: tuple(image)}  # type: ignore[dict-item]
    for v in order:
        if v == INPUT:
            continue
        e = g.primary(v)
        c, h, w = out[e.src]
        if e.conv is not None:
            s = e.conv.stride
            if s > h or s > w:
                raise InvalidGenomeError(f"edge {e.id} ({e.src}->{e.dst}): stride {s} on a {h}x{w} input shrinks "
                                         f"the image below 1 pixel")
            c, h, w = e.conv.channels, -(-h // s), -(-w // s)
        out[v] = (c, h, w)
    return out


def validate(g: Genome, image: Shape = CIFAR_SHAPE) -> Optional[str]:
    """None for a valid genome, else the reason it is not a network."""
    try:
        shapes(g, image)
    except InvalidGenomeError as err:
        return err.reason
    return None


def check(g: Genome, image: Shape = CIFAR_SHAPE) -> Genome:
    """``g`` if valid, else :class:`InvalidGenomeError` naming the reason."""
    shapes(g, image)
    return g


# --------------------------------------------------------------------------------------------------
# Canonical strings.
# --------------------------------------------------------------------------------------------------

_CONV = re.compile(r"conv(\d+)x(\d+)s(\d+)c(\d+)")
_UID = re.compile(r"[0-9a-f]{16}")
_GENOME_KEYS = ("lr", "out", "v", "e")
_INDIVIDUAL_KEYS = ("uid", "parent", "mut", "retries")


def _edge_token(e: Edge) -> str:
    if e.conv is not None:
        op = f"conv{e.conv.kh}x{e.conv.kw}s{e.conv.stride}c{e.conv.channels}"
    else:
        op = "skip" if e.skip else "id"
    return f"{e.id}:{e.src}-{e.dst}:{op}"


def encode_genome(g: Genome) -> str:
    """``lr=<repr>;out=<id>;v=<id>:<act>,...;e=<id>:<src>-<dst>:<op>,...`` (op: convKHxKWsScC, id, skip)."""
    verts = ",".join(f"{v.id}:{v.act}" for v in g.vertices)
    edges = ",".join(_edge_token(e) for e in g.edges)
    return f"lr={g.learning_rate!r};out={g.output};v={verts};e={edges}"


def structure_key(g: Genome) -> str:
    """:func:`encode_genome` without the learning rate: equal for genomes that build the same network."""
    return encode_genome(g).partition(";")[2]


def _fields(s: str, keys: Iterable[str]) -> Dict[str, str]:
    parts = s.split(";")
    keys = list(keys)
    got = [p.partition("=")[0] for p in parts]
    if got != keys or any("=" not in p for p in parts):
        raise OutOfSpaceError(f"malformed LSE string {s!r}: expected the fields {'=...;'.join(keys)}=... in this "
                              f"order, got {got}")
    return {p.partition("=")[0]: p.partition("=")[2] for p in parts}


def _int(s: str, what: str, text: str) -> int:
    if not re.fullmatch(r"\d+", s):
        raise OutOfSpaceError(f"malformed LSE string {text!r}: {what} must be a non-negative int, got {s!r}")
    return int(s)


def _parse_genome(f: Dict[str, str], text: str) -> Genome:
    try:
        lr = float(f["lr"])
    except ValueError:
        raise OutOfSpaceError(f"malformed LSE string {text!r}: lr {f['lr']!r} is not a number") from None
    verts = []
    for tok in filter(None, f["v"].split(",")):
        vid, sep, act = tok.partition(":")
        if not sep:
            raise OutOfSpaceError(f"malformed LSE string {text!r}: vertex {tok!r} must be '<id>:<activation>'")
        verts.append(Vertex(_int(vid, "a vertex id", text), act))
    edges = []
    for tok in filter(None, f["e"].split(",")):
        m = re.fullmatch(r"(\d+):(\d+)-(\d+):(\w+)", tok)
        if not m:
            raise OutOfSpaceError(f"malformed LSE string {text!r}: edge {tok!r} must be '<id>:<src>-<dst>:<op>'")
        eid, src, dst, op = int(m[1]), int(m[2]), int(m[3]), m[4]
        if op in ("id", "skip"):
            edges.append(Edge(eid, src, dst, None, op == "skip"))
            continue
        c = _CONV.fullmatch(op)
        if not c:
            raise OutOfSpaceError(f"malformed LSE string {text!r}: edge op {op!r}; allowed: 'id', 'skip', "
                                  f"'conv<KH>x<KW>s<stride>c<channels>'")
        edges.append(Edge(eid, src, dst, Conv(int(c[4]), int(c[1]), int(c[2]), int(c[3]))))
    return Genome(tuple(verts), tuple(edges), _int(f["out"], "out", text), lr)


def decode_genome(s: str, image: Shape = CIFAR_SHAPE) -> Genome:
    """Inverse of :func:`encode_genome`; the genome is validated (:class:`InvalidGenomeError` with the reason)."""
    if not isinstance(s, str):
        raise OutOfSpaceError(f"an LSE genome string must be a str, got {type(s).__name__}: {s!r}")
    return check(_parse_genome(_fields(s, _GENOME_KEYS), s), image)


def encode(ind: Individual) -> str:
    """``uid=..;parent=..|-;mut=..;retries=..;`` + :func:`encode_genome`."""
    return (f"uid={ind.uid};parent={ind.parent or '-'};mut={ind.mutation};retries={ind.retries};"
            + encode_genome(ind.genome))


def decode(s: str, image: Shape = CIFAR_SHAPE) -> Individual:
    """Inverse of :func:`encode` (``rejected`` is not encoded and comes back empty)."""
    if not isinstance(s, str):
        raise OutOfSpaceError(f"an LSE individual string must be a str, got {type(s).__name__}: {s!r}")
    f = _fields(s, _INDIVIDUAL_KEYS + _GENOME_KEYS)
    if not _UID.fullmatch(f["uid"]) or not (f["parent"] == "-" or _UID.fullmatch(f["parent"])):
        raise OutOfSpaceError(f"malformed LSE string {s!r}: uid / parent must be 16 lowercase hex digits "
                              f"(parent '-' for none), got {f['uid']!r} / {f['parent']!r}")
    if not re.fullmatch(r"[a-z][a-z-]*", f["mut"]):
        raise OutOfSpaceError(f"malformed LSE string {s!r}: mut {f['mut']!r} must be a mutation name")
    g = check(_parse_genome(f, s), image)
    return Individual(g, f["uid"], "" if f["parent"] == "-" else f["parent"], f["mut"],
                      _int(f["retries"], "retries", s))
