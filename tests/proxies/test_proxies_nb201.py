"""Proxies on real NB201 cells, proxy scores in the store (configs never mixed, failures kept), the job script."""
from __future__ import annotations

import math
import sqlite3

import pytest

import nwot
from nwot.adapters.embedded import nb201_arch_strings
from nwot.errors import NwotError
from nwot.proxies import Status, get_proxy, score_proxies
from nwot.scores.proxy_store import export_wide, labelled_batch, proxy_key, read_wide, select_config
from nwot.scores.store import ScoreRow, ScoreStore, StoreKey
from nwot.spaces.nb201.model import build_nb201

ARCHS = nb201_arch_strings()
NO_PATH = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


def builder(arch, seed=0):
    def build():
        with nwot.torch_seed(seed):
            return build_nb201(arch)
    return build


@pytest.fixture(scope="module")
def batch():
    return labelled_batch("cifar10", 128, 0)


def test_params_and_flops_equal_the_benchmark(batch):
    # NB201 / NATS record of index 11 (shared data MANIFEST §2): flop 113.95137 MFLOPs, params 0.802426 MB;
    # index 0: params 0.129306 MB
    r = score_proxies(builder(ARCHS[11]), batch, ["params", "flops"])
    assert r["params"].value == 802_426 and round(r["flops"].value / 1e6, 5) == 113.95136
    assert score_proxies(builder(ARCHS[0]), batch, ["params"])["params"].value == 129_306


def test_no_path_cell_fails_as_a_value(batch):
    names = ["snip", "grad_norm", "plain", "fisher", "grasp", "jacov", "epe_nas", "synflow", "zen", "zico", "naswot"]
    r = score_proxies(builder(NO_PATH), batch, names)
    for n in names[:-1]:
        assert r[n].status is Status.NO_PATH and math.isnan(r[n].value), r[n]
    assert r["naswot"].status is Status.SINGULAR and r["naswot"].value == -math.inf


def test_shared_passes_change_nothing(batch):
    """Sharing is an optimisation: each proxy alone gives the same value as all together."""
    names = ["snip", "grad_norm", "plain", "fisher", "jacov", "epe_nas", "meco", "swap"]
    arch = ARCHS[1]  # a cell of conv3x3, avg pool and skip edges
    together = score_proxies(builder(arch), batch, names)
    for n in names:
        alone = score_proxies(builder(arch), batch, [n])[n]
        assert alone.ok and alone.value == together[n].value, n


def test_scores_are_reproducible_and_seeded(batch):
    arch = ARCHS[1]
    a = score_proxies(builder(arch), batch, ["snip", "zen", "te_nas_lr"], seed=0)
    b = score_proxies(builder(arch), batch, ["snip", "zen", "te_nas_lr"], seed=0)
    c = score_proxies(builder(arch, seed=1), batch, ["snip"], seed=0)
    assert all(a[n].value == b[n].value for n in a)
    assert c["snip"].value != a["snip"].value  # another init seed, another value


def _key(name, mode="clean"):
    p = get_proxy(name)
    return proxy_key("nb201", "cifar10", 0, 0, p, mode)


def test_configs_are_never_mixed(tmp_path):
    st = ScoreStore(tmp_path / "s.sqlite")
    k_clean, k_ref = _key("fisher"), _key("fisher", mode="reference")
    assert k_clean.score_name != k_ref.score_name and "mode=reference" in k_ref.score_name
    st.put(k_clean, [ScoreRow(ARCHS[1], 1.0, 0.1, 1)])
    st.put(k_ref, [ScoreRow(ARCHS[1], 2.0, 0.1, 1)])
    with pytest.raises(NwotError) as e:
        select_config(st, "nb201", "cifar10", "fisher")  # two configs stored: a bare name is ambiguous
    assert "2 configurations" in str(e.value)
    assert select_config(st, "nb201", "cifar10", "fisher", k_ref.score_name) == k_ref.score_name
    with pytest.raises(NwotError):
        select_config(st, "nb201", "cifar10", "fisher", k_clean.score_name.replace("bs=32", "bs=64"))
    assert st.to_frame(k_clean)["value"].tolist() == [1.0]  # each key reads only its own rows
    p = get_proxy("naswot")
    p.set_batch_size(32)
    assert proxy_key("nb201", "cifar10", 0, 0, p, "clean").batch_size == 32
    assert proxy_key("nb201", "cifar10", 0, 0, get_proxy("naswot"), "clean").batch_size == 128


def test_failures_stored_with_status_and_exported(tmp_path):
    st = ScoreStore(tmp_path / "s.sqlite")
    k = _key("jacov")
    st.put(k, [ScoreRow(ARCHS[0], -33.5, 0.2, 0, "cpu", "ok"),
               ScoreRow(NO_PATH, float("nan"), 0.2, ARCHS.index(NO_PATH), "cpu", "no_path", "zero Jacobian")])
    df = st.to_frame(k)
    assert sorted(df["status"]) == ["no_path", "ok"] and df["value"].isna().sum() == 1
    path, n = export_wide(st, "nb201", "cifar10", {"jacov": k}, tmp_path / "e.csv.xz", {"command": "test"})
    back = read_wide(path, ["jacov"])
    assert n == 2 and back.loc[0, "jacov"] == -33.5 and back.loc[ARCHS.index(NO_PATH), "jacov__status"] == "no_path"
    assert math.isnan(back.loc[ARCHS.index(NO_PATH), "jacov"])


def test_an_export_imported_into_a_fresh_store_gives_the_same_export(tmp_path):
    from nwot.scores.proxy_store import import_wide

    st = ScoreStore(tmp_path / "s.sqlite")
    k, k2 = _key("jacov"), _key("snip")
    st.put(k, [ScoreRow(ARCHS[0], -33.5, 0.2, 0, "cpu", "ok"),
               ScoreRow(NO_PATH, float("nan"), 0.2, ARCHS.index(NO_PATH), "cpu", "no_path", "zero Jacobian")])
    st.put(k2, [ScoreRow(ARCHS[1], 0.123456789012, 0.1, 1, "cpu", "ok"),
                ScoreRow(ARCHS[2], float("-inf"), 0.1, 2, "cpu", "ok"),
                # a failure whose status is the string "nan" (pandas' default reader takes it for missing)
                ScoreRow(ARCHS[3], float("-inf"), 0.1, 3, "cpu", "nan", "all-zero features")])
    keys = {"jacov": k, "snip": k2}
    first, _ = export_wide(st, "nb201", "cifar10", keys, tmp_path / "a.csv.xz", {"command": "test"})
    assert read_wide(first).loc[3, "snip__status"] == "nan"
    fresh = ScoreStore(tmp_path / "fresh.sqlite")
    assert import_wide(fresh, first) == {"jacov": 2, "snip": 3}
    assert import_wide(fresh, first) == {"jacov": 0, "snip": 0}  # stored rows are kept, never doubled
    assert dict(zip(fresh.to_frame(k2)["arch_index"], fresh.to_frame(k2)["status"]))[3] == "nan"
    again, _ = export_wide(fresh, "nb201", "cifar10", keys, tmp_path / "b.csv.xz", {"command": "test"})
    a, b = read_wide(first), read_wide(again)
    assert a.equals(b)
    assert b.loc[2, "snip"] == float("-inf") and b.loc[1, "snip"] == 0.1234567890  # the export's 10 digits
    back = fresh.to_frame(k)
    assert sorted(back["status"].fillna("ok")) == ["no_path", "ok"]
    assert set(back["reason"]) == {"imported from a.csv.xz"}
    with pytest.raises(NwotError, match="holds nb201/cifar10, not nb201/cifar100"):
        import_wide(fresh, first, "nb201", "cifar100")
    with pytest.raises(NwotError, match="not found"):
        import_wide(fresh, tmp_path / "none.csv.xz")


def test_an_old_store_opens_and_gains_the_status_columns(tmp_path):
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE scores (space TEXT NOT NULL, arch TEXT NOT NULL, dataset TEXT NOT NULL, "
                "batch_seed INTEGER NOT NULL, batch_size INTEGER NOT NULL, init_seed INTEGER NOT NULL, "
                "score_name TEXT NOT NULL, arch_index INTEGER, value REAL, seconds REAL, device TEXT, "
                "created REAL NOT NULL, PRIMARY KEY (space, arch, dataset, batch_seed, batch_size, init_seed, "
                "score_name))")
    con.execute("INSERT INTO scores VALUES ('nb201', 'a', 'cifar10', 0, 128, 0, 'naswot', 0, 1.5, 0.1, 'cpu', 0)")
    con.commit()
    con.close()
    st = ScoreStore(path)
    key = StoreKey("nb201", "cifar10", 0, 128, 0, "naswot")
    df = st.to_frame(key)
    assert df["value"].tolist() == [1.5] and df["status"].isna().all()
    st.put(key, [ScoreRow("b", 2.0, 0.1, 1, "cpu", "ok")])
    assert st.count(key) == 2


def test_job_script_is_resumable(tmp_path):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "score_proxies_nb201", Path(__file__).resolve().parents[2] / "benchmarks" / "score_proxies_nb201.py")
    job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(job)

    store = tmp_path / "p.sqlite"
    args = ["--cells", "sample3", "--proxies", "params,flops,l2_norm,snip", "--modes", "clean", "--store", str(store),
            "--no-progress", "--export", str(tmp_path / "x.csv")]
    assert job.main(args) == 0
    st = ScoreStore(store)
    assert st.count() == 3 * 4
    names = st.score_names("nb201", "cifar10")
    assert any(n.startswith("snip[mode=clean,bs=32,") for n in names)
    st.close()
    assert job.main(args) == 0  # nothing left to score: the second run only exports
    df = read_wide(tmp_path / "x.csv", ["params", "flops", "l2_norm", "snip"])
    from nwot.study.cells import random_cells

    assert sorted(df.index) == sorted(random_cells(3, seed=0)) and (df["snip__status"] == "ok").all()
    # --limit N means the first N cells of the set: a re-run resumes them and never adds more
    lim = ["--cells", "sample5", "--proxies", "params", "--modes", "clean", "--store", str(store), "--no-progress",
           "--limit", "4"]
    assert job.main(lim) == 0 and job.main(lim) == 0
    st = ScoreStore(store)
    assert st.count(_key("params")) == 4
    st.close()


def test_export_labels_and_stale_configs(tmp_path):
    from nwot.scores.proxy_store import column_label, parse_config_id, stored_keys

    p = get_proxy("naswot")
    p.set_batch_size(32)
    assert column_label(p.config_id("clean")) == "naswot@bs32"
    assert column_label(get_proxy("fisher").config_id("reference")) == "fisher@reference"
    assert column_label(get_proxy("flops").config_id("clean")) == "flops"
    name, cfg = parse_config_id(get_proxy("zico").config_id("clean"))
    assert name == "zico" and cfg["bs"] == "128" and cfg["mode"] == "clean"
    with pytest.raises(NwotError):
        parse_config_id("naswot")
    st = ScoreStore(tmp_path / "s.sqlite")
    k = _key("snip")
    stale = StoreKey(k.space, k.dataset, 0, 32, 0, k.score_name.replace(",v=", ",v=0."))  # an older implementation
    st.put(k, [ScoreRow(ARCHS[1], 1.0, 0.1, 1)])
    st.put(stale, [ScoreRow(ARCHS[1], 9.0, 0.1, 1)])
    assert list(stored_keys(st, "nb201", "cifar10")) == ["snip"]
    assert len(stored_keys(st, "nb201", "cifar10", current_only=False)) == 2


def test_zen_clean_skips_dead_branches(batch):
    # node 1 is fed only by `none`: the convs reading node 1 see zeros, their BN a zero variance
    arch = "|none~0|+|avg_pool_3x3~0|skip_connect~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_conv_3x3~2|"
    r = score_proxies(builder(arch), batch, ["zen"], mode="clean")["zen"]
    assert r.ok and math.isfinite(r.value)
