"""NAS-Bench-101 adapter: CRC-32C, TFRecord framing, protobuf, table build, queries, NASLib's 500 cells."""
from __future__ import annotations

import random
import struct

import pytest

from nwot.adapters import get_benchmark
from nwot.adapters.base import TimedBenchmark
from nwot.adapters.nb101.benchmark import NASBench101API, NASLib500, NB101Benchmark
from nwot.adapters.nb101.tfrecord import (
    EvaluationData,
    ModelMetrics,
    Row,
    crc32c,
    decode_model_metrics,
    encode_model_metrics,
    format_row,
    iter_rows,
    masked_crc32c,
    parse_row,
    tfrecord_frame,
    write_tfrecord,
)
from nwot.errors import BenchmarkFileError, NwotError, OutOfSpaceError
from nwot.paths import SHARED_DATA_ENV
from nwot.spaces.nb101.codec import CONV1X1, CONV3X3, INPUT, MAXPOOL3X3, OUTPUT, Spec, encode_spec, spec_hash
from nwot.spaces.nb101.model import nb101_param_count

I, O, C3, C1, M = INPUT, OUTPUT, CONV3X3, CONV1X1, MAXPOOL3X3
FIRST_ROW = Spec(((0, 1, 0, 0, 1, 1, 0), (0, 0, 1, 0, 0, 0, 0), (0, 0, 0, 1, 0, 0, 1), (0, 0, 0, 0, 0, 1, 0),
                  (0, 0, 0, 0, 0, 1, 0), (0, 0, 0, 0, 0, 0, 1), (0, 0, 0, 0, 0, 0, 0)), (I, C3, M, C3, C3, C1, O))
SMALL = Spec(((0, 1, 1, 0), (0, 0, 0, 1), (0, 0, 0, 1), (0, 0, 0, 0)), (I, C1, M, O))
CHAIN = Spec(((0, 1, 0), (0, 0, 1), (0, 0, 0)), (I, C3, O))


# --- checksums and wire formats ---------------------------------------------------------------------

def test_crc32c_check_values():
    assert crc32c(b"") == 0
    assert crc32c(b"123456789") == 0xE3069283  # the standard CRC-32C check value
    # RFC 3720 (iSCSI) appendix B.4 test vectors
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(b"\xff" * 32) == 0x62A8AB43
    assert crc32c(bytes(range(32))) == 0x46DD794E
    assert crc32c(b"6789", crc32c(b"12345")) == 0xE3069283  # streaming


def test_tfrecord_frame_layout():
    frame = tfrecord_frame(b"")
    assert frame[:8] == bytes(8)  # uint64 length 0
    # masked CRC of empty data: rotate(0) + 0xa282ead8
    assert frame[-4:] == struct.pack("<I", 0xA282EAD8)
    c = crc32c(bytes(8))
    assert frame[8:12] == struct.pack("<I", ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF)
    frame = tfrecord_frame(b"abc")
    assert struct.unpack("<Q", frame[:8])[0] == 3 and frame[12:15] == b"abc"
    assert struct.unpack("<I", frame[15:])[0] == masked_crc32c(b"abc")


def test_protobuf_hand_encoded_bytes():
    # field 2 (varint) = 300 -> key 0x10, varint AC 02; field 3 (double) = 0.5 -> key 0x19 + 8 LE bytes
    assert encode_model_metrics(ModelMetrics((), 300, 0.5)) == b"\x10\xac\x02\x19" + struct.pack("<d", 0.5)
    e = EvaluationData(current_epoch=1.0, training_time=2.0, train_accuracy=0.25, validation_accuracy=0.5,
                       test_accuracy=0.75, checkpoint_path="a/b")
    body = b"".join(bytes([(k << 3) | 1]) + struct.pack("<d", v) for k, v in enumerate((1.0, 2.0, 0.25, 0.5, 0.75), 1))
    body += b"\x32\x03a/b"
    blob = b"\x0a" + bytes([len(body)]) + body + b"\x10\x05"
    assert decode_model_metrics(blob) == ModelMetrics((e,), 5, 0.0)
    # unknown fields of every wire type are skipped, as protobuf does
    unknown = b"\x38\x96\x01" + b"\x41" + bytes(8) + b"\x4a\x02hi" + b"\x55" + bytes(4)
    assert decode_model_metrics(unknown + blob) == ModelMetrics((e,), 5, 0.0)
    m = ModelMetrics((e, e), -7, 12.5)  # negative int32 -> 10-byte varint
    assert decode_model_metrics(encode_model_metrics(m)) == m


def test_row_round_trip():
    row = Row("abc", 108, "0110", "input,output", ModelMetrics((EvaluationData(),) * 3, 10, 1.0))
    data = format_row(row)
    assert data.startswith(b'["abc", 108, "0110", "input,output", "')
    assert parse_row(data) == row
    with pytest.raises(BenchmarkFileError, match="malformed NAS-Bench-101 row"):
        parse_row(b'["abc", 108]')


# --- a small tfrecord in the official format ----------------------------------------------------------

def run_metrics(spec: Spec, epochs: int, rep: int) -> ModelMetrics:
    """Distinct, hand-checkable numbers: final valid = 0.90 + 0.01 * rep (+ 0.001 per 12 epochs)."""
    bump = 0.001 * (epochs // 12)

    def ev(stage: int, frac: float) -> EvaluationData:
        return EvaluationData(current_epoch=epochs * frac, training_time=100.0 * (rep + 1) * frac * epochs / 108,
                              train_accuracy=0.5 * stage, validation_accuracy=(0.90 + 0.01 * rep + bump) * frac,
                              test_accuracy=(0.89 + 0.01 * rep + bump) * frac)

    return ModelMetrics((ev(0, 0.0), ev(1, 0.5), ev(2, 1.0)), nb101_param_count(spec), 999.0)


def fixture_rows(specs=(FIRST_ROW, SMALL, CHAIN), epochs=(108,)):
    rows = []
    for e in epochs:
        for rep in range(3):
            for spec in specs:
                adj = "".join(str(v) for r in spec.matrix for v in r)
                rows.append(Row(spec_hash(spec), e, adj, ",".join(spec.ops), run_metrics(spec, e, rep)))
    return rows


@pytest.fixture()
def tfrecord(tmp_path):
    path = tmp_path / "nasbench_only108.tfrecord"
    write_tfrecord(path, (format_row(r) for r in fixture_rows()))
    return path


def test_tfrecord_round_trip(tfrecord):
    assert list(iter_rows(tfrecord)) == fixture_rows()


def test_corruption_is_detected(tfrecord, tmp_path):
    raw = bytearray(tfrecord.read_bytes())
    first_len = struct.unpack("<Q", raw[:8])[0]
    bad = tmp_path / "bad_data.tfrecord"
    data = bytearray(raw)
    data[12 + 5] ^= 0x01  # inside the first record's JSON
    bad.write_bytes(bytes(data))
    with pytest.raises(BenchmarkFileError, match="corrupt data CRC of record 0 at byte 0"):
        list(iter_rows(bad))
    data = bytearray(raw)
    second = 12 + first_len + 4
    data[second + 8] ^= 0xFF  # second record's length CRC
    bad.write_bytes(bytes(data))
    with pytest.raises(BenchmarkFileError, match=f"corrupt length CRC of record 1 at byte {second}"):
        list(iter_rows(bad))
    bad.write_bytes(bytes(raw[:-3]))
    with pytest.raises(BenchmarkFileError, match="truncated record 8"):
        list(iter_rows(bad))
    data = bytearray(raw)
    data[12 + 5] ^= 0x01
    bad.write_bytes(bytes(data))
    with pytest.raises(BenchmarkFileError, match="corrupt data CRC"):
        NB101Benchmark(bad, progress=False)
    assert not list(tmp_path.glob("*.sqlite*"))  # a failed build leaves no table behind


def test_wrong_hash_is_detected_with_verify_hashes(tmp_path):
    rows = fixture_rows()
    rows[0] = Row(spec_hash(SMALL), *[getattr(rows[0], f) for f in ("epochs", "raw_adjacency", "raw_operations",
                                                                    "metrics")])
    path = tmp_path / "nasbench_only108.tfrecord"
    write_tfrecord(path, (format_row(r) for r in rows))
    with pytest.raises(BenchmarkFileError, match="does not match its graph"):
        NB101Benchmark(path, verify_hashes=True, progress=False)


# --- the benchmark ------------------------------------------------------------------------------------

def test_benchmark_identity_and_lookup(tfrecord):
    b = NB101Benchmark(tfrecord, verify_hashes=True, progress=False)
    assert len(b) == 3 and b.hps == ("108",)
    assert [b.arch(i) for i in b] == [spec_hash(FIRST_ROW), spec_hash(SMALL), spec_hash(CHAIN)]
    assert list(b.hash_iterator()) == [b.arch(i) for i in b]
    assert b.arch(0) == "00005c142e6f48ac74fdcf73e3439874"
    assert b.index_of(FIRST_ROW) == b.index_of(encode_spec(FIRST_ROW)) == b.index_of(b.arch(0)) == 0
    # an isomorphic relabeling (swap vertices 1/2 of SMALL) and an unpruned version hit the same row
    swapped = Spec(SMALL.matrix, (I, M, C1, O))
    dangling = Spec(((0, 1, 1, 0, 0), (0, 0, 0, 1, 1), (0, 0, 0, 0, 1), (0, 0, 0, 0, 0), (0, 0, 0, 0, 0)),
                    (I, C1, M, C3, O))
    assert b.index_of(swapped) == b.index_of(dangling) == 1
    assert b.spec(1) == SMALL
    with pytest.raises(OutOfSpaceError, match="is not in nasbench_only108.tfrecord"):
        b.index_of(Spec(CHAIN.matrix, (I, M, O)))
    with pytest.raises(OutOfSpaceError, match="index 3 out of range"):
        b.arch(3)


def test_query_seeds_halfway_cost_params(tfrecord):
    b = get_benchmark("nb101", path=tfrecord, progress=False)
    r = b.query(FIRST_ROW, "cifar10", 108, seed=2)
    assert r.seed == 2 and r.seeds == (0, 1, 2) and r.hp == "108"
    assert r.valid_accuracy == pytest.approx(100 * (0.92 + 0.009))
    assert r.test_accuracy == pytest.approx(100 * (0.91 + 0.009))
    assert r.accuracy("train") == pytest.approx(100.0)
    assert r.cost == pytest.approx(300.0) and r.params == pytest.approx(8.55553)
    mean = b.query(FIRST_ROW)
    assert mean.seed is None and mean.valid_accuracy == pytest.approx(100 * (0.91 + 0.009))
    assert mean.cost == pytest.approx(200.0)
    half = b.query(FIRST_ROW, hp=108, seed=0, epoch=54)
    assert half.epoch == 54 and half.valid_accuracy == pytest.approx(100 * 0.909 * 0.5)
    assert half.cost == pytest.approx(50.0) and half.accuracy("train") == pytest.approx(50.0)
    drawn = {b.query(FIRST_ROW, seed=rng).seed for rng in [random.Random(s) for s in range(30)]}
    assert drawn == {0, 1, 2}
    with pytest.raises(NwotError, match="epochs 54 \\(halfway\\) and 108"):
        b.query(FIRST_ROW, epoch=10)
    with pytest.raises(NwotError, match="unknown nb101 hp '12'"):
        b.query(FIRST_ROW, hp=12)
    with pytest.raises(NwotError, match="unknown seed 3"):
        b.query(FIRST_ROW, seed=3)
    assert b.params(SMALL) == nb101_param_count(SMALL) / 1e6
    frame = b.to_frame()
    assert list(frame["hash"]) == [b.arch(i) for i in b]
    assert frame.loc[0, "valid"] == pytest.approx(100 * 0.919) and (frame["repeats"] == 3).all()
    assert b.best("cifar10", "valid", hp=108)[1] == pytest.approx(100 * 0.919)


def test_table_is_built_once_and_rebuilt_when_the_source_changes(tfrecord):
    b = NB101Benchmark(tfrecord, progress=False)
    stamp = b.table_path.stat().st_mtime_ns
    assert NB101Benchmark(tfrecord, progress=False).table_path.stat().st_mtime_ns == stamp
    assert len(NB101Benchmark(b.table_path)) == 3  # the table alone opens too
    write_tfrecord(tfrecord, (format_row(r) for r in fixture_rows(specs=(SMALL, CHAIN))))
    assert len(NB101Benchmark(tfrecord, progress=False)) == 2


def test_full_file_with_several_epoch_budgets(tmp_path):
    path = tmp_path / "nasbench_full.tfrecord"
    write_tfrecord(path, (format_row(r) for r in fixture_rows(epochs=(4, 12, 36, 108))))
    b = NB101Benchmark(path, progress=False)
    assert b.hps == ("4", "12", "36", "108")
    assert b.query(SMALL, hp=12, seed=1).valid_accuracy == pytest.approx(100 * 0.911)
    timed = TimedBenchmark(b, "cifar10", hp="12")  # reads the "cifar10-valid" alias, one random repeat
    signal, _, used, cost = timed.simulate_train_eval(SMALL, random.Random(0))
    rep = round(signal - 90.1)  # valid = 100 * (0.90 + 0.01 rep + 0.001)
    assert rep in (0, 1, 2) and signal == pytest.approx(100 * (0.901 + 0.01 * rep))
    assert cost == pytest.approx(100.0 * (rep + 1) * 12 / 108) and used == cost


def test_official_api_facade(tfrecord):
    api = NASBench101API(NB101Benchmark(tfrecord, progress=False), rng=random.Random(0))
    data = api.query(FIRST_ROW)
    assert data["trainable_parameters"] == 8_555_530
    assert data["module_operations"] == list(FIRST_ROW.ops)
    assert data["validation_accuracy"] in [pytest.approx(0.909 + 0.01 * k) for k in range(3)]
    api.query(SMALL, stop_halfway=True)
    t, e = api.get_budget_counters()
    assert e == 108 + 54 and t > 0
    api.reset_budget_counters()
    assert api.get_budget_counters() == (0.0, 0)
    fixed, computed = api.get_metrics_from_spec(SMALL)
    assert fixed["module_adjacency"].tolist() == [list(r) for r in SMALL.matrix]
    assert sorted(computed) == [108] and len(computed[108]) == 3
    assert computed[108][1]["final_validation_accuracy"] == pytest.approx(0.919)
    assert computed[108][1]["halfway_training_time"] == pytest.approx(100.0)
    assert api.is_valid(SMALL) and not api.is_valid(Spec(((0, 1, 0), (0, 0, 0), (0, 0, 0)), (I, C3, O)))
    with pytest.raises(OutOfSpaceError, match="invalid number of epochs 12"):
        api.query(SMALL, epochs=12)
    assert list(api.hash_iterator())[0] == "00005c142e6f48ac74fdcf73e3439874"


def test_missing_file_names_the_official_files(tmp_path, monkeypatch):
    monkeypatch.delenv("NWOT_DATA_DIR", raising=False)
    with pytest.raises(BenchmarkFileError, match="nasbench_only108.tfrecord \\(499 MB\\).*nasbench_full.tfrecord "
                                                 "\\(1.95 GB\\).*github.com/google-research/nasbench"):
        NB101Benchmark()
    with pytest.raises(BenchmarkFileError, match="no file"):
        NB101Benchmark(tmp_path / "nope.tfrecord")
    monkeypatch.setenv("NWOT_DATA_DIR", str(tmp_path))
    with pytest.raises(BenchmarkFileError, match=f"none of .* in {tmp_path}"):
        NB101Benchmark()


# --- NASLib's 500 real cells --------------------------------------------------------------------------

def test_naslib500_real_rows(data_root, monkeypatch):
    n = 500 if data_root.full else 50  # the committed cut keeps 50 of the 500 cells, the first one included
    monkeypatch.setenv(SHARED_DATA_ENV, str(data_root.path))  # the benchmark's default path reads this root
    b = NASLib500(data_root / "nb101/naslib/zc_nasbench101_subset500.json.xz")
    assert len(b) == n and get_benchmark("nb101_naslib500").arch(0) == b.arch(0)
    # MANIFEST §3 sample: ops input, maxpool, maxpool, conv3x3 x3, output
    first = b.arch(0)
    assert first.endswith("|input,maxpool3x3,maxpool3x3,conv3x3-bn-relu,conv3x3-bn-relu,conv3x3-bn-relu,output")
    r = b.query(first)
    assert r.valid_accuracy == 92.578125 and r.params == 4.095778 and r.flops == 624.55808
    assert b.zero_cost(0)["synflow"] == pytest.approx(88.08498394991342)
    assert set(b.zero_cost(0)) == {"synflow", "jacov", "snip", "grad_norm", "fisher", "grasp", "epe_nas",
                                   "l2_norm", "plain"}
    # a pruned (or relabelled) version of a row is found only when isomorphs are resolved
    from nwot.spaces.nb101.codec import prune

    pruned = prune(b.specs[0])
    with pytest.raises(OutOfSpaceError, match="resolve_isomorph=True"):
        b.index_of(pruned)
    assert b.hashes[b.index_of(pruned, resolve_isomorph=True)] == spec_hash(pruned)
    with pytest.raises(NwotError, match="only seed=None"):
        b.query(0, seed=0)
    frame = b.to_frame()
    assert len(frame) == n and frame["hash"].nunique() == len(set(b.hashes))
    with pytest.raises(BenchmarkFileError, match="zc_nasbench101"):
        NASLib500(data_root / "nope.json.xz")
