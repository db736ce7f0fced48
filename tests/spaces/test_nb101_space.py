"""NAS-Bench-101 space: spec checks, pruning, the official graph hash, encodings, sampling, mutation."""
from __future__ import annotations

import itertools
import json
import lzma
import random

import pytest

from nwot.errors import OutOfSpaceError
from nwot.spaces import get_space
from nwot.spaces.base import SearchSpace
from nwot.spaces.nb101.codec import (
    CONV1X1,
    CONV3X3,
    INPUT,
    MAXPOOL3X3,
    OPS,
    OUTPUT,
    Spec,
    check_spec,
    decode_spec,
    encode_spec,
    from_naslib_tuple,
    graph_hash,
    hash_labels,
    is_valid,
    mutate_one,
    mutate_spec,
    prune,
    random_spec,
    spec_hash,
    to_naslib_tuple,
    to_spec,
)

I, O, C3, C1, M = INPUT, OUTPUT, CONV3X3, CONV1X1, MAXPOOL3X3

from _nb101_specs import FIRST_ROW, FIRST_ROW_HASH  # noqa: E402


def naslib_rows(root):
    """NASLib's NB101 rows under a data root (the committed cut keeps 50 of the 500, in file order)."""
    with lzma.open(root / "nb101/naslib/zc_nasbench101_subset500.json.xz", "rt") as f:
        return json.load(f)["nasbench101"]["cifar10"]


def permute(spec: Spec, perm):
    """Relabel vertex v as perm[v] (perm fixes 0 and V-1); the caller keeps the result upper-triangular."""
    n = spec.num_vertices
    inv = {perm[v]: v for v in range(n)}
    matrix = tuple(tuple(spec.matrix[inv[i]][inv[j]] for j in range(n)) for i in range(n))
    return Spec(matrix, tuple(spec.ops[inv[i]] for i in range(n)))


def topological_perms(spec: Spec):
    """All relabelings of the interior vertices that keep the matrix upper-triangular."""
    n = spec.num_vertices
    for order in itertools.permutations(range(1, n - 1)):
        perm = {0: 0, n - 1: n - 1, **{v: k + 1 for k, v in enumerate(order)}}
        if all(perm[i] < perm[j] for i in range(n) for j in range(n) if spec.matrix[i][j]):
            yield perm


def canonical_form(spec: Spec):
    """Slow, independent isomorphism class key: the smallest (matrix, ops) over all interior relabelings."""
    return min((permute(spec, p).matrix, permute(spec, p).ops) for p in topological_perms(spec))


def test_official_first_row_hash():
    assert spec_hash(FIRST_ROW) == FIRST_ROW_HASH
    assert hash_labels(FIRST_ROW) == [-1, 0, 2, 0, 0, 1, -2]  # available_ops order: conv3x3 0, conv1x1 1, maxpool 2


def test_hash_is_invariant_under_every_topological_relabeling():
    perms = list(topological_perms(FIRST_ROW))
    assert len(perms) > 1
    for p in perms:
        assert spec_hash(permute(FIRST_ROW, p)) == FIRST_ROW_HASH


# Cases of the official graph_util_test.test_hash_module (labels as integers).
def test_graph_hash_official_cases():
    diamond = ((0, 1, 1, 0), (0, 0, 0, 1), (0, 0, 0, 1), (0, 0, 0, 0))
    assert graph_hash(diamond, [-1, 1, 2, -2]) == graph_hash(diamond, [-1, 2, 1, -2])
    m1 = ((0, 1, 1, 0, 0), (0, 0, 0, 0, 1), (0, 0, 0, 1, 0), (0, 0, 0, 0, 1), (0, 0, 0, 0, 0))
    m2 = ((0, 1, 0, 1, 0), (0, 0, 1, 0, 0), (0, 0, 0, 0, 1), (0, 0, 0, 0, 1), (0, 0, 0, 0, 0))
    m3 = ((0, 1, 1, 0, 0), (0, 0, 0, 1, 0), (0, 0, 0, 0, 1), (0, 0, 0, 0, 1), (0, 0, 0, 0, 0))
    l1, l2, l3 = [-1, 1, 2, 3, -2], [-1, 2, 3, 1, -2], [-1, 2, 1, 3, -2]
    assert graph_hash(m1, l1) == graph_hash(m2, l2) == graph_hash(m3, l3)
    assert graph_hash(m1, l2) != graph_hash(m1, l1)
    assert graph_hash(m1, l3) != graph_hash(m1, l1)
    chain = ((0, 1, 0, 0, 0), (0, 0, 1, 0, 0), (0, 0, 0, 1, 0), (0, 0, 0, 0, 1), (0, 0, 0, 0, 0))
    assert graph_hash(chain, [-1, 1, 0, 0, -2]) != graph_hash(chain, [-1, 0, 0, 1, -2])  # needs self hash
    skip = ((0, 1, 0, 1), (0, 0, 1, 0), (0, 0, 0, 1), (0, 0, 0, 0))
    assert graph_hash(skip, [-1, 1, 0, -2]) != graph_hash(skip, [-1, 0, 1, -2])  # needs directed edges
    g = ((0, 1, 1, 1, 1, 0, 0), (0, 0, 1, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0, 1), (0, 0, 0, 0, 0, 1, 0),
         (0, 0, 0, 0, 0, 1, 0), (0, 0, 0, 0, 0, 0, 1), (0, 0, 0, 0, 0, 0, 0))
    assert graph_hash(g, [-1, 1, 0, 0, 0, 0, -2]) != graph_hash(g, [-1, 0, 0, 0, 1, 0, -2])  # needs in-neighbours


def test_graph_hash_random_digraph_permutations():
    """Official test_random_isomorphism_hashing: any digraph, any relabeling (not only DAGs)."""
    rng = random.Random(3)
    for _ in range(100):
        n = rng.randint(3, 9)
        m = [[rng.randint(0, 1) for _ in range(n)] for _ in range(n)]
        labels = [rng.randint(0, 4) for _ in range(n)]
        perm = list(range(n))
        rng.shuffle(perm)
        inv = {perm[v]: v for v in range(n)}
        pm = [[m[inv[i]][inv[j]] for j in range(n)] for i in range(n)]
        assert graph_hash(m, labels) == graph_hash(pm, [labels[inv[i]] for i in range(n)])


def test_hash_classes_equal_brute_force_isomorphism_classes_on_naslib_cells(data_root):
    specs = [prune(to_spec(k)) for k in naslib_rows(data_root)]
    by_hash, by_canon = {}, {}
    for i, s in enumerate(specs):
        by_hash.setdefault(spec_hash(s), set()).add(i)
        by_canon.setdefault(canonical_form(s), set()).add(i)
    assert sorted(map(sorted, by_hash.values())) == sorted(map(sorted, by_canon.values()))
    assert len(by_hash) < len(specs)  # NASLib's 500 rows repeat cells


def test_prune_removes_dangling_vertices():
    # vertex 2 has no input (unreachable), vertex 3 has no output: both are removed
    spec = Spec(((0, 1, 0, 1, 0), (0, 0, 0, 0, 1), (0, 0, 0, 0, 1), (0, 0, 0, 0, 0), (0, 0, 0, 0, 0)),
                (I, C3, C1, M, O))
    assert prune(spec) == Spec(((0, 1, 0), (0, 0, 1), (0, 0, 0)), (I, C3, O))
    assert spec_hash(spec) == spec_hash(Spec(((0, 1, 0), (0, 0, 1), (0, 0, 0)), (I, C3, O)))


def test_disconnected_and_too_many_edges_are_out_of_space():
    disconnected = Spec(((0, 1, 0), (0, 0, 0), (0, 0, 0)), (I, C3, O))
    assert prune(disconnected) is None and not is_valid(disconnected)
    with pytest.raises(OutOfSpaceError, match="disconnected"):
        spec_hash(disconnected)
    full = Spec(tuple(tuple(int(j > i) for j in range(7)) for i in range(7)), (I, C3, C3, C1, M, C3, O))
    with pytest.raises(OutOfSpaceError, match="21 edges after pruning; at most 9"):
        check_spec(full)
    big = Spec(tuple(tuple(int(j == i + 1) for j in range(8)) for i in range(8)), (I,) + (C3,) * 6 + (O,))
    with pytest.raises(OutOfSpaceError, match="8 vertices after pruning; at most 7"):
        check_spec(big)
    # 10 edges before pruning but only 9 after (vertex 5 is dangling): inside the space, as officially
    m = [[0] * 7 for _ in range(7)]
    for i, j in [(0, 1), (0, 2), (0, 3), (1, 4), (2, 4), (3, 4), (4, 6), (1, 6), (0, 6), (1, 5)]:
        m[i][j] = 1
    spec = Spec(tuple(map(tuple, m)), (I, C3, C3, C1, M, C3, O))
    assert spec.num_edges == 10 and check_spec(spec).num_edges == 9


@pytest.mark.parametrize("matrix, ops, message", [
    (((0, 1), (0, 0), (0, 0)), (I, O), "square"),
    (((0, 1), (0, 0)), (I, C3, O), "2 vertices but 3 ops"),
    (((0, 1), (1, 0)), (I, O), "upper-triangular"),
    (((0, 2), (0, 0)), (I, O), "0 or 1"),
    (((0, 1, 0), (0, 0, 1), (0, 0, 0)), (I, "conv5x5", O), "unknown NB101 op 'conv5x5'"),
    (((0, 1, 0), (0, 0, 1), (0, 0, 0)), (C3, C3, O), "must start with 'input'"),
])
def test_bad_specs_name_the_problem(matrix, ops, message):
    with pytest.raises(OutOfSpaceError, match=message):
        Spec(matrix, ops)


def test_encodings_round_trip(cut_data):
    s = encode_spec(FIRST_ROW)
    assert s == "0100110001000000010010000010000001000000010000000|" + ",".join(FIRST_ROW.ops)
    assert decode_spec(s) == FIRST_ROW == to_spec(s)
    # MANIFEST §3 sample key: ops input, maxpool, maxpool, conv3x3, conv3x3, conv3x3, output
    key = next(iter(naslib_rows(cut_data)))
    spec = to_spec(key)
    assert spec.ops == (I, M, M, C3, C3, C3, O)
    assert str(to_naslib_tuple(spec)) == key
    assert from_naslib_tuple(to_naslib_tuple(FIRST_ROW)) == FIRST_ROW
    assert to_spec((FIRST_ROW.matrix, FIRST_ROW.ops)) == FIRST_ROW
    assert to_spec({"matrix": FIRST_ROW.matrix, "ops": list(FIRST_ROW.ops)}) == FIRST_ROW
    with pytest.raises(OutOfSpaceError, match="matrix digits"):
        decode_spec("0101")
    with pytest.raises(OutOfSpaceError, match="n\\*n \\+ n"):
        from_naslib_tuple((0, 1, 2))


def test_all_naslib_rows_are_valid_specs(data_root):
    specs = [to_spec(k) for k in naslib_rows(data_root)]
    assert len(specs) == (500 if data_root.full else 50) and all(is_valid(s) for s in specs)
    # NASLib stored unpruned 7-vertex matrices: some have more than 9 edges before pruning
    assert max(s.num_edges for s in specs) > 9 >= max(check_spec(s).num_edges for s in specs)


def test_random_spec_is_valid_and_reproducible():
    a = [random_spec(random.Random(7)) for _ in range(2)]
    assert a[0] == a[1]
    rng = random.Random(0)
    specs = [random_spec(rng) for _ in range(200)]
    assert all(is_valid(s) and s.num_vertices == 7 for s in specs)
    assert len({spec_hash(s) for s in specs}) > 20
    interior = [op for s in specs for op in s.ops[1:-1]]
    assert min(interior.count(op) for op in OPS) > 250  # uniform ops: ~333 of the 1,000 each


def _diff(a: Spec, b: Spec):
    edges = [(i, j) for i in range(7) for j in range(7) if a.matrix[i][j] != b.matrix[i][j]]
    ops = [v for v in range(7) if a.ops[v] != b.ops[v]]
    return edges, ops


def test_mutate_one_changes_exactly_one_edge_or_op():
    rng = random.Random(1)
    spec = random_spec(rng)
    kinds = set()
    for _ in range(200):
        child = mutate_one(spec, rng)
        edges, ops = _diff(spec, child)
        assert len(edges) + len(ops) == 1
        assert is_valid(child) and spec_hash(child) != spec_hash(spec)
        kinds.add("edge" if edges else "op")
        spec = child
    assert kinds == {"edge", "op"}


def test_mutate_spec_rate_is_the_official_one():
    """Rate 1: in expectation 21/7 = 3 edge flips and 1 op change per draw (before validity rejection)."""
    rng = random.Random(2)
    parent = random_spec(rng)
    flips = op_changes = 0
    n = 2000
    for _ in range(n):
        child = mutate_spec(parent, rng, 1.0)
        assert is_valid(child)
        edges, ops = _diff(parent, child)
        flips += len(edges)
        op_changes += len(ops)
        assert all(child.ops[v] in OPS for v in ops)
    assert 0.8 < op_changes / n < 1.2  # validity rejection only touches edges
    assert 1.5 < flips / n < 3.5
    with pytest.raises(OutOfSpaceError, match="mutation_rate"):
        mutate_spec(parent, rng, 0.0)


def test_space_registry_and_protocol():
    space = get_space("nb101")
    assert isinstance(space, SearchSpace)
    rng = random.Random(0)
    a = space.sample(rng)
    assert space.decode(space.encode(a)) == a
    assert space.hash(space.mutate(a, rng)) != space.hash(a)
    rate = get_space("nb101", mutation_rate=1.0)
    assert rate.is_valid(rate.mutate(a, rng))
