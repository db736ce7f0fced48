"""NAS-Bench-101 cell search space.

Ying et al., "NAS-Bench-101: Towards Reproducible Neural Architecture Search", ICML 2019, §2.1.
A cell (the paper's "module") is a DAG on at most 7 vertices given by an upper-triangular 0/1
adjacency matrix and one label per vertex: the first vertex is ``input``, the last ``output``, the
interior ones are ``conv3x3-bn-relu``, ``conv1x1-bn-relu`` or ``maxpool3x3``. At most 9 edges.

Semantics follow the official ``nasbench`` code (``lib/model_spec.py``, ``lib/graph_util.py``,
``api.py``), re-implemented here:

* **pruning** (:func:`prune`): vertices not on an input -> output path are deleted (with their edges);
  if input and output are disconnected the spec is invalid;
* **membership** (:func:`check_spec`): after pruning, <= 7 vertices and <= 9 edges (the limits apply to
  the *pruned* graph, as the official ``NASBench._check_spec``);
* **graph hash** (:func:`spec_hash`): the isomorphism-invariant MD5 key of the benchmark (see
  :func:`graph_hash`); 423,624 distinct hashes make up the benchmark.

A :class:`Spec` keeps the matrix and ops it was given (like the official ``original_matrix``), so
mutation acts on the full 7-vertex matrix as in the official example; lookups prune and hash.

String encoding (:func:`encode_spec`): the two fields the official ``.tfrecord`` stores per row,
joined by ``|`` -- the row-major matrix digits (``raw_adjacency``, V*V characters) and the
comma-separated op names (``raw_operations``)::

    0100110001000000010010000010000001000000010000000|input,conv3x3-bn-relu,...,output

NASLib's 56-entry tuple (49 matrix entries then 7 op ids with ``input 0, output 1, maxpool3x3 2,
conv1x1-bn-relu 3, conv3x3-bn-relu 4``) is read and written by :func:`from_naslib_tuple` /
:func:`to_naslib_tuple`.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple, Union

from nwot.errors import OutOfSpaceError

INPUT = "input"
OUTPUT = "output"
CONV3X3 = "conv3x3-bn-relu"
CONV1X1 = "conv1x1-bn-relu"
MAXPOOL3X3 = "maxpool3x3"
#: Interior ops in the official ``config['available_ops']`` order; the position is the op's hash label.
OPS: Tuple[str, ...] = (CONV3X3, CONV1X1, MAXPOOL3X3)
#: Hash labels of the two fixed vertices (official ``ModelSpec.hash_spec``).
INPUT_LABEL, OUTPUT_LABEL = -1, -2
#: NASLib ``all_ops`` (the op ids of its 56-tuples, MANIFEST §3).
NASLIB_OPS: Tuple[str, ...] = (INPUT, OUTPUT, MAXPOOL3X3, CONV1X1, CONV3X3)
MAX_VERTICES = 7  # official config['module_vertices']
MAX_EDGES = 9  # official config['max_edges']
OP_SPOTS = MAX_VERTICES - 2
NUM_CELLS = 423_624  # distinct graph hashes in the benchmark (Ying et al. §2.2)

Matrix = Tuple[Tuple[int, ...], ...]


@dataclass(frozen=True)
class Spec:
    """One cell: ``matrix[i][j] = 1`` iff there is an edge i -> j (i < j); ``ops[i]`` labels vertex i.

    Construction checks the structure (square, upper-triangular, 0/1, ``input`` first, ``output`` last,
    known interior ops); membership of the benchmark space is :func:`check_spec`.
    """

    matrix: Matrix
    ops: Tuple[str, ...]

    def __post_init__(self) -> None:
        try:
            matrix = tuple(tuple(int(v) for v in row) for row in self.matrix)
        except (TypeError, ValueError) as err:
            raise OutOfSpaceError(
                f"NB101 matrix must be a square 0/1 matrix (nested sequences), got {self.matrix!r}") from err
        ops = tuple(self.ops)
        n = len(matrix)
        if n < 2 or any(len(row) != n for row in matrix):
            raise OutOfSpaceError(f"NB101 matrix must be square with >= 2 vertices, got shape "
                                  f"{n}x{[len(r) for r in matrix]}: {self.matrix!r}")
        if len(ops) != n:
            raise OutOfSpaceError(f"NB101 spec has {n} vertices but {len(ops)} ops: {ops!r}")
        for i, row in enumerate(matrix):
            for j, v in enumerate(row):
                if v not in (0, 1):
                    raise OutOfSpaceError(f"NB101 matrix entries must be 0 or 1, got {v!r} at ({i}, {j})")
                if v and j <= i:
                    raise OutOfSpaceError(f"NB101 matrix must be strictly upper-triangular, got an edge {i} -> {j}")
        if ops[0] != INPUT or ops[-1] != OUTPUT:
            raise OutOfSpaceError(f"NB101 ops must start with {INPUT!r} and end with {OUTPUT!r}, got {ops!r}")
        for op in ops[1:-1]:
            if op not in OPS:
                raise OutOfSpaceError(f"unknown NB101 op {op!r} in {ops!r}; allowed: {', '.join(OPS)}")
        object.__setattr__(self, "matrix", matrix)
        object.__setattr__(self, "ops", ops)

    @property
    def num_vertices(self) -> int:
        return len(self.ops)

    @property
    def num_edges(self) -> int:
        return sum(map(sum, self.matrix))

    def edge(self, i: int, j: int) -> bool:
        return bool(self.matrix[i][j])


SpecLike = Union[Spec, str, Sequence[int], Tuple[Any, Any]]


# --- graph maths ------------------------------------------------------------------------------------

def graph_hash(matrix: Sequence[Sequence[int]], labels: Sequence[int]) -> str:
    """Isomorphism-invariant MD5 of a labelled directed graph (official ``graph_util.hash_module``).

    Weisfeiler-Lehman-style refinement. Start: ``h_v = md5(str((out_deg(v), in_deg(v), label_v)))``.
    Repeat V times: ``h_v <- md5(join(sorted h_in(v)) + "|" + join(sorted h_out(v)) + "|" + h_v)``.
    Fingerprint: ``md5(str(sorted(h)))`` with Python's list ``str`` (``"['h1', 'h2', ...]"``).
    Hashes are lowercase hex digests of UTF-8 text.
    """
    n = len(labels)
    out_deg = [sum(int(bool(matrix[v][w])) for w in range(n)) for v in range(n)]
    in_deg = [sum(int(bool(matrix[w][v])) for w in range(n)) for v in range(n)]
    hashes = [_md5(f"({out_deg[v]}, {in_deg[v]}, {int(labels[v])})") for v in range(n)]
    for _ in range(n):
        new = []
        for v in range(n):
            ins = "".join(sorted(hashes[w] for w in range(n) if matrix[w][v]))
            outs = "".join(sorted(hashes[w] for w in range(n) if matrix[v][w]))
            new.append(_md5(f"{ins}|{outs}|{hashes[v]}"))
        hashes = new
    return _md5("[" + ", ".join(f"'{h}'" for h in sorted(hashes)) + "]")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def _reachable(matrix: Matrix, start: int, forward: bool) -> set:
    n = len(matrix)
    seen, frontier = {start}, [start]
    while frontier:
        v = frontier.pop()
        nbrs = range(v + 1, n) if forward else range(v)
        for w in nbrs:
            if (matrix[v][w] if forward else matrix[w][v]) and w not in seen:
                seen.add(w)
                frontier.append(w)
    return seen


def prune(spec: Spec) -> Optional[Spec]:
    """Drop vertices not on an input -> output path (official ``ModelSpec._prune``); ``None`` if disconnected.

    Kept = reachable forward from vertex 0 AND backward from vertex V-1; the rest are deleted with
    their rows/columns and ops, keeping the order of the survivors.
    """
    n = spec.num_vertices
    keep = sorted(_reachable(spec.matrix, 0, True) & _reachable(spec.matrix, n - 1, False))
    if len(keep) < 2 or keep[0] != 0 or keep[-1] != n - 1:
        return None
    matrix = tuple(tuple(spec.matrix[i][j] for j in keep) for i in keep)
    return Spec(matrix, tuple(spec.ops[i] for i in keep))


def is_pruned(spec: Spec) -> bool:
    return prune(spec) == spec


def check_spec(spec: Spec) -> Spec:
    """The pruned spec if it belongs to the benchmark space, else ``OutOfSpaceError`` saying why."""
    pruned = prune(spec)
    if pruned is None:
        raise OutOfSpaceError(f"invalid NB101 spec, input and output are disconnected: {encode_spec(spec)}")
    if pruned.num_vertices > MAX_VERTICES:
        raise OutOfSpaceError(f"NB101 spec has {pruned.num_vertices} vertices after pruning; at most {MAX_VERTICES} "
                              f"allowed: {encode_spec(spec)}")
    if pruned.num_edges > MAX_EDGES:
        raise OutOfSpaceError(f"NB101 spec has {pruned.num_edges} edges after pruning; at most {MAX_EDGES} "
                              f"allowed: {encode_spec(spec)}")
    return pruned


def is_valid(spec: Spec) -> bool:
    """True when ``spec`` (after pruning) is a member of the benchmark space (official ``is_valid``)."""
    try:
        check_spec(spec)
    except OutOfSpaceError:
        return False
    return True


def hash_labels(spec: Spec) -> List[int]:
    """``[-1] + [OPS.index(op) for interior ops] + [-2]`` (official ``hash_spec`` labelling)."""
    return [INPUT_LABEL] + [OPS.index(op) for op in spec.ops[1:-1]] + [OUTPUT_LABEL]


def spec_hash(spec: SpecLike) -> str:
    """The benchmark key of a spec: :func:`graph_hash` of the pruned graph (official ``_hash_spec``)."""
    pruned = check_spec(to_spec(spec))
    return graph_hash(pruned.matrix, hash_labels(pruned))


# --- encodings -------------------------------------------------------------------------------------

def encode_spec(spec: Spec) -> str:
    """``raw_adjacency|raw_operations`` (the tfrecord's own fields, see module docstring)."""
    return "".join(str(v) for row in spec.matrix for v in row) + "|" + ",".join(spec.ops)


def decode_spec(s: str) -> Spec:
    """Inverse of :func:`encode_spec`."""
    if not isinstance(s, str) or s.count("|") != 1:
        raise OutOfSpaceError(f"NB101 spec string must look like '<V*V matrix digits>|<op,op,...>', got {s!r}")
    bits, ops = s.split("|")
    return from_raw(bits, ops)


def from_raw(raw_adjacency: str, raw_operations: str) -> Spec:
    """A spec from the tfrecord's ``raw_adjacency`` (V*V digits) and ``raw_operations`` (comma list)."""
    ops = tuple(raw_operations.split(","))
    n = len(ops)
    if len(raw_adjacency) != n * n or set(raw_adjacency) - {"0", "1"}:
        raise OutOfSpaceError(f"NB101 raw adjacency must be {n * n} digits 0/1 for {n} ops, got {raw_adjacency!r}")
    return Spec(tuple(tuple(int(c) for c in raw_adjacency[i * n:(i + 1) * n]) for i in range(n)), ops)


def to_naslib_tuple(spec: Spec) -> Tuple[int, ...]:
    """NASLib ``convert_spec_to_tuple``: flattened matrix then NASLib op ids (MANIFEST §3)."""
    return tuple(v for row in spec.matrix for v in row) + tuple(NASLIB_OPS.index(op) for op in spec.ops)


def from_naslib_tuple(tup: Sequence[int]) -> Spec:
    """Inverse of :func:`to_naslib_tuple` (length n*n + n)."""
    tup = tuple(int(v) for v in tup)
    n = next((k for k in range(2, MAX_VERTICES * 2) if k * k + k == len(tup)), None)
    if n is None:
        raise OutOfSpaceError(f"a NASLib NB101 tuple has n*n + n entries (56 for 7 vertices), got {len(tup)}")
    for v in tup[n * n:]:
        if not 0 <= v < len(NASLIB_OPS):
            raise OutOfSpaceError(f"NASLib NB101 op id {v} out of range; allowed 0..4 ({', '.join(NASLIB_OPS)})")
    matrix = tuple(tup[i * n:(i + 1) * n] for i in range(n))
    return Spec(matrix, tuple(NASLIB_OPS[v] for v in tup[n * n:]))


def to_spec(x: SpecLike) -> Spec:
    """Normalise a :class:`Spec`, an :func:`encode_spec` string, a NASLib tuple or ``(matrix, ops)``."""
    if isinstance(x, Spec):
        return x
    if isinstance(x, str):
        s = x.strip()
        if s.startswith("("):
            return from_naslib_tuple(int(v) for v in s.strip("()").split(","))
        return decode_spec(s)
    if isinstance(x, dict) and {"matrix", "ops"} <= set(x):
        return Spec(_as_matrix(x["matrix"]), tuple(x["ops"]))
    seq = tuple(x)
    if len(seq) == 2 and not isinstance(seq[0], (int,)):
        return Spec(_as_matrix(seq[0]), tuple(seq[1]))
    return from_naslib_tuple(seq)


def _as_matrix(m) -> Matrix:
    return tuple(tuple(int(v) for v in row) for row in (m.tolist() if hasattr(m, "tolist") else m))


# --- sampling and mutation (Ying et al. 2019 §5, official example notebook) ------------------------

def random_spec(rng: random.Random, num_vertices: int = MAX_VERTICES) -> Spec:
    """Uniform random cell, rejection-sampled until valid (official ``random_spec``).

    Each of the ``V(V-1)/2`` upper-triangular entries is an edge with probability 1/2 and each interior
    op is uniform over :data:`OPS`; redrawn until :func:`is_valid`. The result keeps the full
    ``num_vertices`` matrix (unpruned), as the official sampler does.
    """
    n = num_vertices
    while True:
        matrix = tuple(tuple(int(j > i and rng.random() < 0.5) for j in range(n)) for i in range(n))
        ops = (INPUT,) + tuple(rng.choice(OPS) for _ in range(n - 2)) + (OUTPUT,)
        spec = Spec(matrix, ops)
        if is_valid(spec):
            return spec


def mutate_spec(spec: Spec, rng: random.Random, mutation_rate: float = 1.0) -> Spec:
    """Regularized-evolution mutation of the NB101 paper (Ying et al. 2019 §5; Real et al. 2019).

    Each upper-triangular entry flips with probability ``mutation_rate / V`` and each interior op is
    replaced by a different op with probability ``mutation_rate / (V - 2)`` (in expectation ``r (V-1)/2``
    edge flips and ``r`` op changes for rate ``r``); redrawn until the child is valid. As in the
    official example notebook, the child may equal the parent.
    """
    if not mutation_rate > 0:
        raise OutOfSpaceError(f"mutation_rate must be > 0, got {mutation_rate!r}")
    n = spec.num_vertices
    p_edge, p_op = mutation_rate / n, mutation_rate / max(n - 2, 1)
    while True:
        matrix = [list(row) for row in spec.matrix]
        for i in range(n - 1):
            for j in range(i + 1, n):
                if rng.random() < p_edge:
                    matrix[i][j] = 1 - matrix[i][j]
        ops = list(spec.ops)
        for v in range(1, n - 1):
            if rng.random() < p_op:
                ops[v] = rng.choice([op for op in OPS if op != ops[v]])
        child = Spec(tuple(map(tuple, matrix)), tuple(ops))
        if is_valid(child):
            return child


def mutate_one(spec: Spec, rng: random.Random) -> Spec:
    """Change exactly one thing: flip one edge or replace one op; redrawn until valid and a new cell.

    A uniform choice over the ``V(V-1)/2`` edge flips and ``(V-2) * 2`` op replacements (NASWOT's
    NB101 search flips one edge; NB201-style REA changes one op). "New" means a different graph hash,
    so flips of edges that pruning removes do not count as mutations.
    """
    n = spec.num_vertices
    moves = [("edge", i, j) for i in range(n - 1) for j in range(i + 1, n)]
    moves += [("op", v, op) for v in range(1, n - 1) for op in OPS if op != spec.ops[v]]
    parent = spec_hash(spec) if is_valid(spec) else None
    rng_moves = list(moves)
    rng.shuffle(rng_moves)
    for kind, a, b in rng_moves:
        if kind == "edge":
            matrix = [list(row) for row in spec.matrix]
            matrix[a][b] = 1 - matrix[a][b]
            child = Spec(tuple(map(tuple, matrix)), spec.ops)
        else:
            child = Spec(spec.matrix, spec.ops[:a] + (b,) + spec.ops[a + 1:])
        if is_valid(child) and spec_hash(child) != parent:
            return child
    raise OutOfSpaceError(f"no single edge flip or op change of {encode_spec(spec)} gives a new valid cell")


