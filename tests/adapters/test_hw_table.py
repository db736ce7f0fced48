"""Issue 17, part 1: HW-NAS-Bench hardware columns, params and FLOPs of every NB201 cell in the embedded table.

Known values: the HW-NAS-Bench README's printed example (index 0, CIFAR-10; MANIFEST §9), the staged source
files (every value, exactly), the three NATS-Bench records (params / FLOPs), and networks built and counted here.
Rows read from the shared data: all rows of ``nb201/hw_nas_bench/hw_*.csv.xz`` (exact-copy check), rows 0..199 of
``nb201/derived/nb201_index_encodings.csv.xz``, the NATS records 0 / 11 / 284.
"""
from __future__ import annotations

import csv
import importlib.util
import io
import lzma
import math
import random
import sys
import warnings
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

import nwot
import nwot.adapters.embedded as table
from nwot.adapters.hardware import DEVICES, HW_METRICS, UNITS, HardwareCost, Measure, hw_column
from nwot.errors import BenchmarkFileError, NwotError
from nwot.spaces.nb201 import size

REPO = Path(__file__).resolve().parents[2]
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
#: HW-NAS-Bench README example (index 0, CIFAR-10), equal to the staged file's row 0 (MANIFEST §9).
README_INDEX0 = {"edgegpu_latency": 5.807418537139893, "raspi4_latency": 10.481976820010459,
                 "edgetpu_latency": 0.9571811309997429}
#: Row 6 of hw_cifar10.csv.xz has edgetpu_latency -1.0 (not measured); its edge GPU latency is 5.080537796020508.
UNMEASURED_ROW = 6


@pytest.fixture(scope="module")
def bench():
    return nwot.get_benchmark("nb201")


@pytest.fixture(scope="module")
def df():
    return table.load_nb201_table()


def read_rows(path: Path, limit=None) -> list:
    with lzma.open(path, "rt", newline="") as f:
        reader = csv.DictReader(f)
        return [r for _, r in zip(range(limit) if limit else iter(int, 1), reader)]


def test_index0_matches_the_hw_nas_bench_readme(bench):
    r = bench.query(0, "cifar10", 200)
    assert r.hardware["edgegpu"].latency_ms == 5.807418537139893
    assert r.hardware["raspi4"].latency_ms == 10.481976820010459
    assert r.hardware["edgetpu"].latency_ms == 0.9571811309997429
    for metric, value in README_INDEX0.items():
        assert r.cost_metric(metric) == Measure(value, "ms")
    assert r.hardware["edgegpu"] == HardwareCost("edgegpu", 5.807418537139893, 24.226614330768584, None)
    assert r.cost_metric("edgegpu_energy") == Measure(24.226614330768584, "mJ")
    assert r.cost_metric("eyeriss_arithmetic_intensity") == Measure(6.289297634665844, "op/byte")
    assert list(r.hardware) == list(DEVICES)
    # cifar10-valid trains the same 10-class network: same hardware numbers
    assert bench.query(0, "cifar10-valid", 12).hardware == r.hardware


@pytest.mark.real_data
def test_unmeasured_edgetpu_is_none_not_minus_one(bench, df, shared_data):
    src = read_rows(shared_data / "nb201/hw_nas_bench/hw_cifar10.csv.xz", limit=UNMEASURED_ROW + 1)[UNMEASURED_ROW]
    assert float(src["edgetpu_latency"]) == -1.0
    r = bench.query(UNMEASURED_ROW, "cifar10", 200)
    assert r.hardware["edgetpu"].latency_ms is None and r.cost_metric("edgetpu_latency") is None
    assert r.hardware["edgegpu"].latency_ms == float(src["edgegpu_latency"]) == 5.080537796020508
    assert math.isnan(df.loc[UNMEASURED_ROW, "cifar10/edgetpu_latency"])
    assert (df[[f"{d}/edgetpu_latency" for d in DATASETS]] > 0).sum().tolist() == [15625 - 4699] * 3


def test_the_cut_hw_rows_equal_the_table(df, cut_data):
    """The committed cut's 413 HW-NAS-Bench rows per dataset (-1 = not measured -> NaN) are the table's values."""
    for d in DATASETS:
        rows = cut_data.nb201_rows(f"nb201/hw_nas_bench/hw_{d}.csv.xz")
        assert len(rows) == 413
        idx = sorted(rows)
        for m in HW_METRICS:
            src = np.array([float(rows[i][m]) for i in idx])
            src[src == -1.0] = np.nan
            assert np.array_equal(df[hw_column(d, m)].to_numpy()[idx], src, equal_nan=True), (d, m)
    assert math.isnan(df.loc[10, "cifar10/edgetpu_latency"])  # cut row 10: edgetpu_latency -1.0 in the source


@pytest.mark.real_data
def test_every_hw_value_equals_its_source(df, shared_data):
    for d in DATASETS:
        rows = read_rows(shared_data / f"nb201/hw_nas_bench/hw_{d}.csv.xz")
        assert len(rows) == 15_625
        for m in HW_METRICS:
            src = np.array([float(r[m]) for r in rows])
            src[src == -1.0] = np.nan
            assert np.array_equal(df[hw_column(d, m)].to_numpy(), src, equal_nan=True), (d, m)


@pytest.mark.real_data
def test_naslib_conversion_matches_the_derived_encodings(shared_data):
    spec = importlib.util.spec_from_file_location("build_package_data_hw", REPO / "scripts" / "build_package_data.py")
    script = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = script
    spec.loader.exec_module(script)
    rows = read_rows(shared_data / "nb201/derived/nb201_index_encodings.csv.xz", limit=200)
    assert all(script.naslib_to_arch_str(r["naslib_op_indices"]) == r["arch_str"] for r in rows)
    assert script.naslib_to_arch_str("(4, 3, 3, 0, 0, 0)") == table.nb201_arch_strings()[0]  # MANIFEST §0
    with pytest.raises(script.BuildError, match="NASLib"):
        script.naslib_to_arch_str("(5, 0, 0, 0, 0, 0)")


def test_sizes_equal_the_nats_records(bench, cut_data):  # the cut holds the three NATS records unchanged
    nats = nwot.get_benchmark("nats-tss", path=cut_data / "nats/NATS-tss-v1_0-3ffb9-simple")
    for i in (0, 11, 284):
        for d in DATASETS:
            ours, rec = bench.query(i, d, 200), nats.query(i, d, "200")
            assert ours.flops == pytest.approx(rec.flops, abs=1e-9)
            assert ours.params == pytest.approx(rec.params, abs=1e-9)
    assert bench.flops(11, "cifar10") == 113.95137  # MANIFEST §2: the record's flop, exactly
    assert bench.query(0, "cifar10", 200).cost_metric("flops") == Measure(15.64737, "MFLOPs")


def test_sizes_equal_networks_built_here(bench):
    """Direct count of built networks (params and NATS-convention FLOPs) for seeded random cells."""
    rng = random.Random(17)
    for i in [rng.randrange(15_625) for _ in range(3)]:
        for d in DATASETS:
            p, f = size.measure(bench.arch(i), d)
            assert bench.flops(i, d) == f / 1e6
            if d != "cifar10":  # cifar10 params: NB201's own value (a seed mean for 204 cells)
                assert bench.params(i, d) == p / 1e6


def test_nats_flops_counts_the_classifier_bias():
    """Hand count of the all-``none`` CIFAR-10 network's conv MACs plus the classifier (64 x 10 MACs + 10 adds)."""
    p, f = size.measure(("none",) * 6, "cifar10")
    stem = 32 * 32 * 16 * 3 * 9
    red1 = 16 * 16 * 32 * 16 * 9 + 16 * 16 * 32 * 32 * 9 + 16 * 16 * 32 * 16  # conv_a, conv_b, shortcut 1x1
    red2 = 8 * 8 * 64 * 32 * 9 + 8 * 8 * 64 * 64 * 9 + 8 * 8 * 64 * 32
    assert f == stem + red1 + red2 + 64 * 10 + 10


def test_cost_metric_rejects_unknown_names(bench):
    r = bench.query(0, "cifar10", 200)
    with pytest.raises(NwotError, match="unknown cost metric 'gpu_latency'.*'edgegpu_latency'"):
        r.cost_metric("gpu_latency")
    with pytest.raises(NwotError, match="hardware dataset.*'cifar10'"):
        hw_column("cifar10-valid2", "edgegpu_latency")
    assert set(UNITS) == {"params", "flops", *HW_METRICS}


def test_metric_values_vectors(bench, df):
    lat = bench.metric_values("edgegpu_latency", "cifar10-valid")
    assert lat[0] == 5.807418537139893 and len(lat) == 15_625
    assert np.isnan(bench.metric_values("edgetpu_latency", "cifar100")).sum() == 4699
    assert bench.metric_values("params", "cifar10") is not None
    assert bench.metric_values("flops", "ImageNet16-120")[0] == df.loc[0, "ImageNet16-120/flops"] == 3.91948


def test_bench_query_prints_hardware_with_units():
    from nwot.cli.main import main

    out = io.StringIO()
    with redirect_stdout(out), warnings.catch_warnings():
        assert main(["bench", "query", str(UNMEASURED_ROW), "--dataset", "cifar10", "--hp", "200"]) == 0
    text = out.getvalue()
    assert "edgegpu       5.0805 ms" in text and "edgetpu    not measured" in text
    assert "flops      " in text and "mJ" in text


def test_loader_rejects_empty_outside_edgetpu_columns(tmp_path, monkeypatch):
    good = lzma.decompress((table.package_data(table.TABLE_FILE)).read_bytes()).decode()
    header, first, rest = good.split("\n", 2)
    names = header.split(",")
    fields = next(csv.reader([first]))
    fields[names.index("cifar10/edgegpu_latency")] = ""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(fields)
    path = tmp_path / table.TABLE_FILE
    path.write_bytes(lzma.compress(f"{header}\n{out.getvalue()}{rest}".encode(), preset=0))
    monkeypatch.setattr(table, "package_data", lambda name: tmp_path / name)
    table.load_nb201_table.cache_clear()
    try:
        with pytest.raises(BenchmarkFileError, match=r"non-numeric value"):
            table.load_nb201_table()
    finally:
        table.load_nb201_table.cache_clear()
