"""NB201 codec (nwot/spaces/nb201.py) against the benchmark's own strings, op vectors and canonical forms.

The benchmark's strings: NATS-Bench TSS ``meta_archs`` (all 15,625, from the committed cut's whole meta file;
equal to the landscape CSV's ``ArchitectureString`` column, MANIFEST §7). Canonical forms and op vectors:
the cut's rows of the landscape / encodings CSVs, and (real_data) every row of the full files.
"""
from __future__ import annotations

import collections
import itertools
import random
import re

import pytest
from scipy.stats import chisquare

from nwot.errors import OutOfSpaceError
from nwot.safe_pickle import safe_load
from nwot.spaces.nb201.codec import (
    EDGES,
    NUM_ARCHS,
    OPS,
    format_arch,
    from_op_vector,
    has_path,
    mutate,
    neighbours,
    op_vector,
    parse_arch,
    sample,
    to_arch,
    unique_str,
)

ROW0 = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"


@pytest.fixture(scope="module")
def meta_archs(cut_data):
    """NATS-Bench TSS ``meta_archs``: the arch strings of all 15,625 cells in NB201 index order."""
    archs = list(safe_load(cut_data / "nats" / "NATS-tss-v1_0-3ffb9-simple" / "meta.pickle.pbz2")["meta_archs"])
    assert len(archs) == NUM_ARCHS
    return archs


@pytest.fixture(scope="module")
def nats_table(data_root):
    """NATS-Bench TSS table: ``ArchitectureString`` and ``UniqueString`` (index = NB201 index): the cut's rows,
    then (real_data) all 15,625."""
    df = data_root.nb201_frame("nb201/nats_bench_landscape/nats_bench.csv.xz")
    if data_root.full:
        assert len(df) == NUM_ARCHS
    return df


@pytest.fixture(scope="module")
def encodings(data_root):
    return data_root.nb201_frame("nb201/derived/nb201_index_encodings.csv.xz")


def test_unique_str_equals_nats_bench_for_all_cells(nats_table, data_root, meta_archs):
    ours = [unique_str(s) for s in nats_table["ArchitectureString"]]
    mismatches = [(i, a, b) for i, a, b in zip(nats_table.index, ours, nats_table["UniqueString"]) if a != b]
    assert mismatches == []
    assert [meta_archs[i] for i in nats_table.index] == nats_table["ArchitectureString"].tolist()
    if data_root.full:
        assert len(set(ours)) == 6466
    else:  # the class count over the benchmark's strings (the cut's meta file holds all 15,625)
        assert len({unique_str(s) for s in meta_archs}) == 6466
    # the two rows printed in the MANIFEST (§1.2)
    assert unique_str(ROW0) == "(0)@avg_pool_3x3+(0)@avg_pool_3x3+(0)@nor_conv_1x1+(0)@nor_conv_1x1"
    assert unique_str((3, 3, 4, 1, 3, 1)) == (
        "((0)@nor_conv_3x3)@avg_pool_3x3+(0)@nor_conv_3x3+((0)@nor_conv_3x3)@nor_conv_3x3+0")


def test_unique_str_zero_rules_by_hand():
    # node1 = '#'; node2 = sorted(['#', '0']) = '#+0'; node3 = '#' + '#' + skip('#+0') -> '#+#+#+0'
    assert unique_str("|avg_pool_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|skip_connect~2|") == "#+#+#+0"
    # an op on the all-zero node 2 ('#+#') is not collapsed: '(#+#)@nor_conv_3x3'
    assert unique_str("|nor_conv_3x3~0|+|none~0|none~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|") == \
        "(#+#)@nor_conv_3x3+((0)@nor_conv_3x3)@nor_conv_3x3+(0)@avg_pool_3x3"
    assert unique_str(("none",) * 6) == "#+#+#"
    assert unique_str(("skip_connect",) * 6) == "0+0+0+0"


def test_has_path(meta_archs):
    no_path = [s for s in meta_archs if not has_path(parse_arch(s))]
    assert len(no_path) == 341
    # independent check: a cell has an input->output path iff its canonical form still mentions node 0
    assert all(has_path(a) == ("0" in unique_str(a)) for a in itertools.product(OPS, repeat=6))
    # 341 by hand: node 3 is cut off iff op03 = none, (op13 = none or node 1 cut off), (op23 = none or node 2 cut off).
    # Over the 125 choices of (op01, op02, op12): nodes 1 and 2 both reachable in 4 * 24 = 96, only node 1 in 4,
    # only node 2 in 5 * 4 = 20, neither in 5; each leaves 1, 5, 5 or 25 choices of (op03, op13, op23).
    assert 96 * 1 + 4 * 5 + 20 * 5 + 5 * 25 == 341
    assert not has_path(parse_arch("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|"))
    assert not has_path(parse_arch("|none~0|+|none~0|skip_connect~1|+|none~0|skip_connect~1|skip_connect~2|"))
    assert has_path(parse_arch("|none~0|+|skip_connect~0|none~1|+|none~0|none~1|skip_connect~2|"))


def test_parse_format_round_trip_all_cells(meta_archs):
    strings = list(meta_archs)
    assert len(set(strings)) == NUM_ARCHS
    for s in strings:
        arch = parse_arch(s)
        assert format_arch(arch) == s
        assert to_arch(s) == arch == to_arch(list(arch)) == to_arch(op_vector(arch))
    assert set(map(parse_arch, strings)) == set(itertools.product(OPS, repeat=6))


def test_op_vector_matches_benchmark_encoding(encodings):
    assert op_vector(parse_arch(ROW0)) == (4, 2, 1, 2, 1, 1)
    for s, vec in zip(encodings["arch_str"], encodings["nb201_op_vector"]):
        expected = tuple(int(v) for v in vec.strip("()").split(","))
        assert op_vector(parse_arch(s)) == expected
        assert from_op_vector(expected) == parse_arch(s)


@pytest.mark.parametrize(
    "bad, named",
    [
        # missing '+'
        ("|avg_pool_3x3~0||nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|", "got 2"),
        # wrong ~j
        ("|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~2|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
         "skip_connect~2"),
        # unknown op
        ("|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|conv_5x5~0|skip_connect~1|skip_connect~2|", "conv_5x5"),
        # 5 edges
        ("|avg_pool_3x3~0|+|nor_conv_1x1~0|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|", "needs 2 inputs, got 1"),
        ("|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|none~3|",
         "needs 3 inputs, got 4"),
        ("avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
         "avg_pool_3x3~0|"),
    ],
)
def test_malformed_strings_raise(bad, named):
    with pytest.raises(OutOfSpaceError, match=re.escape(named)) as exc:
        parse_arch(bad)
    assert repr(bad) in str(exc.value)  # the message quotes the offending string


def test_bad_op_tuples_and_vectors_raise():
    with pytest.raises(OutOfSpaceError, match="got 5"):
        to_arch(("none",) * 5)
    with pytest.raises(OutOfSpaceError, match="'sep_conv_3x3'"):
        to_arch(("sep_conv_3x3",) + ("none",) * 5)
    with pytest.raises(OutOfSpaceError, match="op id 5 out of range"):
        to_arch((0, 1, 2, 3, 4, 5))
    with pytest.raises(OutOfSpaceError, match="got 7"):
        from_op_vector((0,) * 7)


def test_sample_is_seeded_and_uniform():
    draws = [sample(random.Random(7)) for _ in range(3)]
    assert draws[0] == draws[1] == draws[2]
    rng_a, rng_b = random.Random(11), random.Random(11)
    seq_a = [sample(rng_a) for _ in range(50)]
    assert seq_a == [sample(rng_b) for _ in range(50)]
    assert seq_a != [sample(random.Random(12)) for _ in range(50)]

    rng = random.Random(0)
    n = 20000
    archs = [sample(rng) for _ in range(n)]
    for e in range(len(EDGES)):  # each edge's op: uniform over the 5 ops
        counts = collections.Counter(a[e] for a in archs)
        assert set(counts) == set(OPS)
        assert chisquare([counts[op] for op in OPS]).pvalue > 1e-3
    pairs = collections.Counter((a[0], a[5]) for a in archs)  # joint of two edges: uniform over 25 pairs
    assert chisquare([pairs[p] for p in itertools.product(OPS, repeat=2)]).pvalue > 1e-3
    assert len(set(archs)) > 11000  # 20k uniform draws from 15,625 cover 1 - e^-1.28 = 72 % of cells


def test_mutate_changes_exactly_one_edge():
    rng = random.Random(3)
    arch = parse_arch(ROW0)
    seen = set()
    for _ in range(2000):
        child = mutate(arch, rng)
        diff = [e for e in range(6) if child[e] != arch[e]]
        assert len(diff) == 1
        seen.add(child)
    assert seen == set(neighbours(arch)) and len(seen) == 24
    assert mutate(arch, random.Random(5)) == mutate(arch, random.Random(5))
    with pytest.raises(OutOfSpaceError):
        mutate(("none",) * 4, rng)
