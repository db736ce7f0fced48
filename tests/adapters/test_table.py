"""The embedded NB201 table (nwot/table.py) and its build (scripts/build_package_data.py).

Expected values are read from the staged source files (MANIFEST §1: the committed cut's rows, and every row
of the full files, real_data) or are the published NAS-Bench-201 / NATS-Bench optima; the table must also be a
byte-exact rebuild (real_data: the build reads the full files).
"""
from __future__ import annotations

import importlib.util
import lzma
import sys
from pathlib import Path

import numpy as np
import pytest

import nwot.adapters.embedded as table
from nwot.errors import BenchmarkFileError, OutOfSpaceError
from nwot.paths import PACKAGE_DATA
from nwot.safe_pickle import safe_load

REPO = Path(__file__).resolve().parents[2]

#: The contract's columns (PRE / nwot.adapters.embedded docs), written out independently of the code under test.
EXPECTED_COLUMNS = {
    "arch", "params",
    "cifar10/ori-test@200",
    "cifar10-valid/x-valid@200", "cifar10-valid/ori-test@200", "cifar10-valid/train@200",
    "cifar100/x-valid@200", "cifar100/x-test@200", "cifar100/train@200",
    "ImageNet16-120/x-valid@200", "ImageNet16-120/x-test@200", "ImageNet16-120/train@200",
    "cifar10-valid/x-valid@12", "cifar10/ori-test@12", "cifar100/x-valid@12", "cifar100/x-test@12",
    "ImageNet16-120/x-valid@12", "ImageNet16-120/x-test@12", "cifar10-valid/cost@12",
    # sizes (issue 17), then HW-NAS-Bench's ten metrics for each of its three datasets
    "flops", "cifar100/params", "cifar100/flops", "ImageNet16-120/params", "ImageNet16-120/flops",
} | {f"{d}/{m}" for d in ("cifar10", "cifar100", "ImageNet16-120") for m in (
    "edgegpu_latency", "edgegpu_energy", "raspi4_latency", "edgetpu_latency", "pixel3_latency", "eyeriss_latency",
    "eyeriss_energy", "eyeriss_arithmetic_intensity", "fpga_latency", "fpga_energy")}
#: HW-NAS-Bench did not measure the Edge TPU latency of 4,699 cells (MANIFEST §9): the only empty columns.
EMPTY_COLUMNS = {"cifar10/edgetpu_latency": 4699, "cifar100/edgetpu_latency": 4699,
                 "ImageNet16-120/edgetpu_latency": 4699}

#: Staged source file -> {table column: source column}, from the MANIFEST's descriptions (§1.1-1.7).
SOURCE_COLUMNS = {
    "nb201/nats_bench_landscape/nats_bench.csv.xz": {
        "cifar10/ori-test@200": "CIFAR10TestAccuracy200Epochs",
        "cifar100/x-test@200": "CIFAR100TestAccuracy200Epochs",
        "ImageNet16-120/x-test@200": "ImageNetTestAccuracy200Epochs"},
    "nb201/nasgraph/nasbench201_cifar10.csv.xz": {
        "cifar10-valid/train@200": "train accuracy", "cifar10-valid/x-valid@200": "validation accuracy",
        "cifar10-valid/ori-test@200": "test accuracy"},
    "nb201/nasgraph/nasbench201_cifar100.csv.xz": {
        "cifar100/train@200": "train accuracy", "cifar100/x-valid@200": "validation accuracy"},
    "nb201/nasgraph/nasbench201_ImageNet16-120.csv.xz": {
        "ImageNet16-120/train@200": "train accuracy", "ImageNet16-120/x-valid@200": "validation accuracy"},
    "nb201/mini_nasbench201/mini-bench-arch-cell-accs_hp12.csv.xz": {
        "cifar10/ori-test@12": "cifar10-test", "cifar10-valid/x-valid@12": "cifar10-val",
        "cifar100/x-test@12": "cifar100-test", "cifar100/x-valid@12": "cifar100-val",
        "ImageNet16-120/x-test@12": "imagenet-test", "ImageNet16-120/x-valid@12": "imagenet-val"},
    "nb201/robot/robot_nb201.csv.xz": {"cifar10-valid/cost@12": "hp12_cifar10valid_cost_s"},
    "nb201/naswot_authors/arch_score_acc.csv.xz": {"params": "params"},
}


@pytest.fixture(scope="module")
def df():
    return table.load_nb201_table()


@pytest.fixture(scope="module")
def meta_archs(cut_data):
    """NATS-Bench TSS ``meta_archs`` (the committed cut holds the whole meta file)."""
    return list(safe_load(cut_data / "nats/NATS-tss-v1_0-3ffb9-simple/meta.pickle.pbz2")["meta_archs"])


def load_build_script():
    spec = importlib.util.spec_from_file_location("build_package_data", REPO / "scripts" / "build_package_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def test_shape_and_columns(df):
    assert len(df) == 15_625
    assert df.index.tolist() == list(range(15_625)) and df.index.name == "index"
    assert set(df.columns) == EXPECTED_COLUMNS and len(df.columns) == len(EXPECTED_COLUMNS)
    assert df.isna().sum()[lambda n: n > 0].to_dict() == EMPTY_COLUMNS
    assert table.load_nb201_table() is df  # cached


def test_published_optima(df):
    """NB201 / NATS-Bench paper optima (test accuracy, 200 epochs): C10 94.37, C100 73.51, IN16 47.31."""
    c10 = df["cifar10/ori-test@200"]
    assert round(c10[6111], 2) == 94.37 and round(c10[13714], 2) == 94.37
    assert set(c10.index[c10 == c10.max()]) == {6111, 13714}
    c100 = df["cifar100/x-test@200"]
    assert round(c100[9930], 2) == 73.51 and c100.idxmax() == 9930
    in16 = df["ImageNet16-120/x-test@200"]
    assert round(in16[857], 2) == 47.31 and in16.idxmax() == 857
    assert round(df["cifar10-valid/x-valid@200"].max(), 2) == 91.61  # NB201 paper's optimal C10 valid


def test_index0_exact_values(df, cut_data):
    nasgraph = cut_data.nb201_rows("nb201/nasgraph/nasbench201_cifar10.csv.xz")
    robot = cut_data.nb201_rows("nb201/robot/robot_nb201.csv.xz")
    assert df.loc[0, "cifar10-valid/x-valid@200"] == float(nasgraph[0]["validation accuracy"])
    assert df.loc[0, "cifar10-valid/x-valid@200"] == 81.98266665690103
    assert df.loc[0, "cifar10-valid/cost@12"] == float(robot[0]["hp12_cifar10valid_cost_s"])
    assert df.loc[0, "cifar10-valid/cost@12"] == 86.65311598777771
    assert df.loc[0, "params"] == 0.129306
    assert df.loc[0, "arch"] == (
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|")


def test_every_value_equals_its_source(df, data_root):
    for rel, columns in SOURCE_COLUMNS.items():
        rows = data_root.nb201_rows(rel)  # by NB201 index: the cut's rows, or all
        if data_root.full:
            assert list(rows) == list(range(15_625)), rel
        indices = list(rows)
        for col, src_col in columns.items():
            expected = np.array([float(r[src_col]) for r in rows.values()])
            assert np.array_equal(df[col].to_numpy()[indices], expected), (rel, col)  # exact, not approximate


def test_arch_strings_are_meta_archs(df, meta_archs):
    assert df["arch"].tolist() == meta_archs
    assert table.nb201_arch_strings() == meta_archs
    strings = table.nb201_arch_strings()
    strings[0] = "changed"
    assert table.nb201_arch_strings()[0] == meta_archs[0]  # the cache is not exposed


def test_index_of(meta_archs):
    assert all(table.nb201_index_of(a) == i for i, a in enumerate(meta_archs))
    assert table.nb201_index_of(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|") == 11  # MANIFEST §2
    with pytest.raises(OutOfSpaceError, match="conv_5x5"):
        table.nb201_index_of("|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    with pytest.raises(OutOfSpaceError):
        table.nb201_index_of("|none~0|+|none~0|none~1|")
    with pytest.raises(OutOfSpaceError):
        table.nb201_index_of(42)


@pytest.fixture
def fake_table_file(tmp_path, monkeypatch):
    """Point the loader at a file in tmp_path, with a clean cache before and after."""
    path = tmp_path / table.TABLE_FILE
    monkeypatch.setattr(table, "package_data", lambda name: tmp_path / name)
    table.load_nb201_table.cache_clear()
    yield path
    table.load_nb201_table.cache_clear()


def test_missing_table(fake_table_file):
    with pytest.raises(BenchmarkFileError) as e:
        table.load_nb201_table()
    assert str(fake_table_file) in str(e.value) and "scripts/build_package_data.py" in str(e.value)


def test_corrupt_table(fake_table_file):
    fake_table_file.write_bytes(b"not xz at all")
    with pytest.raises(BenchmarkFileError, match="corrupt.*scripts/build_package_data.py"):
        table.load_nb201_table()


def test_truncated_table(fake_table_file):
    good = (PACKAGE_DATA / table.TABLE_FILE).read_bytes()
    text = lzma.decompress(good).decode()
    fake_table_file.write_bytes(lzma.compress("\n".join(text.split("\n")[:100]).encode()))
    with pytest.raises(BenchmarkFileError, match="index 0..15624.*99 rows"):
        table.load_nb201_table()
    fake_table_file.write_bytes(lzma.compress(text.replace("cifar10-valid/cost@12", "cost", 1).encode()))
    table.load_nb201_table.cache_clear()
    with pytest.raises(BenchmarkFileError, match="has columns"):
        table.load_nb201_table()


def test_every_value_is_the_correctly_rounded_float_of_its_text():
    # independent of the loader: Python's csv module and float() (correctly rounded) on the shipped file
    import csv

    with lzma.open(PACKAGE_DATA / table.TABLE_FILE, "rt", encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    df = table.load_nb201_table()
    assert list(df.columns) == header[1:] and list(df.index) == [int(r[0]) for r in rows] == list(range(15_625))
    columns = list(zip(*rows))
    assert list(df["arch"]) == list(columns[1])
    for k, name in enumerate(header[2:], start=2):
        expected = np.array([float(v) if v != "" else np.nan for v in columns[k]])
        got = df[name].to_numpy()
        assert got.dtype == np.float64
        same = (got == expected) | (np.isnan(got) & np.isnan(expected))
        assert same.all(), (name, np.flatnonzero(~same)[:5])
        if np.isnan(expected).any():  # empty fields only where the table allows them
            assert name in table.NULLABLE_COLUMNS, name


def test_short_or_long_rows_are_rejected(fake_table_file):
    text = lzma.decompress((PACKAGE_DATA / table.TABLE_FILE).read_bytes()).decode()
    lines = text.split("\n")
    lines[3] = lines[3].rsplit(",", 1)[0]  # row 2 loses its last field
    fake_table_file.write_bytes(lzma.compress("\n".join(lines).encode()))
    with pytest.raises(BenchmarkFileError, match="non-numeric value"):
        table.load_nb201_table()
    lines = text.split("\n")
    lines[3] += ",1.0"  # row 2 gains a field
    fake_table_file.write_bytes(lzma.compress("\n".join(lines).encode()))
    table.load_nb201_table.cache_clear()
    with pytest.raises(BenchmarkFileError, match="corrupt"):
        table.load_nb201_table()


@pytest.mark.real_data
def test_build_is_byte_identical(shared_data, tmp_path):
    built = load_build_script().build(shared_data, tmp_path)
    assert sorted(built) == sorted(p.name for p in PACKAGE_DATA.iterdir() if p.is_file())
    for name, path in built.items():
        assert path.read_bytes() == (PACKAGE_DATA / name).read_bytes(), name
    total = sum(path.stat().st_size for path in built.values())
    assert total < 6_000_000, total  # 4.16 MB before the hardware columns (issue 17), 5.88 MB with them


@pytest.mark.real_data
def test_build_rejects_misordered_source(shared_data, tmp_path, meta_archs):
    script = load_build_script()
    rel = "nb201/robot/robot_nb201.csv.xz"
    lines = lzma.decompress((shared_data / rel).read_bytes()).decode().split("\n")
    lines[5 + 1], lines[6 + 1] = lines[6 + 1], lines[5 + 1]  # swap rows 5 and 6 (after the header)
    (tmp_path / rel).parent.mkdir(parents=True)
    (tmp_path / rel).write_bytes(lzma.compress("\n".join(lines).encode()))
    src = next(s for s in script.SOURCES if s.path == rel)
    with pytest.raises(script.BuildError, match="row 5"):
        script.read_source(tmp_path, src, meta_archs)
