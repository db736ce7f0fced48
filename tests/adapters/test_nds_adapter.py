"""NDS adapter (``get_benchmark("nds", path=..., space=...)``) on the schema-real fixture files.

tests/data/nds/README.md says where the record schema comes from (NDS notebooks, NNI's NDS importer, the
NASWOT loader); expected values below are read from the raw JSON with ``json``, not from the adapter.
"""
import json
import random
import shutil
from pathlib import Path

import pytest

from nwot.adapters import get_benchmark
from nwot.adapters.nds import NDS_DIR_ENV, NDSBenchmark, parse_file_name
from nwot.errors import BenchmarkFileError, NwotError, OutOfSpaceError
from nwot.spaces import get_space
from nwot.spaces.nds.codec import SPACE_NAMES, canonical_net

DATA = Path(__file__).resolve().parents[1] / "data" / "nds"


def raw(name):
    return json.loads((DATA / name).read_text())


@pytest.mark.parametrize("space", SPACE_NAMES)
def test_every_space_file_loads_with_real_numbers(space):
    b = get_benchmark("nds", path=DATA / f"{space}.json")
    jobs = raw(f"{space}.json")
    assert isinstance(b, NDSBenchmark) and len(b) == len(jobs) == 4
    assert (b.design_space, b.variant, b.space, tuple(b.datasets), tuple(b.hps)) == (
        space, "", f"nds:{space}", ("cifar10",), ("final",))
    for i, job in enumerate(jobs):
        assert b.accuracy(i) == 100 - job["test_ep_top1"][-1]
        assert b.params(i) == job["params"] / 1e6 and b.flops(i) == job["flops"] / 1e6
        assert b.config(i) == job["net"] and b.arch(i) == canonical_net(job["net"])
        r = b.query(i, "cifar10", "final")
        assert r.test_accuracy == 100 - job["test_ep_top1"][-1]
        assert r.accuracy("train") == 100 - job["train_ep_top1"][-1] and r.loss("train") == job["train_ep_loss"][-1]
        assert (r.seed, tuple(r.seeds), r.cost, r.epoch) == (None, (job["rng_seed"],), None, None)


def test_query_epochs_seeds_and_errors():
    b = get_benchmark("nds", path=DATA / "DARTS.json")
    job = raw("DARTS.json")[2]
    assert [b.query(2, "cifar10", "final", epoch=e).test_accuracy for e in range(5)] == \
        [100 - x for x in job["test_ep_top1"]]
    assert b.query(2, "cifar10", "final", seed=1).seed == 1
    assert b.query(2, "cifar10", "final", seed=random.Random(3)).seed == 1
    with pytest.raises(NwotError, match="unknown seed 2"):
        b.query(2, "cifar10", "final", seed=2)
    with pytest.raises(NwotError, match=r"0-based index in 0..4"):
        b.query(2, "cifar10", "final", epoch=5)
    with pytest.raises(NwotError, match="unknown nds dataset 'cifar100'"):
        b.query(2, "cifar100", "final")
    with pytest.raises(NwotError, match="unknown nds hp '200'"):
        b.query(2, "cifar10", "200")
    with pytest.raises(NwotError, match="NDS stores no simulated training cost"):
        b.cost(2, "cifar10", "final")
    with pytest.raises(OutOfSpaceError, match=r"index 4 out of range; allowed 0..3"):
        b.arch(4)


def test_index_of_accepts_index_dict_and_any_json_spelling():
    b = get_benchmark("nds", path=DATA / "ENAS.json")
    net = raw("ENAS.json")[3]["net"]
    assert b.index_of(3) == 3
    assert b.index_of(net) == 3
    assert b.index_of(json.dumps(net, indent=2)) == 3  # whitespace / key order do not matter
    other = json.loads(json.dumps(net))
    other["width"] += 2
    with pytest.raises(OutOfSpaceError, match="is not a record of ENAS.json"):
        b.index_of(other)
    with pytest.raises(OutOfSpaceError, match="not an NDS net config"):
        b.index_of("|nor_conv_3x3~0|+|")


def test_best_and_frame_match_the_raw_file():
    b = get_benchmark("nds", path=DATA / "ResNeXt-B.json")
    jobs = raw("ResNeXt-B.json")
    accs = [100 - j["test_ep_top1"][-1] for j in jobs]
    assert b.best("cifar10", "test") == (accs.index(max(accs)), max(accs))
    df = b.to_frame()
    assert list(df.index) == [0, 1, 2, 3]
    assert list(df["cifar10/ori-test@final"]) == accs
    assert list(df["cifar10/ori-test@best"]) == [100 - j["min_test_top1"] for j in jobs]
    assert list(df["params"]) == [j["params"] / 1e6 for j in jobs]
    assert list(df["job_id"]) == [j["job_id"] for j in jobs]
    assert list(df["base_lr"]) == [j["optim"]["base_lr"] for j in jobs]
    assert list(df["epochs"]) == [len(j["test_ep_top1"]) for j in jobs]


def test_reruns_file_reads_top_then_mid():
    b = get_benchmark("nds", path=DATA / "Vanilla_reruns.json")
    d = raw("Vanilla_reruns.json")
    jobs = d["top"] + d["mid"]
    assert (b.design_space, b.variant, len(b)) == ("Vanilla", "reruns", 3)
    assert [b.accuracy(i) for i in b] == [100 - j["test_ep_top1"][-1] for j in jobs]
    assert list(b.to_frame()["group"]) == ["top", "top", "mid"]
    # the two top records are re-runs of one net (seeds 1 and 2): the config maps to the first, indices_of to both
    assert b.index_of(d["top"][0]["net"]) == 0 and b.indices_of(d["top"][0]["net"]) == [0, 1]
    assert b.query(1, "cifar10", "final").seeds == (2,)


def test_folder_plus_space_and_env_var(monkeypatch):
    b = get_benchmark("nds", path=DATA, space="PNAS")
    assert b.path == DATA / "PNAS.json"
    assert get_benchmark("nds", path=DATA, space="Vanilla_reruns").variant == "reruns"
    monkeypatch.setenv(NDS_DIR_ENV, str(DATA))
    assert get_benchmark("nds", space="ResNet").path == DATA / "ResNet.json"
    sp = get_space("nds:ResNet", benchmark=get_benchmark("nds", space="ResNet"))  # $NWOT_NDS_DIR/ResNet.json
    assert sp.sample(random.Random(0)) in {canonical_net(j["net"]) for j in raw("ResNet.json")} and sp.size == 4
    monkeypatch.delenv(NDS_DIR_ENV)
    with pytest.raises(BenchmarkFileError, match=r"data.zip from https://github.com/facebookresearch/nds"):
        get_benchmark("nds", space="ResNet")


def test_missing_file_and_bad_space_names(tmp_path):
    with pytest.raises(BenchmarkFileError, match=r"NDS file .*DARTS.json not found; download data.zip from "
                                                 r"https://github.com/facebookresearch/nds"):
        get_benchmark("nds", path=tmp_path / "DARTS.json")
    with pytest.raises(BenchmarkFileError, match=r"DARTS_fix-w-d.json not found"):
        get_benchmark("nds", path=tmp_path, space="DARTS_fix-w-d")
    with pytest.raises(BenchmarkFileError, match="is a folder; name the NDS space"):
        get_benchmark("nds", path=DATA)
    with pytest.raises(NwotError, match="is a DARTS file, not 'ENAS'"):
        get_benchmark("nds", path=DATA / "DARTS.json", space="ENAS")
    with pytest.raises(NwotError, match="unknown NDS space 'MobileNet'"):
        get_benchmark("nds", path=DATA / "DARTS.json", space="MobileNet")
    renamed = tmp_path / "my_copy.json"
    shutil.copy(DATA / "DARTS.json", renamed)
    with pytest.raises(NwotError, match="cannot tell the NDS space of my_copy.json"):
        get_benchmark("nds", path=renamed)
    assert len(get_benchmark("nds", path=renamed, space="DARTS")) == 4


def test_file_names():
    assert parse_file_name("DARTS_lr-wd_in.json") == parse_file_name("x/DARTS_lr-wd_in.json.xz")
    f = parse_file_name("DARTS_lr-wd_in.json")
    assert (f.space, f.variant, f.dataset) == ("DARTS", "lr-wd_in", "imagenet")
    assert parse_file_name("ResNeXt-A.json").dataset == "cifar10"
    assert parse_file_name("MobileNet.json") is None


def test_imagenet_file_loads_but_is_not_a_cifar_space(tmp_path):
    p = tmp_path / "ResNet_in.json"
    shutil.copy(DATA / "ResNet.json", p)
    b = get_benchmark("nds", path=p)
    assert tuple(b.datasets) == ("imagenet",)
    assert b.accuracy(0, "imagenet") == 100 - raw("ResNet.json")[0]["test_ep_top1"][-1]
    with pytest.raises(NwotError, match="builds CIFAR networks"):
        get_space("nds:ResNet", benchmark=b)


def write(tmp_path, name, obj):
    p = tmp_path / name
    p.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return p


@pytest.mark.parametrize("mutate, match", [
    (lambda jobs: jobs[1].pop("test_ep_top1"), "record 1 has no 'test_ep_top1'"),
    (lambda jobs: jobs[2].__setitem__("test_ep_top1", ["7.5"]), r"record 2: 'test_ep_top1' must be a non-empty list"),
    (lambda jobs: jobs[0].__setitem__("test_ep_top1", [130.0]), r"errors in % \(0..100\)"),
    (lambda jobs: jobs[3].__setitem__("params", -5), "record 3: 'params' must be a non-negative number"),
    (lambda jobs: jobs[0].pop("flops"), "record 0 has no 'flops'"),
    (lambda jobs: jobs[0].pop("net"), "record 0 has no 'net'"),
    (lambda jobs: jobs[1]["net"]["genotype"]["normal"].__setitem__(0, ["conv_9x9", 0]),
     r"record 1 has a malformed 'net': unknown op 'conv_9x9'"),
    (lambda jobs: jobs[2].__setitem__("net", raw("ResNet.json")[0]["net"]),
     r"record 2 has a malformed 'net': a anynet config is not a member of NDS space 'DARTS'"),
    (lambda jobs: jobs[0].__setitem__("rng_seed", "1"), "'rng_seed' must be an int"),
])
def test_malformed_records_name_the_record_and_key(tmp_path, mutate, match):
    jobs = raw("DARTS.json")
    mutate(jobs)
    with pytest.raises(BenchmarkFileError, match=match):
        get_benchmark("nds", path=write(tmp_path, "DARTS.json", jobs))


def test_malformed_files(tmp_path):
    with pytest.raises(BenchmarkFileError, match="is not readable JSON"):
        get_benchmark("nds", path=write(tmp_path, "DARTS.json", '[{"net": '))
    with pytest.raises(BenchmarkFileError, match=r"must hold a list of job records or a dict with 'top' and 'mid'"):
        get_benchmark("nds", path=write(tmp_path, "ENAS.json", {"top": []}))
    with pytest.raises(BenchmarkFileError, match="holds no records"):
        get_benchmark("nds", path=write(tmp_path, "PNAS.json", []))


def test_space_samples_and_mutates_inside_the_file():
    b = get_benchmark("nds", path=DATA / "ResNet.json")
    sp = get_space("nds:ResNet", benchmark=b)
    assert sp.size == 4
    rng = random.Random(5)
    ref = random.Random(5)
    expected = [b.arch(ref.randrange(4)) for _ in range(6)]
    assert [sp.sample(rng) for _ in range(6)] == expected
    # Hamming distances between the fixture's stage lists (ds, ws; ss and block type equal):
    #   rec0 ds [1,1,1] ws [8,16,32] vs rec1 ([2,1,1], [16,16,24]): 1 + 2 = 3; vs rec2 ([1,2,1], [8,24,32]): 1 + 1 = 2;
    #   vs rec3 ([1,1,2], [12,16,40]): 1 + 2 = 3  -> the single nearest neighbour is record 2.
    assert sp.neighbours(0) == (2, [2])
    assert {sp.mutate(b.arch(0), random.Random(k)) for k in range(5)} == {b.arch(2)}
    # the same space opened from a path
    assert get_space("nds:ResNet", benchmark=get_benchmark("nds", path=DATA / "ResNet.json")).sample(
        random.Random(5)) == expected[0]
    with pytest.raises(NwotError, match="needs an NDS ResNet file"):
        get_space("nds:ResNet", benchmark=get_benchmark("nds", path=DATA / "Vanilla.json"))
