"""benchmarks/proxies_published_tau.py: tau of a stored proxy against the table's accuracies, computed by hand
with scipy on the same cells, and the merge rule (a row of an earlier run on more cells is kept, stamped)."""
import json
import sys
from pathlib import Path

from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import proxies_published_tau  # noqa: E402
from score_proxies_nb201 import cell_indices  # noqa: E402

import nwot  # noqa: E402
from nwot.adapters.embedded import nb201_arch_strings  # noqa: E402
from nwot.proxies import get_proxy  # noqa: E402
from nwot.scores.proxy_store import proxy_key  # noqa: E402
from nwot.scores.store import ScoreRow, ScoreStore  # noqa: E402


def test_flops_tau_and_the_merge_with_an_earlier_run(tmp_path):
    cells = cell_indices("sample3000")[:40]
    table = nwot.load_nb201_table()
    archs = nb201_arch_strings()
    store = ScoreStore(tmp_path / "s.sqlite")
    store.put(proxy_key("nb201", "cifar10", 0, 0, get_proxy("flops"), "clean"),
              [ScoreRow(archs[i], float(table.loc[i, "flops"]), 0.0, i) for i in cells])
    store.close()
    out = tmp_path / "tau"
    earlier = {"date": "2026-11-30T10:00:00", "git": {"commit": "abcdef0123456789"},
               "rows": [{"proxy": "zico", "mode": "clean", "cells": 3000, "failed": 67, "kendall_tau": 0.595,
                         "spearman_rho": 0.791, "tau_95": None, "rho_95": None},
                        {"proxy": "flops", "mode": "clean", "cells": 10, "failed": 0, "kendall_tau": 0.1,
                         "spearman_rho": 0.1, "tau_95": None, "rho_95": None}]}
    Path(str(out) + ".json").write_text(json.dumps(earlier))
    args = ["--store", str(tmp_path / "s.sqlite"), "--boot", "0", "--out", str(out)]
    assert proxies_published_tau.main(args) == 0
    rows = {(r["proxy"], r["mode"]): r for r in json.loads(Path(str(out) + ".json").read_text())["rows"]}
    acc = table.loc[sorted(cells), proxies_published_tau.ACCURACY].to_numpy()
    flops = table.loc[sorted(cells), "flops"].to_numpy()
    assert rows[("flops", "clean")]["cells"] == 40  # this run's 40 cells replace the earlier 10
    assert rows[("flops", "clean")]["kendall_tau"] == stats.kendalltau(stats.rankdata(flops), acc).statistic
    # isomorphism-unique cells: the smallest index of each unique_str class among the 40, computed by hand
    from nwot.spaces.nb201.codec import unique_str

    first = {}
    for i in sorted(cells):
        first.setdefault(unique_str(archs[i]), i)
    uniq = sorted(first.values())
    assert len(uniq) < 40  # the sample holds isomorphic duplicates
    row = rows[("flops", "clean")]
    assert row["unique_cells"] == len(uniq)
    assert row["unique_tau"] == stats.kendalltau(table.loc[uniq, "flops"].to_numpy(),
                                                 table.loc[uniq, proxies_published_tau.ACCURACY].to_numpy()).statistic
    whole = json.loads(Path(str(out) + ".json").read_text())["flops_whole_table"]
    assert round(whole["all"][0], 3) == 0.578 and round(whole["unique"][0], 3) == 0.609  # module docstring
    assert rows[("zico", "clean")]["cells"] == 3000  # not scored in this store: the earlier row is kept ...
    assert rows[("zico", "clean")]["computed"] == "2026-11-30 abcdef0123"  # ... with its own date and commit
    text = Path(str(out) + ".md").read_text()
    assert "| zico | clean | 3000 | 67 | 0.595 |" in text and "| computed |" in text
    assert proxies_published_tau.main(args + ["--replace"]) == 0
    rows = {(r["proxy"], r["mode"]) for r in json.loads(Path(str(out) + ".json").read_text())["rows"]}
    assert rows == {("flops", "clean")}  # --replace: only this run's rows
