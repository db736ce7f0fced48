"""Benchmark adapters: one interface over the embedded table, NATS-Bench archives and the NB201 .pth.

Ground truth is independent of the code under test: the official ``nats_bench`` / ``nas_201_api`` APIs
opened on the real NATS-Bench records (shared data §2, indices 0, 11, 284), the NATS landscape CSV
(§1.2: hp-200 test accuracies, UniqueString), the index-encodings CSV (§1.9) and the MANIFEST optima.
All from the committed cut (tests/data/shared: the NATS records whole, rows of the CSVs); the
isomorphism test also runs on the full landscape (real_data).
"""
from __future__ import annotations

import bz2
import os
import pickle
import random
import shutil

import pytest
import torch

from nwot.adapters.base import DATASET_SPLITS, TimedBenchmark, get_benchmark, remap_metric, resolve_seed, search_dataset
from nwot.adapters.nats import NATSBenchmark
from nwot.adapters.nb201_api import NB201APIBenchmark, load_pth
from nwot.adapters.tables import TableBenchmark, import_benchmark, read_table
from nwot.errors import BenchmarkFileError, NwotError, OutOfSpaceError, UnsafePickleError

RECORDS = (0, 11, 284)
DATASETS = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
TSS_DIR = "NATS-tss-v1_0-3ffb9-simple"
SSS_DIR = "NATS-sss-v1_0-50262-simple"
#: Reporting columns of the NATS landscape CSV (§1.2): NATS-TSS hp 200 seed means.
LANDSCAPE = {("cifar10", "ori-test"): "CIFAR10TestAccuracy200Epochs",
             ("cifar100", "x-test"): "CIFAR100TestAccuracy200Epochs",
             ("ImageNet16-120", "x-test"): "ImageNetTestAccuracy200Epochs"}


def _plain_load(path):
    """Trusted staged fixture: read with plain pickle, independently of nwot's loader."""
    with bz2.open(path, "rb") as f:
        return pickle.load(f)


# --- fixtures ---------------------------------------------------------------------------------------
LANDSCAPE_CSV = "nb201/nats_bench_landscape/nats_bench.csv.xz"


@pytest.fixture(scope="session")
def nats_root(cut_data):
    return cut_data / "nats"


@pytest.fixture(scope="session")
def tss_meta(nats_root):
    return _plain_load(nats_root / TSS_DIR / "meta.pickle.pbz2")["meta_archs"]


@pytest.fixture(scope="session")
def landscape(cut_data):
    """Rows of the NATS landscape CSV by NB201 index (the cut's rows: RECORDS among them)."""
    return cut_data.nb201_rows(LANDSCAPE_CSV)


@pytest.fixture(scope="session")
def encodings(cut_data):
    return cut_data.nb201_rows("nb201/derived/nb201_index_encodings.csv.xz")


@pytest.fixture(scope="session")
def official_tss(nats_root):
    import nats_bench

    return nats_bench.create(str(nats_root / TSS_DIR), "tss", fast_mode=True, verbose=False)


@pytest.fixture(scope="session")
def official_sss(nats_root):
    import nats_bench

    return nats_bench.create(str(nats_root / SSS_DIR), "sss", fast_mode=True, verbose=False)


@pytest.fixture(scope="session")
def nb201_dict(nats_root, tss_meta):
    """A NAS-Bench-201 .pth dict (official layout) built from the real NATS-TSS records."""
    infos = {}
    for i in RECORDS:
        rec = _plain_load(nats_root / TSS_DIR / f"{i:06d}.pickle.pbz2")
        infos[i] = {"less": rec["12"], "full": rec["200"]}
    return {"meta_archs": list(tss_meta), "arch2infos": infos, "evaluated_indexes": set(RECORDS),
            "total_archs": len(tss_meta)}


@pytest.fixture(scope="session")
def nb201_pth(nb201_dict, tmp_path_factory):
    path = tmp_path_factory.mktemp("nb201") / "NAS-Bench-201-v1_1-096897.pth"
    torch.save(nb201_dict, path)
    return path


@pytest.fixture(scope="session")
def official_nb201(nb201_dict):
    from nas_201_api import NASBench201API

    return NASBench201API(nb201_dict, verbose=False)


@pytest.fixture(scope="session")
def table():
    return get_benchmark("table")


@pytest.fixture(scope="session")
def nats_tss(nats_root):
    return get_benchmark("nats-tss", path=nats_root)


@pytest.fixture(scope="session")
def nats_sss(nats_root):
    return get_benchmark("nats-sss", path=nats_root / SSS_DIR)


@pytest.fixture(scope="session")
def nb201(nb201_pth):
    return get_benchmark("nb201-api", path=nb201_pth)


@pytest.fixture(params=["table", "nats-tss", "nb201-api"])
def backend(request, table, nats_tss, nb201):
    return {"table": table, "nats-tss": nats_tss, "nb201-api": nb201}[request.param]


@pytest.fixture(params=["nats-tss", "nb201-api"])
def api_pair(request, nats_tss, nb201, official_tss, official_nb201):
    """(nwot backend, official API object on the same records)."""
    return {"nats-tss": (nats_tss, official_tss), "nb201-api": (nb201, official_nb201)}[request.param]


# --- one interface, every backend -------------------------------------------------------------------
def test_identity(backend, tss_meta, encodings):
    assert len(backend) == 15625 and backend.space == "nb201"
    assert backend.datasets == DATASETS and tuple(backend.hps) == ("12", "200") and backend.full_hp == "200"
    for i in RECORDS + (1, 6111, 15624):
        row = encodings[i]
        assert backend.arch(i) == tss_meta[i] == row["arch_str"]
        assert backend.index_of(tss_meta[i]) == i
        vec = tuple(int(v) for v in row["nb201_op_vector"].strip("()").split(","))
        assert backend.index_of(vec) == i
        assert backend.index_of(list(torch.tensor(vec).numpy())) == i  # numpy ints
        assert backend.index_of(i) == i
    assert backend.index_of((4, 2, 1, 2, 1, 1)) == 0  # MANIFEST §0: index 0 -> (4, 2, 1, 2, 1, 1)


def test_resolve_isomorph_maps_to_lowest_index_of_unique_string(backend, data_root):
    # the cut keeps, with each of its cells, the lowest index of that cell's class: `lowest` is exact either way
    landscape = data_root.nb201_rows(LANDSCAPE_CSV)
    lowest = {}
    for i, row in landscape.items():
        lowest.setdefault(row["UniqueString"], i)
    if data_root.full:
        assert len(lowest) == 6466  # MANIFEST §1.2
    rng = random.Random(0)  # on the full file: rng.sample(range(15625), 400), as sorted(landscape) is that range
    moved = [i for i in rng.sample(sorted(landscape), 400) if lowest[landscape[i]["UniqueString"]] != i][:25]
    assert len(moved) == 25
    for i in moved + list(RECORDS):
        want = lowest[landscape[i]["UniqueString"]]
        assert backend.index_of(i) == i  # never resolved unless asked
        assert backend.index_of(landscape[i]["ArchitectureString"], resolve_isomorph=True) == want
        assert backend.index_of(i, resolve_isomorph=True) == want


def test_bad_inputs_name_the_allowed_values(backend):
    with pytest.raises(OutOfSpaceError, match=r"15625 out of range; allowed 0\.\.15624"):
        backend.index_of(15625)
    with pytest.raises(OutOfSpaceError, match="out of range"):
        backend.query(-1, "cifar10", "200")
    with pytest.raises(OutOfSpaceError, match="not an arch"):
        backend.index_of(True)
    with pytest.raises(OutOfSpaceError, match="malformed NB201 arch string"):
        backend.index_of("|nor_conv_3x3~0|+|none~0|")
    with pytest.raises(OutOfSpaceError, match="unknown NB201 op 'conv5x5'.*allowed: none, skip_connect"):
        backend.index_of("|conv5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    with pytest.raises(OutOfSpaceError, match=r"op id 7 out of range.*allowed 0\.\.4"):
        backend.index_of((7, 0, 0, 0, 0, 0))
    with pytest.raises(NwotError, match="dataset 'CIFAR-10'.*allowed: 'cifar10-valid', 'cifar10', 'cifar100', "
                                        "'ImageNet16-120'"):
        backend.query(0, "CIFAR-10", "200")
    with pytest.raises(NwotError, match="hp '90'.*allowed: '12', '200'"):
        backend.query(0, "cifar10", 90)
    r = backend.query(0, "cifar100", "200")
    with pytest.raises(NwotError, match="split of cifar100 'valid'.*allowed: 'train', 'x-valid', 'x-test', 'ori-test'"):
        r.accuracy("valid")
    with pytest.raises(NwotError, match="split of cifar10 'x-valid'.*allowed: 'train', 'ori-test'"):
        backend.query(0, "cifar10", "200").accuracy("x-valid")
    with pytest.raises(NwotError, match="metric 'top1'"):
        backend.best("cifar10", "top1", indices=RECORDS)


def test_hp200_reporting_accuracies_equal_nats_landscape(backend, landscape):
    for i in RECORDS:
        for (ds, split), col in LANDSCAPE.items():
            r = backend.query(i, ds, 200)
            assert r.accuracy(split) == float(landscape[i][col]), (i, ds, split)
            assert r.test_accuracy == float(landscape[i][col])
            assert set(r.splits) == set(DATASET_SPLITS[ds]) and r.hp == "200" and r.dataset == ds


def test_query_values_agree_across_backends(table, nats_tss, nb201):
    """Seed means: the embedded table equals the NATS records (exactly where both come from the same runs)."""
    for i in RECORDS:
        for ds in DATASETS:
            for hp in ("12", "200"):
                t, n, b = (x.query(i, ds, hp) for x in (table, nats_tss, nb201))
                for split in DATASET_SPLITS[ds]:
                    assert n.accuracy(split) == b.accuracy(split) and n.loss(split) == b.loss(split)
                    if t.accuracy(split) is None:
                        continue
                    if (hp == "200" and split == "x-valid" and ds != "cifar10-valid"):
                        # NB201 v1_1 vs NATS storage of the same runs: differ below 1e-7 (MANIFEST §7)
                        assert t.accuracy(split) == pytest.approx(n.accuracy(split), abs=1e-6)
                    else:
                        assert t.accuracy(split) == n.accuracy(split), (i, ds, hp, split)
                assert n.cost == pytest.approx(b.cost, rel=1e-15)
    # the table has exactly the documented hp-12 columns
    assert table.query(0, "cifar10-valid", 12).accuracy("x-valid") == 63.36399998046875  # MANIFEST §1.5
    assert table.query(0, "cifar10-valid", 12).accuracy("ori-test") is None


def test_params_and_flops(backend, official_tss):
    for i in RECORDS:
        for ds in DATASETS:
            costs = official_tss.get_cost_info(i, ds, hp="200")
            assert backend.params(i, ds) == pytest.approx(float(costs["params"]), abs=1e-12)
            assert backend.query(i, ds, "200").params == pytest.approx(float(costs["params"]), abs=1e-12)
            flops = backend.flops(i, ds)
            if isinstance(backend, TableBenchmark):  # computed by nwot's builder (issue 17): equal to 1e-9 MFLOPs
                assert flops == pytest.approx(costs["flops"], abs=1e-9)
            else:
                assert flops == costs["flops"]
    assert backend.params(11) == 0.802426  # MANIFEST §2
    assert backend.params(0, "ImageNet16-120") == pytest.approx(0.136456, abs=1e-12)


def test_compute_costs_equal_get_cost_info(api_pair):
    bench, api = api_pair
    for i in RECORDS:
        for ds in DATASETS:
            for hp in ("12", "200"):
                assert bench.compute_costs(i, ds, hp) == api.get_cost_info(i, ds, hp=hp)
                r = bench.query(i, ds, hp)
                assert (r.params, r.flops, r.latency) == (api.get_cost_info(i, ds, hp=hp)["params"],
                                                          api.get_cost_info(i, ds, hp=hp)["flops"],
                                                          api.get_latency(i, ds, hp=hp))


def test_best_like_find_best(backend, official_tss):
    for i in RECORDS:  # make the official API "evaluate" exactly the 3 records
        official_tss.get_more_info(i, "cifar10", hp="200", is_random=False)
    cases = [("cifar10", "valid", None), ("cifar10", "test", None), ("cifar100", "test", None),
             ("ImageNet16-120", "valid", None), ("cifar10", "test", 0.5), ("cifar100", "test", 0.13)]
    for ds, metric, pmax in cases:
        want_i, want_v = official_tss.find_best(ds, metric, param_max=pmax, hp="200", enforce_all=False)
        got_i, got_v = backend.best(ds, metric, "200", max_params=pmax, indices=RECORDS)
        assert got_i == want_i, (ds, metric, pmax)
        assert got_v == pytest.approx(float(want_v), abs=1e-6)
    with pytest.raises(NwotError, match="no architecture"):
        backend.best("cifar10", "test", "200", max_params=0.01, indices=RECORDS)


def test_explicit_fidelity_no_default_hp(backend):
    with pytest.raises(TypeError):
        backend.query(0, "cifar10")  # the official query_by_index would silently use hp="12"


def test_table_only_has_seed_means(table):
    for seed in (777, random.Random(0)):
        with pytest.raises(NwotError, match="seed means only.*'nats-tss'.*NATS-Bench.*'nb201-api'"):
            table.query(11, "cifar10", "200", seed=seed)
    with pytest.raises(NwotError, match="final-epoch results only"):
        table.query(11, "cifar10", "200", epoch=3)
    r = table.query(11, "cifar10", "200")
    assert r.seed is None and r.seeds == () and not table.has_seeds


def test_table_cost_and_its_definition(table, nats_tss, official_tss):
    """The embedded cost column is the 12-epoch train-all-time; the official charge adds valid-per-time."""
    for i in RECORDS:
        info = official_tss.get_more_info(i, "cifar10-valid", hp="12", is_random=False)
        assert table.cost(i, "cifar10-valid", 12) == info["train-all-time"]
        official = info["train-all-time"] + info["valid-per-time"]
        assert nats_tss.cost(i, "cifar10-valid", 12) == official
        assert 2.3 < official - table.cost(i, "cifar10-valid", 12) < 4.2
    assert table.cost(0, "cifar10-valid", 12) == 86.65311598777771  # MANIFEST §1.7
    assert "train-all-time only" in table.cost_definition
    with pytest.raises(NwotError, match="no simulated training cost for cifar100 hp 200.*cifar10-valid hp 12"
                                        ".*'nats-tss'"):
        table.cost(0, "cifar100", 200)
    assert table.query(0, "cifar100", 200).cost is None


def test_table_best_over_all_cells_matches_manifest_optima(table):
    assert table.best("cifar10", "test") == (6111, pytest.approx(94.37333333333333))
    assert table.best("cifar10", "valid") == (6111, pytest.approx(91.60666665039064))
    i, v = table.best("cifar100", "test")
    assert i == 9930 and round(v, 3) == 73.513
    i, v = table.best("ImageNet16-120", "test")
    assert i == 857 and round(v, 3) == 47.311
    # ties go to the lowest index: 6111 and 13714 share the cifar10 optimum (MANIFEST §1.2)
    assert table.query(13714, "cifar10", 200).test_accuracy == table.query(6111, "cifar10", 200).test_accuracy
    # a params limit changes the answer and is honoured
    i, _ = table.best("cifar10", "test", max_params=0.5)
    assert table.params(i) <= 0.5 and i != 6111


# --- official-API parity (NATS-TSS, NB201 .pth) ------------------------------------------------------
def _more_info_splits(info, ds):
    """Official get_more_info keys -> split names."""
    keys = {"train": "train", "valid": "x-valid", "test": "ori-test" if ds.startswith("cifar10") else "x-test",
            "valtest": "ori-test"}
    return {keys[k]: (info[f"{k}-accuracy"], info[f"{k}-loss"]) for k in keys if f"{k}-accuracy" in info}


def test_mean_and_per_seed_equal_get_more_info(api_pair):
    bench, api = api_pair
    for i in RECORDS:
        for ds in DATASETS:
            for hp in ("12", "200"):
                seeds = api.query_meta_info_by_index(i, hp).get_dataset_seeds(ds)
                for is_random in [False] + seeds:
                    info = api.get_more_info(i, ds, hp=hp, is_random=is_random)
                    r = bench.query(i, ds, hp, seed=None if is_random is False else is_random)
                    assert r.seed == (None if is_random is False else is_random) and list(r.seeds) == seeds
                    for split, (acc, loss) in _more_info_splits(info, ds).items():
                        assert (r.accuracy(split), r.loss(split)) == (acc, loss), (i, ds, hp, is_random, split)
                    if "valid-per-time" in info:
                        assert r.cost == info["train-all-time"] + info["valid-per-time"]


def test_per_epoch_equals_get_more_info(nats_tss, official_tss):
    for i in RECORDS:
        for ds, hp, ep in (("cifar10-valid", "200", 0), ("cifar100", "200", 57), ("ImageNet16-120", "12", 5)):
            info = official_tss.get_more_info(i, ds, iepoch=ep, hp=hp, is_random=False)
            r = nats_tss.query(i, ds, hp, epoch=ep)
            for split, (acc, loss) in _more_info_splits(info, ds).items():
                assert (r.accuracy(split), r.loss(split)) == (acc, loss)
            if ds != "cifar10-valid":  # x-valid / x-test are stored for the last epoch only at hp 200
                assert (r.accuracy("x-valid") is None) == (hp == "200")
    with pytest.raises(NwotError, match=r"epoch 12 out of range for hp 12; allowed 0\.\.11"):
        nats_tss.query(0, "cifar10", "12", epoch=12)


def test_random_seed_draw_matches_official_is_random(api_pair):
    """seed=random.Random(s) picks the trial the official is_random=True picks after random.seed(s)."""
    bench, api = api_pair
    seen = set()
    for s in range(12):
        random.seed(s)
        info = api.get_more_info(11, "cifar10-valid", hp="200", is_random=True)
        r = bench.query(11, "cifar10-valid", "200", seed=random.Random(s))
        assert (r.valid_accuracy, r.accuracy("ori-test")) == (info["valid-accuracy"], info["test-accuracy"])
        seen.add(r.seed)
    assert seen == {777, 888, 999}
    assert resolve_seed(random.Random(3), [999, 777, 888]) == random.Random(3).choice([777, 888, 999])
    with pytest.raises(NwotError, match="seed 123.*allowed: 777, 888, 999"):
        bench.query(11, "cifar10-valid", "200", seed=123)


def test_timed_benchmark_equals_simulate_train_eval(api_pair):
    bench, api = api_pair
    nats = hasattr(api, "fast_mode")
    for ds in ("cifar10", "cifar100", "ImageNet16-120"):
        for hp in ("12", "200"):
            for ep in ((None, 5) if nats else (None,)):  # the NB201 API has no iepoch argument
                api.reset_time()
                timed = TimedBenchmark(bench, ds, hp)
                for s in range(6):
                    i = RECORDS[s % 3]
                    random.seed(s)
                    kw = {"iepoch": ep} if nats else {}
                    want = api.simulate_train_eval(i, ds, hp=hp, **kw)
                    got = timed.simulate_train_eval(i, random.Random(s), epoch=ep)
                    assert (got.valid_accuracy, got.cost, got.used_time) == (want[0], want[2], want[3]), (ds, hp, ep, s)
                    if nats:
                        assert got.latency == want[1]
                assert timed.n_queries == 6 and len(timed.history) == 6
    timed.reset_time()
    assert timed.used_time == 0 and timed.n_queries == 0
    timed.simulate_train_eval(0, account_time=False)
    assert timed.used_time == 0 and timed.n_queries == 1


def test_pitfall_query_by_index_defaults_to_hp12(official_tss, nats_tss, landscape):
    trials = official_tss.query_by_index(11, "cifar10")  # no hp: the official default is "12"
    assert list(trials) == [111] and trials[111].get_total_epoch() == 12
    acc12 = trials[111].get_eval("ori-test")["accuracy"]
    assert nats_tss.query(11, "cifar10", "12").accuracy("ori-test") == acc12
    assert nats_tss.query(11, "cifar10", "200").accuracy("ori-test") != acc12
    acc200 = float(landscape[11]["CIFAR10TestAccuracy200Epochs"])
    assert nats_tss.query(11, "cifar10", "200").accuracy("ori-test") == acc200


def test_pitfall_cifar10_search_reads_cifar10_valid_report_reads_cifar10(backend):
    assert search_dataset("cifar10") == "cifar10-valid"
    assert remap_metric("cifar10", "valid") == ("cifar10-valid", "x-valid")
    assert remap_metric("cifar10", "test") == ("cifar10", "ori-test")
    assert remap_metric("cifar100", "valid") == ("cifar100", "x-valid")
    assert remap_metric("ImageNet16-120", "test") == ("ImageNet16-120", "x-test")
    timed = TimedBenchmark(backend, "cifar10", "12")
    for i in RECORDS:
        signal = timed.simulate_train_eval(i).valid_accuracy  # seed mean (rng=None)
        assert signal == backend.query(i, "cifar10-valid", "12").accuracy("x-valid")
        assert signal != backend.query(i, "cifar10", "12").accuracy("ori-test")
        assert timed.history[-1]["cost"] == backend.cost(i, "cifar10-valid", "12")
    assert timed.used_time == pytest.approx(sum(h["cost"] for h in timed.history))
    with pytest.raises(NwotError, match="search dataset.*'cifar10-valid'.*allowed: 'cifar10', 'cifar100', "
                                        "'ImageNet16-120'"):
        TimedBenchmark(backend, "cifar10-valid", "12")
    if isinstance(backend, TableBenchmark):
        with pytest.raises(NwotError, match="seed means only"):
            timed.simulate_train_eval(0, random.Random(0))
        with pytest.raises(NwotError, match="no simulated training cost for cifar100 hp 12"):
            TimedBenchmark(backend, "cifar100", "12").simulate_train_eval(0)


# --- NATS-SSS -----------------------------------------------------------------------------------------
def test_nats_sss_equals_official(nats_sss, official_sss):
    assert len(nats_sss) == 32768 and nats_sss.space == "nats_sss" and nats_sss.hps == ("01", "12", "90")
    assert nats_sss.arch(284) == "8:8:40:32:40" and nats_sss.index_of("8:8:40:32:40") == 284
    assert nats_sss.index_of((8, 8, 8, 16, 32)) == 11
    assert nats_sss.index_of("8:8:40:32:40", resolve_isomorph=True) == 284  # no isomorphs in SSS
    for i in RECORDS:
        for ds in DATASETS:
            for hp in ("01", "12", "90"):
                seeds = official_sss.query_meta_info_by_index(i, hp).get_dataset_seeds(ds)
                for is_random in [False] + seeds:
                    info = official_sss.get_more_info(i, ds, hp=hp, is_random=is_random)
                    r = nats_sss.query(i, ds, hp, seed=None if is_random is False else is_random)
                    for split, (acc, loss) in _more_info_splits(info, ds).items():
                        assert (r.accuracy(split), r.loss(split)) == (acc, loss)
                    assert r.cost == info["train-all-time"] + (info.get("valid-per-time") or info["test-per-time"])
                assert nats_sss.params(i, ds) == official_sss.get_cost_info(i, ds, hp="90")["params"]
    assert nats_sss.query(284, "cifar10", 1).hp == "01"  # int hp is zero-padded
    assert nats_sss.flops(284) == 21.827994  # MANIFEST §2
    with pytest.raises(NwotError, match="hp '200'.*allowed: '01', '12', '90'"):
        nats_sss.query(0, "cifar10", 200)
    with pytest.raises(OutOfSpaceError, match="SSS channel count 12"):
        nats_sss.index_of("8:8:8:8:12")


def test_sss_accuracies_need_a_users_archive(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(BenchmarkFileError, match=r"NATS-Bench SSS archive not found in \$TORCH_HOME.*"
                                                 r"NATS-sss-v1_0-50262-simple.*https://github.com/D-X-Y/NATS-Bench.*"
                                                 r"nwot ships no SSS accuracies"):
        get_benchmark("nats-sss")


# --- files: missing, corrupt, malicious ---------------------------------------------------------------
class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def tss_copy(nats_root, tmp_path):
    dst = tmp_path / TSS_DIR
    shutil.copytree(nats_root / TSS_DIR, dst)
    for p in dst.iterdir():
        p.chmod(0o644)
    return dst


def test_missing_archive_and_record(tmp_path, nats_tss):
    with pytest.raises(BenchmarkFileError, match=r"TSS archive not found.*NATS-tss-v1_0-3ffb9-simple.*"
                                                 r"https://github.com/D-X-Y/NATS-Bench"):
        NATSBenchmark("tss", tmp_path / "nowhere")
    with pytest.raises(BenchmarkFileError, match=r"index 5 not found: .*000005\.pickle\.pbz2 \(this folder has 3 of "
                                                 r"15625 records\).*https://github.com/D-X-Y/NATS-Bench"):
        nats_tss.query(5, "cifar10", "200")
    assert list(nats_tss.available_indices()) == list(RECORDS)


def test_corrupt_and_wrong_archives(tss_copy, nats_root):
    (tss_copy / "000011.pickle.pbz2").write_bytes(b"not bz2 at all")
    b = NATSBenchmark("tss", tss_copy)
    assert b.query(0, "cifar10", "200").test_accuracy == 85.86333333333334
    with pytest.raises(BenchmarkFileError, match=r"corrupt benchmark file .*000011\.pickle\.pbz2.*NATS-Bench"):
        b.query(11, "cifar10", "200")
    (tss_copy / "000284.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps({"12": [1, 2]})))
    with pytest.raises(BenchmarkFileError, match=r"corrupt NATS-Bench record .*000284.*hp: ArchResults"):
        b.query(284, "cifar10", "12")
    (tss_copy / "meta.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps({"meta_archs": ["x"]})))
    with pytest.raises(BenchmarkFileError, match="corrupt NATS-Bench TSS meta.*15625"):
        NATSBenchmark("tss", tss_copy)
    with pytest.raises(BenchmarkFileError, match="holds nats_sss archs, not NATS-Bench TSS"):
        NATSBenchmark("tss", nats_root / SSS_DIR)


def test_malicious_record_is_refused(tss_copy, tmp_path):
    marker = tmp_path / "pwned"
    (tss_copy / "000011.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps({"12": _Evil(marker)})))
    b = NATSBenchmark("tss", tss_copy)
    with pytest.raises(UnsafePickleError, match="system"):
        b.query(11, "cifar10", "12")
    (tss_copy / "meta.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps(_Evil(marker))))
    with pytest.raises(UnsafePickleError, match="system"):
        NATSBenchmark("tss", tss_copy)
    assert not marker.exists()


def test_nb201_pth_files(tmp_path, nb201_dict, nb201):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pth"
    torch.save({"meta_archs": [], "arch2infos": {0: _Evil(marker)}, "evaluated_indexes": set()}, evil)
    with pytest.raises(UnsafePickleError, match="evil.pth.*allow-list"):
        NB201APIBenchmark(evil)
    assert not marker.exists()
    with pytest.raises(BenchmarkFileError, match=r"NAS-Bench-201 file not found.*NAS-Bench-201-v1_1-096897\.pth"
                                                 r".*https://github.com/D-X-Y/NAS-Bench-201"):
        NB201APIBenchmark(tmp_path)
    bad = tmp_path / "NAS-Bench-201-v1_1-096897.pth"
    bad.write_bytes(b"garbage, not a torch file")
    with pytest.raises(BenchmarkFileError, match=r"corrupt NAS-Bench-201 file .*096897\.pth.*NAS-Bench-201"):
        NB201APIBenchmark(tmp_path)  # a folder holding the official file name
    torch.save({"meta_archs": ["x"]}, bad)
    with pytest.raises(BenchmarkFileError, match="expected a dict with 'meta_archs', 'arch2infos'"):
        NB201APIBenchmark(bad)
    # the legacy (pre-1.6, non-zip) torch format loads too, with numpy scalars through the allow-list
    legacy = tmp_path / "legacy.pth"
    torch.save(nb201_dict, legacy, _use_new_zipfile_serialization=False)
    assert load_pth(legacy)["arch2infos"][11]["full"]["all_results"][("cifar10", 777)]["params"] == 0.802426
    assert NB201APIBenchmark(legacy).query(11, "cifar10", 200) == nb201.query(11, "cifar10", 200)
    assert NB201APIBenchmark(data=nb201_dict).query(0, "cifar100", 12) == nb201.query(0, "cifar100", 12)
    with pytest.raises(NwotError, match="index 5 was not evaluated in this file"):
        nb201.query(5, "cifar10", "200")


# --- import / to_frame -------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".csv.xz", ".sqlite"])
def test_import_builds_the_table_schema(nats_tss, tmp_path, suffix):
    path, n = import_benchmark(nats_tss, tmp_path / f"tss{suffix}", progress=False)
    assert n == 3
    t = get_benchmark("table", path=path)
    assert len(t) == 15625 and list(t.available_indices()) == list(RECORDS) and t.hps == ("12", "200")
    assert t.arch(15624) == nats_tss.arch(15624)
    for i in RECORDS:
        for ds in DATASETS:
            assert t.params(i, ds) == nats_tss.params(i, ds) and t.flops(i, ds) == nats_tss.flops(i, ds)
            for hp in ("12", "200"):
                a, b = t.query(i, ds, hp), nats_tss.query(i, ds, hp)
                assert {s: v.accuracy for s, v in a.splits.items()} == {s: v.accuracy for s, v in b.splits.items()}
                assert a.cost == b.cost and t.cost(i, ds, hp) == b.cost
    assert t.best("cifar10", "valid") == nats_tss.best("cifar10", "valid")
    with pytest.raises(NwotError, match="index 5 .* has no results in this table"):
        t.query(5, "cifar10", "200")
    from nwot.adapters.embedded import COLUMNS, HW_COLUMNS

    # the embedded table's schema is a subset, but for the HW-NAS-Bench columns, which NATS archives do not have
    assert set(COLUMNS) - set(HW_COLUMNS) <= set(read_table(path).columns)


def test_to_frame(table, nats_tss):
    df = table.to_frame()
    assert df.shape[0] == 15625 and df.loc[6111, "cifar10/ori-test@200"] == pytest.approx(94.37333333333333)
    f = nats_tss.to_frame()
    assert list(f.index) == list(RECORDS)
    assert f.loc[284, "cifar100/x-test@200"] == nats_tss.query(284, "cifar100", 200).accuracy("x-test")
    assert f.loc[11, "ImageNet16-120/cost@12"] == nats_tss.cost(11, "ImageNet16-120", 12)


def test_registry_lists_all_backends():
    from nwot.adapters.base import list_benchmarks

    assert {"table", "nb201", "nats-tss", "nats-sss", "nb201-api"} <= set(list_benchmarks())


# --- CLI ------------------------------------------------------------------------------------------------
def _run(argv, capsys):
    from nwot.cli.main import build_parser

    args = build_parser().parse_args(argv)
    rc = args.func(args)
    return rc, capsys.readouterr().out


def test_cli_query_table(capsys):
    rc, out = _run(["bench", "query", "6111", "--dataset", "cifar10", "--hp", "200"], capsys)
    assert rc == 0
    assert "ori-test      94.3733" in out and "index      6111" in out and "params     1.073466 MB" in out


def test_cli_query_nats_json_and_seed(capsys, nats_root, nats_tss):
    import json

    rc, out = _run(["bench", "query", "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|nor_conv_3x3~1|"
                    "avg_pool_3x3~2|", "--dataset", "cifar100", "--hp", "12", "--benchmark", "nats-tss",
                    "--path", str(nats_root), "--json"], capsys)
    assert rc == 0 and json.loads(out) == nats_tss.query(11, "cifar100", "12").to_dict()
    rc, out = _run(["bench", "query", "4,2,1,2,1,1", "--dataset", "cifar10-valid", "--hp", "200", "--seed", "888",
                    "--benchmark", "nats-tss", "--path", str(nats_root)], capsys)
    r = nats_tss.query(0, "cifar10-valid", "200", seed=888)
    assert "seed       888 (one trial of 777, 888, 999)" in out and f"x-valid    {r.accuracy('x-valid'):>10.4f}" in out


def test_cli_best_info_import(capsys, nats_root, tmp_path):
    rc, out = _run(["bench", "best", "--dataset", "ImageNet16-120"], capsys)
    assert rc == 0 and "index 857" in out
    rc, out = _run(["bench", "info", "--benchmark", "nats-sss", "--path", str(nats_root)], capsys)
    assert "archs               32768" in out and "archs_with_results  3" in out
    assert "hps                 01, 12, 90" in out
    out_file = tmp_path / "sss.csv.xz"
    rc, out = _run(["bench", "import", str(out_file), "--benchmark", "nats-sss", "--path", str(nats_root),
                    "--quiet"], capsys)
    assert rc == 0 and "32768 archs, 3 with results" in out
    rc, out = _run(["bench", "query", "8:8:40:32:40", "--dataset", "cifar10", "--hp", "90", "--path",
                    str(out_file)], capsys)
    assert "ori-test      89.5100" in out  # the SSS 000284 record (hp 90, seed 777)


def test_cli_errors_are_clear(capsys):
    from nwot.cli.main import main

    assert main(["bench", "query", "11", "--dataset", "cifar10", "--hp", "200", "--seed", "777"]) == 2
    assert "seed means only" in capsys.readouterr().err
    assert main(["bench", "query", "99999", "--dataset", "cifar10", "--hp", "200"]) == 2
    assert "allowed 0..15624" in capsys.readouterr().err
    assert main(["bench", "info", "--benchmark", "nb101-full"]) == 2
    assert "unknown benchmark 'nb101-full'; allowed:" in capsys.readouterr().err
