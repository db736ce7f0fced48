"""nwot.explore without a browser: tables, score files, filters, Pareto front, tau / rho, DAG SVGs, URL state,
replay, server binding, static export. Golden numbers are the README's (score vs accuracy over all cells) or
hand-counted (4^6 cells without `none`, 5^5 with one edge fixed)."""
from __future__ import annotations

import json
import random
import re
import socket
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from scipy import stats

pytest.importorskip("dash")
pytest.importorskip("plotly")

from nwot.errors import NwotError  # noqa: E402
from nwot.explore import dag  # noqa: E402
from nwot.explore.data import (  # noqa: E402
    ARCH,
    EDGE_PREFIX,
    HAS_PATH,
    ISO_SIZE,
    OPS_PREFIX,
    UNIQUE,
    ExploreConfig,
    SpaceTable,
    Unavailable,
    guess_role,
    load_spaces,
    read_score_file,
    score_label,
)
from nwot.explore.select import (  # noqa: E402
    Filters,
    apply_filters,
    correlation_matrix,
    dominators,
    op_usage,
    pareto_front,
    rank_correlation,
)
from nwot.explore.view import view_from_query  # noqa: E402
from nwot.spaces.nb201 import EDGES, OPS, format_arch, has_path, unique_str  # noqa: E402

CLEAN = "naswot_clean_seed0"
ACC = "cifar10/ori-test@200"


@pytest.fixture(scope="module")
def spaces():
    return load_spaces(ExploreConfig())


@pytest.fixture(scope="module")
def nb(spaces) -> SpaceTable:
    return spaces["nb201"]


# ---- the NB201 table -----------------------------------------------------------------------------------


def test_nb201_table_columns_and_known_cell(nb):
    assert nb.size == 15_625 and list(nb.frame.index[:3]) == [0, 1, 2]
    assert nb.frame.at[6111, ACC] == pytest.approx(94.3733, abs=1e-4)
    assert nb.frame.at[6111, ARCH] == ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|"
                                       "nor_conv_3x3~1|nor_conv_1x1~2|")
    # every numeric column of the embedded table is there, with a role
    import nwot

    embedded = [c for c in nwot.load_nb201_table().columns if c != "arch"]
    assert set(embedded) <= set(nb.roles)
    assert nb.roles["params"] == "cost" and nb.roles["cifar10-valid/cost@12"] == "cost"
    assert nb.roles[ACC] == "accuracy" and nb.roles[CLEAN] == "proxy"
    assert nb.defaults["x"] == CLEAN and nb.defaults["y"] == ACC


def test_nb201_metadata_against_the_space_functions(nb):
    rng = random.Random(0)
    for i in rng.sample(range(nb.size), 200):
        arch = nb.frame.at[i, ARCH]
        ops = [nb.frame.at[i, EDGE_PREFIX + f"{j}-{k}"] for j, k in EDGES]
        assert format_arch(ops) == arch
        assert nb.frame.at[i, UNIQUE] == unique_str(arch)
        assert bool(nb.frame.at[i, HAS_PATH]) == has_path(arch)
        assert sum(nb.frame.at[i, OPS_PREFIX + op] for op in OPS) == 6
    assert nb.frame[UNIQUE].nunique() == 6_466  # NATS-Bench's isomorphism classes
    assert int(nb.frame[HAS_PATH].sum()) == 15_284
    members = nb.iso_members(0)
    assert 0 in members and len(members) == nb.frame.at[0, ISO_SIZE]
    assert all(nb.frame.at[m, UNIQUE] == nb.frame.at[0, UNIQUE] for m in members)


def test_stored_scores_keep_singular_kernels(nb):
    s = nb.frame[CLEAN]
    assert int(np.isneginf(s).sum()) == 201 and s.notna().all()
    ref = nb.frame["naswot_reference_seed0"]
    assert int(ref.notna().sum()) == 5_870
    assert any("201 of 15,625 values are -inf" in n for n in nb.notices)


def test_guess_role():
    assert [guess_role(c) for c in ("params", "flops", "cifar10/edgegpu_latency", "fpga_energy", "x seconds",
                                    "cifar100/x-valid@12", "val_accuracy", "synflow",
                                    "cifar10/eyeriss_arithmetic_intensity")] == \
        ["cost", "cost", "cost", "cost", "cost", "accuracy", "accuracy", "proxy", "metric"]


def test_nats_sss_and_nds_unavailable_say_why(spaces):
    assert isinstance(spaces["nats-sss"], Unavailable) and "no accuracy table" in spaces["nats-sss"].reason
    assert isinstance(spaces["nds"], Unavailable) and "--nds" in spaces["nds"].reason


def test_nds_table_from_fixture_files():
    from pathlib import Path

    data = Path(__file__).resolve().parents[1] / "data" / "nds"
    sp = load_spaces(ExploreConfig(stored_scores=False, nds=(str(data / "DARTS.json"),)), ["nds"])
    t = sp["nds:DARTS"]
    assert t.size == 4 and t.roles["cifar10/ori-test@final"] == "accuracy"
    import nwot

    b = nwot.get_benchmark("nds", path=data / "DARTS.json")
    assert t.frame["cifar10/ori-test@final"].tolist() == pytest.approx([b.accuracy(i) for i in range(len(b))])


# ---- score files -------------------------------------------------------------------------------------------


def _base(nb):
    return load_spaces(ExploreConfig(stored_scores=False), ["nb201"])["nb201"]


def test_extra_score_file_columns_appear(nb, tmp_path):
    p = tmp_path / "nb201_cifar10_myproxy.csv"
    idx = [3, 6111, 7]
    pd.DataFrame({"index": idx, "arch": nb.frame.loc[idx, ARCH].tolist(), "synflow": [1.0, 2.0, float("-inf")],
                  "jacov": [4.0, 5.0, 6.0], "note": ["a", "b", "c"]}).to_csv(p, index=False)
    t = load_spaces(ExploreConfig(stored_scores=False, scores=(str(p),)), ["nb201"])["nb201"]
    assert t.roles["synflow"] == "proxy" and t.roles["jacov"] == "proxy" and "note" not in t.roles
    assert t.frame.at[6111, "synflow"] == 2.0 and np.isneginf(t.frame.at[7, "synflow"])
    assert t.frame["jacov"].notna().sum() == 3
    assert score_label(p, "nb201") == "myproxy"


@pytest.mark.parametrize("content, message", [
    (None, "score file not found"),
    (b"\xfd7zXZ\x00garbage", "not a readable CSV"),
    (b"arch,score\nx,1\n", "no index column"),
    (b"index,score\n99999,1\n", "index 99999 is not a cell of nb201"),
    (b"index,score\n1.5,1\n", "is not an integer"),
    (b"index,score\n1,1\n1,2\n", "index 1 appears twice"),
    (b"index,arch,score\n0,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,1\n", "row 0 has index 0 with arch"),
    (b"index,name\n0,x\n", "no numeric column"),
])
def test_bad_score_file_is_a_notice_not_a_crash(nb, tmp_path, content, message):
    p = tmp_path / ("bad.csv.xz" if content and content.startswith(b"\xfd7z") else "bad.csv")
    if content is not None:
        p.write_bytes(content)
    t = load_spaces(ExploreConfig(scores=(str(p),)), ["nb201"])["nb201"]
    assert any(message in e and str(p) in e for e in t.errors), t.errors
    assert CLEAN in t.roles and t.size == 15_625  # the rest still loads


def test_score_file_read_directly_raises(nb, tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("index,score\n-1,2\n")
    with pytest.raises(NwotError, match="index -1 is not a cell"):
        read_score_file(p, nb)


def test_hw_columns_come_from_the_embedded_table():
    t = load_spaces(ExploreConfig(stored_scores=False), ["nb201"])["nb201"]
    assert not t.errors
    # HW-NAS-Bench README's printed example for index 0 (MANIFEST §9)
    assert t.frame.at[0, "cifar10/edgegpu_latency"] == 5.807418537139893
    assert t.frame.at[0, "cifar10/raspi4_latency"] == 10.481976820010459
    assert int(t.frame["cifar10/edgetpu_latency"].isna().sum()) == 4_699  # not measured: no value, not -1
    assert t.roles["cifar10/edgegpu_energy"] == "cost"
    assert t.roles["cifar10/eyeriss_arithmetic_intensity"] == "metric"


@pytest.mark.real_data
def test_nb101_table(shared_data):
    t = load_spaces(ExploreConfig(), ["nb101"])["nb101"]
    assert t.size == 500 and t.cell_kind == "nb101"
    assert t.frame.at[0, "cifar10/x-valid@108"] == pytest.approx(92.578125)  # MANIFEST §3 sample
    assert t.frame.at[0, "synflow"] == pytest.approx(88.08, abs=0.01)
    assert "val_accuracy" not in t.roles  # the stored file repeats it: skipped as equal
    assert t.roles["naswot_stem16"] == "proxy"
    assert set(t.ops) == {"conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3"}


# ---- filters ------------------------------------------------------------------------------------------------


def test_filters_hand_counted(nb):
    count = lambda **kw: int(apply_filters(nb, Filters(**kw)).sum())  # noqa: E731
    assert count() == 15_625
    assert count(op_counts=(("none", 0, 0),)) == 4 ** 6
    assert count(edges=(("0-1", "none"),)) == 5 ** 5
    assert count(edges=(("0-1", "none"), ("2-3", "skip_connect"))) == 5 ** 4
    assert count(op_counts=(("nor_conv_3x3", 6, 6),)) == 1
    assert count(has_path=True) == 15_284
    m = apply_filters(nb, Filters(ranges=((ACC, 94.0, None),)))
    assert int(m.sum()) == int((nb.frame[ACC] >= 94.0).sum()) and m[6111]
    # a range keeps only cells with a value (an unbounded one: "has a value"); -inf is a value
    assert count(ranges=(("naswot_reference_seed0", None, None),)) == 5_870
    assert count(ranges=((CLEAN, -np.inf, None),)) == 15_625
    assert count(ranges=((CLEAN, -1e300, None),)) == 15_625 - 201
    use = op_usage(nb, apply_filters(nb, Filters(op_counts=(("none", 0, 0),))))
    assert use["none"] == 0 and use["skip_connect"] == 4 ** 6 - 3 ** 6


def test_filters_round_trip_and_bad_values(nb):
    f = Filters((("none", 0, 1),), (("0-1", "skip_connect"),), True, ((ACC, 90.0, None),))
    assert Filters.from_dict(f.to_dict()) == f
    with pytest.raises(NwotError, match="unknown op 'conv'"):
        apply_filters(nb, Filters(op_counts=(("conv", 0, 1),)))
    with pytest.raises(NwotError, match="unknown edge '0-9'"):
        apply_filters(nb, Filters(edges=(("0-9", "none"),)))
    with pytest.raises(NwotError, match="unknown column 'bogus'"):
        apply_filters(nb, Filters(ranges=(("bogus", 0, 1),)))
    with pytest.raises(NwotError, match="unknown filter field"):
        Filters.from_dict({"colour": 1})
    with pytest.raises(NwotError, match="must be a number"):
        Filters.from_dict({"ranges": [[ACC, "abc", None]]})


# ---- Pareto front ------------------------------------------------------------------------------------------


def _pareto_slow(a, c):
    n = len(a)
    return np.array([not np.isnan(a[i]) and not np.isnan(c[i]) and not any(
        a[j] >= a[i] and c[j] <= c[i] and (a[j] > a[i] or c[j] < c[i]) for j in range(n)) for i in range(n)])


def test_pareto_hand_example():
    a = [1, 2, 2, 3, 0, 3, float("nan")]
    c = [1, 2, 1, 5, 0, 5, 0]
    # (2,1) dominates (1,1) and (2,2); (0,0) is cheapest; the two (3,5) are duplicates: both on the front
    assert pareto_front(a, c).tolist() == [False, False, True, True, True, True, False]
    assert dominators(a, c, 0) == 1 and dominators(a, c, 1) == 1 and dominators(a, c, 2) == 0


def test_pareto_matches_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = int(rng.integers(1, 60))
        a = rng.integers(0, 6, n).astype(float)  # many ties
        c = rng.integers(0, 6, n).astype(float)
        assert pareto_front(a, c).tolist() == _pareto_slow(a, c).tolist()


def test_pareto_nb201_contains_best_cell(nb):
    a, c = nb.frame[ACC].to_numpy(), nb.frame["params"].to_numpy()
    front = pareto_front(a, c)
    assert front[6111] and int(front.sum()) == 17
    assert a[front].max() == a.max()  # the most accurate cell is always on the front
    with pytest.raises(NwotError, match="same length"):
        pareto_front([1, 2], [1])


# ---- rank correlations ------------------------------------------------------------------------------------


def test_tau_rho_equal_the_readme(nb):
    tau, rho, n = rank_correlation(nb.frame[CLEAN], nb.frame[ACC])
    assert (round(tau, 3), round(rho, 3), n) == (0.612, 0.797, 15_625)
    tau, rho, n = rank_correlation(nb.frame[CLEAN], nb.frame["cifar10-valid/ori-test@200"])
    assert (round(tau, 3), round(rho, 3)) == (0.595, 0.784)


def test_rank_correlation_neg_inf_lowest_and_nan_dropped():
    x = np.array([-np.inf, 1.0, 2.0, 3.0, np.nan, 5.0])
    y = np.array([0.0, 2.0, 1.0, 3.0, 9.0, 4.0])
    tau, rho, n = rank_correlation(x, y)
    xr = np.array([0.0, 1.0, 2.0, 3.0, 5.0])  # -inf ranked first, the NaN pair left out
    yr = np.array([0.0, 2.0, 1.0, 3.0, 4.0])
    assert n == 5 and tau == pytest.approx(stats.kendalltau(xr, yr).statistic)
    assert rho == pytest.approx(stats.spearmanr(xr, yr).statistic)
    assert np.isnan(rank_correlation([1, 1, 1], [1, 2, 3])[0])


def test_correlation_matrix_pairwise(nb):
    val, cnt = correlation_matrix(nb, [CLEAN, "naswot_reference_seed0", "params"])
    assert val[0, 0] == 1.0 and cnt[0, 1] == 5_870 and cnt[0, 2] == 15_625
    assert round(val[0, 1], 3) == 0.999  # README: clean vs reference tau 0.999
    assert val[0, 2] == pytest.approx(rank_correlation(nb.frame[CLEAN], nb.frame["params"])[0])
    with pytest.raises(NwotError, match="unknown correlation method"):
        correlation_matrix(nb, [CLEAN], method="pearson")


# ---- DAG SVGs ----------------------------------------------------------------------------------------------


def test_nb201_svg_edges_carry_the_ops(nb):
    arch = nb.frame.at[6111, ARCH]
    svg = dag.nb201_svg(arch)
    root = ET.fromstring(svg)
    ns = {"s": "http://www.w3.org/2000/svg"}
    edges = root.findall("s:g[@class='edge']", ns)
    assert [(e.get("data-edge"), e.get("data-op")) for e in edges] == [
        ("0-1", "nor_conv_3x3"), ("0-2", "nor_conv_3x3"), ("1-2", "nor_conv_3x3"), ("0-3", "skip_connect"),
        ("1-3", "nor_conv_3x3"), ("2-3", "nor_conv_1x1")]
    assert [e.find("s:text", ns).text for e in edges] == ["conv 3x3"] * 3 + ["skip", "conv 3x3", "conv 1x1"]
    assert len(root.findall("s:g[@class='node']", ns)) == 4
    assert "__" not in svg  # every token replaced
    none = ET.fromstring(dag.nb201_svg([0, 0, 0, 0, 0, 0]))  # op id 0 = none: dashed grey edges
    assert [g.find("s:path", ns).get("stroke-dasharray") for g in none.findall("s:g[@class='edge']", ns)] == ["4 3"] * 6


def test_nb201_template_is_what_the_export_fills(nb):
    arch = nb.frame.at[0, ARCH]
    ops = [nb.frame.at[0, EDGE_PREFIX + f"{j}-{k}"] for j, k in EDGES]
    assert dag.fill_nb201(dag.nb201_template(), ops, arch) == dag.nb201_svg(arch)
    with pytest.raises(NwotError):
        dag.nb201_svg("|bogus~0|")


@pytest.mark.real_data
def test_nb101_svg_matches_the_adjacency(shared_data):
    from nwot.spaces.nb101 import to_spec

    t = load_spaces(ExploreConfig(stored_scores=False), ["nb101"])["nb101"]
    spec = to_spec(t.frame.at[0, ARCH])
    root = ET.fromstring(dag.nb101_svg(spec))
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert [g.get("data-op") for g in root.findall("s:g[@class='node']", ns)] == list(spec.ops)
    arrows = [p for p in root.findall("s:path", ns) if p.get("marker-end")]
    assert len(arrows) == sum(map(sum, spec.matrix))


# ---- URL state -------------------------------------------------------------------------------------------


def test_url_unknown_column_falls_back_with_notice(spaces):
    view, notices = view_from_query(spaces, "?x=bogus&y=params&cell=6111&log=x&zoom=3")
    assert view.x == spaces["nb201"].defaults["x"] and view.y == "params" and view.cell == 6111 and view.log_x
    assert any("unknown column 'bogus'" in n for n in notices) and any("'zoom'" in n for n in notices)
    view, notices = view_from_query(spaces, "?space=nats-sss&cell=99999&log=q")
    assert view.space == "nb201" and view.cell is None and not view.log_x
    assert len(notices) == 3 and "no accuracy table" in notices[0]
    again, none = view_from_query(spaces, view_from_query(spaces, "?x=params&cell=5")[0].to_query())
    assert (again.x, again.cell, none) == ("params", 5, [])


# ---- replay -------------------------------------------------------------------------------------------------


def test_replay_trace_matches_the_search_driver(nb):
    from nwot.explore.replay import ReplaySpec, chosen_cells, run_replay
    from nwot.search.run import run_strategy

    trace, summary = run_replay(nb, ReplaySpec("rea", 12_000, "cifar10", 0))
    ref = run_strategy("rea", space="nb201", dataset="cifar10", budget_seconds=12_000, runs=1, seed=0)[0]
    assert len(trace) == len(ref.trace) and summary["evaluations"] == ref.n_evals
    assert summary["best_index"] == ref.final["index"]
    assert summary["best_accuracy"] == pytest.approx(ref.final["test_accuracy"])
    assert trace["best_accuracy"].iloc[-1] == pytest.approx(ref.final["test_accuracy"])
    assert (trace["time"].diff().dropna() > 0).all() and trace["time"].iloc[-1] <= 12_000
    assert trace["accuracy"].iloc[0] == pytest.approx(nb.frame.at[int(trace["index"].iloc[0]), ACC])
    cells, best = chosen_cells(trace, upto_step=4)
    assert len(cells) <= 5 and best == trace["best_index"].iloc[4]


def test_replay_on_stored_scores_charges_their_seconds(nb):
    from nwot.explore.replay import ReplaySpec, run_replay

    path = "benchmarks/results/nb201_cifar10_naswot_clean_seed0.csv.xz"
    trace, summary = run_replay(nb, ReplaySpec("naswot", 200.0, scores=path))
    stored = pd.read_csv(path).set_index("index")
    idx = trace["index"].astype(int)
    assert np.array_equal(trace["signal"].to_numpy(), stored.loc[idx, "score"].to_numpy())
    assert trace["cost"].to_numpy() == pytest.approx(stored.loc[idx, "seconds"].to_numpy())
    assert trace["time"].iloc[-1] <= 200.0 and summary["evaluations"] == len(trace)
    best = int(trace["best_index"].iloc[-1])
    assert stored.at[best, "score"] == trace["signal"].max()


def test_replay_bad_input(nb, spaces):
    from nwot.explore.replay import ReplaySpec, run_replay

    with pytest.raises(NwotError, match="unknown replay strategy 'magic'"):
        run_replay(nb, ReplaySpec("magic"))
    with pytest.raises(NwotError, match="budget must be in"):
        run_replay(nb, ReplaySpec("rea", -5))
    with pytest.raises(NwotError, match="reads stored NASWOT scores"):
        run_replay(nb, ReplaySpec("area", 100))
    with pytest.raises(NwotError, match="unknown replay dataset"):
        run_replay(nb, ReplaySpec("rea", 100, "mnist"))


# ---- server and CLI -------------------------------------------------------------------------------------------


def test_port_in_use_names_the_port(nb):
    from nwot.explore.app import create_app
    from nwot.explore.server import PortInUseError, bind

    app = create_app({"nb201": nb})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"port {port} on 127.0.0.1 is already in use"):
            bind(app, "127.0.0.1", port)


def test_non_loopback_needs_the_flag_and_warns(nb):
    from nwot.explore.app import create_app
    from nwot.explore.server import bind, check_host, is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("127.3.4.5") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    with pytest.raises(NwotError, match="--allow-remote"):
        check_host("0.0.0.0", allow_remote=False)
    said = []
    srv = bind(create_app({"nb201": nb}), "0.0.0.0", 0, allow_remote=True, warn=said.append)
    srv.server_close()
    assert len(said) == 1 and "no authentication" in said[0]


def test_cli_refuses_remote_host_without_flag(capsys):
    from nwot.cli import main

    assert main(["explore", "--host", "0.0.0.0", "--no-browser"]) == 2
    assert "--allow-remote" in capsys.readouterr().err


def test_export_file_is_self_contained(tmp_path, capsys):
    from nwot.cli import main

    out = tmp_path / "report.html"
    assert main(["explore", "--export", str(out), "--scores", str(tmp_path / "missing.csv")]) == 0
    err = capsys.readouterr().err
    assert "wrote" in err and "score file not found" in err  # the console says what the page says
    html = out.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=[\"']?(https?:)?//", html)
    assert "score file not found" in html
    assert main(["explore", "--export", str(tmp_path / "report.txt")]) == 2


def test_explorer_bundle_is_the_installed_plotly_js_version_and_its_recorded_bytes():
    import hashlib

    from plotly.offline import get_plotlyjs_version

    from nwot.explore import bundle

    meta = json.loads(bundle.META.read_text())
    assert meta["plotly.js"] == get_plotlyjs_version()
    data = bundle.BUNDLE.read_bytes()
    assert len(data) == meta["bytes"] and hashlib.sha256(data).hexdigest() == meta["sha256"]
    assert f'.version="{meta["plotly.js"]}"' in data.decode()  # plotly.js's own version string
    assert set(meta["traces"]) == {"scatter", "scattergl", "heatmap"}
    assert bundle.bundle_problem() is None
    src, notice = bundle.plotly_js()
    assert notice is None and src == data.decode()


def test_explorer_bundle_holds_every_trace_type_the_explorer_draws():
    from pathlib import Path

    import plotly.graph_objects as go

    from nwot.explore import bundle

    src = Path(bundle.__file__).parent
    used = {getattr(go, name)().type for f in src.glob("*.py")
            for name in re.findall(r"\bgo\.([A-Z][A-Za-z0-9]*)\(", f.read_text()) if name != "Figure"}
    used |= set(re.findall(r'type: *"([a-z0-9]+)"', (src / "static" / "export.js").read_text())) - {"number"}
    assert used == {"scatter", "scattergl", "heatmap"}
    assert used <= set(json.loads(bundle.META.read_text())["traces"])
    entry = (Path(__file__).resolve().parents[2] / "scripts" / "plotly_bundle" / "entry.js").read_text()
    assert set(re.findall(r"plotly\.js/lib/([a-z0-9]+)'", entry)) - {"core"} | {"scatter"} == used  # core holds scatter


def test_explorer_bundle_of_another_version_is_not_served(nb, monkeypatch, capsys):
    import plotly.offline

    from nwot.explore import bundle
    from nwot.explore.app import create_app
    from nwot.explore.export import render_html

    monkeypatch.setattr(plotly.offline, "get_plotlyjs_version", lambda: "9.9.9")
    assert "plotly.js 9.9.9" in bundle.bundle_problem()
    app = create_app({"nb201": nb})
    assert app.config.assets_ignore == bundle.IGNORE
    assert "using plotly's full plotly.js (slower first render)" in capsys.readouterr().err
    html = render_html(nb)
    assert "using plotly's full plotly.js" in capsys.readouterr().err
    assert bundle.BUNDLE.read_text()[:2000] not in html  # plotly's own bundle went in instead
    monkeypatch.undo()
    assert create_app({"nb201": nb}).config.assets_ignore == ""


def test_cli_busy_port_fails_before_loading(capsys):
    from nwot.cli import main

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        assert main(["explore", "--port", str(port), "--no-browser"]) == 2
    assert f"port {port} on 127.0.0.1 is already in use" in capsys.readouterr().err


# ---- NATS curves, notebook views ------------------------------------------------------------------------------


def test_nats_curves_of_a_staged_record(cut_data):  # the cut holds the 3 NATS records unchanged
    import nwot
    from nwot.explore.curves import curve_summary, nats_curves

    d = str(cut_data / "nats" / "NATS-tss-v1_0-3ffb9-simple")
    c = nats_curves(d, 11)
    assert list(c.columns) == ["dataset", "split", "epoch", "accuracy", "loss"] and c["epoch"].max() == 200
    final = {(ds, sp): v for ds, sp, v in curve_summary(c)}
    ref = nwot.get_benchmark("nats-tss", path=d).query(11, "cifar10", "200")
    assert final[("cifar10", "ori-test")] == pytest.approx(ref.accuracy("ori-test"))
    msg = nats_curves(d, 6111)
    assert isinstance(msg, str) and "006111" in msg and "3 of 15625 records" in msg


def test_notebook_views(nb):
    from nwot.explore.notebook import Explorer

    ex = Explorer("nb201", table=nb)
    html = ex.inspect(6111)._repr_html_()
    assert "<b>94.37</b>" in html and "<svg" in html and "6111" in html
    sub = ex.filter(op_counts={"none": (0, 0)}).filter(edges={"0-1": "nor_conv_3x3"})
    assert sub.count == 4 ** 5 and sub.counts()["nor_conv_3x3"] == 4 ** 5
    fig = sub.scatter()
    assert fig.layout.meta["n"] == 4 ** 5
    assert ex.pareto(selected=6111).layout.title.text.endswith("cell 6111 is on the front")
    with pytest.raises(NwotError, match="unknown column"):
        ex.scatter(x="bogus")
    with pytest.raises(NwotError, match="cannot be explored"):
        Explorer("nats-sss")
    bare = load_spaces(ExploreConfig(stored_scores=False), ["nb201"])["nb201"]
    msg = Explorer("nb201", table=bare).correlations().figure.layout.annotations[0].text
    assert "0 proxy column(s)" in msg


def test_inline_figures_need_no_network(nb):
    from nwot.explore.notebook import Explorer, InlineFigure

    ex = Explorer("nb201", table=nb)
    InlineFigure._plotlyjs_sent = False
    first = ex.scatter()._repr_mimebundle_()
    second = ex.pareto()._repr_mimebundle_()
    assert set(first) == {"application/vnd.plotly.v1+json", "text/html"}
    assert len(first["text/html"]) > 3_000_000 > len(second["text/html"])  # plotly.js inline, once
    for html in (first["text/html"], second["text/html"]):
        assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=[\"']?(https?:)?//", html)
    assert "cdnjs" not in second["text/html"]  # plotly's own notebook renderer loads MathJax from cdnjs
    assert first["application/vnd.plotly.v1+json"]["layout"]["meta"]["n"] == 15_625
