"""Rank correlation of each proxy with NB201 CIFAR-10 test accuracy, beside the number its paper reports.

For every proxy configuration stored (``benchmarks/score_proxies_nb201.py``, batch seed 0, init seed 0)
on the cells of ``--cells`` (default ``sample3000``: ``random.Random(0).sample(range(15625), 3000)``)
that are scored so far, Kendall τ-b and Spearman ρ against ``cifar10/ori-test@200`` (NB201 v1_1,
200 epochs, trained on the 50k training images, mean over seeds: ``nwot.load_nb201_table()``), with a
95 % bootstrap interval (``--boot`` resamples of the cells, ``numpy.random.default_rng(0)``). A failed
value (NaN: no path, singular...) and ``-inf`` rank below every finite value, oriented by the proxy's
declared direction (``nwot.proxies.population.oriented_ranks``): what a search that maximises the
proxy does with them. The population scores (AZ-NAS, TE-NAS, VKDNW, VKDNW_agg) are formed over the
cells that have all their components.

Beside each row, τ / ρ on its **isomorphism-unique** cells (the smallest index of each
``nwot.spaces.nb201.codec.unique_str`` class among the row's cells; NATS-Bench's 6,466 classes; a
population score formed again over those cells alone): NB201 lists most function graphs several times,
and a protocol that scores each class once counts the duplicates' ties and near-ties differently. On
the whole table (exact, no store needed) FLOPs gives τ 0.578 on all 15,625 cells and 0.609 on the
6,466 classes against the published 0.623: the script prints both.

Published numbers (NB201 CIFAR-10 test accuracy, all 15,625 cells, one protocol) are those of VKDNW
(Tybl & Neumann, CVPR 2025, Table 1) as quoted in issue 16; MeCo and SWAP report Spearman ρ against
other accuracy columns in their own papers and are listed without a published τ here.

    python benchmarks/proxies_published_tau.py   # -> benchmarks/results/proxies_published_tau.{json,md}
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

from nwot.study.provenance import command_line, git_state, machine  # noqa: E402

DEFAULT_STORE = REPO / "benchmarks" / "results" / "work" / "nb201_proxies.sqlite"
OUT = REPO / "benchmarks" / "results" / "proxies_published_tau"
#: (Kendall τ, Spearman ρ) on NB201 CIFAR-10 test accuracy, VKDNW CVPR 2025 Table 1 (issue 16).
PUBLISHED = {"vkdnw_agg": (0.750, 0.919), "az_nas": (0.712, 0.892), "flops": (0.623, 0.799),
             "zico": (0.607, 0.802), "naswot": (0.571, 0.762), "synflow": (0.561, 0.758), "te_nas": (0.536, 0.722)}
ACCURACY = "cifar10/ori-test@200"


def correlations(x, y, boot: int, rng):
    """τ, ρ on ranks and their bootstrap 2.5 / 97.5 percentiles."""
    import numpy as np
    from scipy import stats

    t = float(stats.kendalltau(x, y).statistic)
    r = float(stats.spearmanr(x, y).statistic)
    taus, rhos = [], []
    for _ in range(boot):
        i = rng.integers(0, len(x), len(x))
        taus.append(stats.kendalltau(x[i], y[i]).statistic)
        rhos.append(stats.spearmanr(x[i], y[i]).statistic)
    q = lambda v: [float(np.nanpercentile(v, 2.5)), float(np.nanpercentile(v, 97.5))] if boot else None  # noqa: E731
    return {"kendall_tau": t, "spearman_rho": r, "tau_95": q(taus), "rho_95": q(rhos)}


def table_flops_protocols(table, classes) -> dict:
    """FLOPs vs accuracy on all cells and on the smallest index of each isomorphism class: (τ, ρ) each."""
    from scipy import stats

    first = ~classes.duplicated().to_numpy()  # the table is in index order: the first is the smallest index
    out = {}
    for name, keep in (("all", slice(None)), ("unique", first)):
        f, a = table["flops"].to_numpy()[keep], table[ACCURACY].to_numpy()[keep]
        out[name] = (float(stats.kendalltau(f, a).statistic), float(stats.spearmanr(f, a).statistic))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", default=str(DEFAULT_STORE))
    ap.add_argument("--cells", default="sample3000")
    ap.add_argument("--boot", type=int, default=200)
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--replace", action="store_true",
                    help="write only this run's rows; by default a row of the existing --out JSON that covers "
                         "more cells than this run's row of the same proxy and mode is kept (the store is a cache "
                         "a new checkout lacks), with the date and commit it was computed at")
    args = ap.parse_args(argv)

    import numpy as np

    import nwot
    from nwot.proxies import get_proxy, list_proxies
    from nwot.proxies.population import aggregate_by_name, oriented_ranks
    from nwot.scores.proxy_store import proxy_key
    from nwot.scores.store import ScoreStore
    from nwot.spaces.nb201.codec import unique_str

    sys.path.insert(0, str(REPO / "benchmarks"))
    from score_proxies_nb201 import cell_indices

    cells = cell_indices(args.cells)
    cellset = set(cells)
    table = nwot.load_nb201_table()
    acc = table[ACCURACY]
    store = ScoreStore(args.store)
    rng = np.random.default_rng(0)
    cols = {}  # (name, mode) -> {index: value}
    for name in list_proxies():
        for mode in ("clean", "reference"):
            p = get_proxy(name)
            if p.resolve_mode(mode) != mode:
                continue
            df = store.to_frame(proxy_key("nb201", "cifar10", 0, 0, p, mode))
            vals = {int(i): float(v) for i, v in zip(df["arch_index"], df["value"].astype(float)) if int(i) in cellset}
            if vals:
                cols[(name, mode)] = vals
    store.close()
    rows = []

    classes = table["arch"].map(unique_str)

    def unique_positions(idx):
        """Positions in ``idx`` (sorted) of the smallest index of each isomorphism class."""
        seen, keep = set(), []
        for k, i in enumerate(idx):
            if classes.iloc[i] not in seen:
                seen.add(classes.iloc[i])
                keep.append(k)
        return np.array(keep, dtype=int)

    def add(label, mode, idx, score_of, extra=None):
        """``score_of(cells)``: the oriented score of those cells (a population score is formed over them)."""
        y = acc.loc[idx].to_numpy()
        c = correlations(np.asarray(score_of(idx), dtype=float), y, args.boot, rng)
        u = unique_positions(idx)
        cu = correlations(np.asarray(score_of([idx[k] for k in u]), dtype=float), y[u], 0, rng)
        row = {"proxy": label, "mode": mode, "cells": len(idx), "failed": extra or 0, **c,
               "unique_cells": len(u), "unique_tau": cu["kendall_tau"], "unique_rho": cu["spearman_rho"]}
        if label in PUBLISHED:
            pt, pr = PUBLISHED[label]
            row.update({"published_tau": pt, "published_rho": pr, "tau_minus_published": c["kendall_tau"] - pt,
                        "within_0.03": abs(c["kendall_tau"] - pt) <= 0.03})
        rows.append(row)

    for (name, mode), vals in sorted(cols.items()):
        idx = sorted(vals)
        v = np.array([vals[i] for i in idx])
        higher = get_proxy(name).direction.value == "higher"
        add(name, mode, idx, lambda cs, vals=vals, higher=higher: oriented_ranks([vals[i] for i in cs], higher),
            int((~np.isfinite(v)).sum()))
    # population scores over the cells with every component (each component in the mode named)
    for agg, mode, needs in [
        ("az_nas", "reference", ["az_nas_expressivity", "az_nas_progressivity", "az_nas_trainability",
                                 "az_nas_complexity"]),
        ("az_nas", "clean", ["az_nas_expressivity", "az_nas_progressivity", "az_nas_trainability",
                             "az_nas_complexity"]),
        ("te_nas", "clean", ["te_nas_ntk", "te_nas_lr"]),
        ("vkdnw_single", "reference", ["vkdnw_dim", "vkdnw"]), ("vkdnw_single", "clean", ["vkdnw_dim", "vkdnw"]),
        ("vkdnw_agg", "reference", ["vkdnw_dim", "vkdnw", "jacov", "az_nas_expressivity", "az_nas_trainability",
                                    "flops"]),
        ("vkdnw_agg", "clean", ["vkdnw_dim", "vkdnw", "jacov", "az_nas_expressivity", "az_nas_trainability",
                                "flops"])]:
        got = {}
        for n in needs:
            key = (n, mode) if (n, mode) in cols else (n, "clean")
            if key not in cols:
                break
            got[n] = cols[key]
        else:
            idx = sorted(set.intersection(*(set(g) for g in got.values())))
            if len(idx) >= 10:
                add(agg, mode, idx, lambda cs, agg=agg, got=got, needs=needs: aggregate_by_name(
                    agg, {n: [got[n][i] for i in cs] for n in needs}))
    from nwot.study.provenance import git_label

    label = git_label()
    stamp = f"{datetime.date.today().isoformat()} {label[:10]}{'+dirty' if label.endswith('+dirty') else ''}"
    for r in rows:
        r["computed"] = stamp
    out = Path(args.out)
    old_json = Path(str(out) + ".json")
    if not args.replace and old_json.is_file():
        mine = {(r["proxy"], r["mode"]): r for r in rows}
        old = json.loads(old_json.read_text())
        old_stamp = f"{old.get('date', '?')[:10]} {((old.get('git') or {}).get('commit') or '?')[:10]}"
        for r in old.get("rows", []):
            r.setdefault("computed", old_stamp)
            new_row = mine.get((r["proxy"], r["mode"]))
            if new_row is None or new_row["cells"] < r["cells"]:
                mine[(r["proxy"], r["mode"])] = r  # the earlier run covered more cells: keep it
        rows = list(mine.values())
    whole = table_flops_protocols(table, classes)
    prov = {"flops_whole_table": whole, "command": command_line(__file__, argv), "git": git_state(),
            "machine": machine(),
            "date": datetime.datetime.now().isoformat(timespec="seconds"), "cells_spec": args.cells,
            "cells_in_set": len(cells), "accuracy": ACCURACY, "bootstrap": args.boot,
            "protocol": "NB201 TinyNetwork C=16 N=5 10 classes under nwot.torch_seed(0); CIFAR-10 training images "
                        "(embedded sample, nwot.scoring_batch seed 0, 128 images, each proxy its paper's part); "
                        "each proxy's batch size / input / init in its config id; failures rank last",
            "published_source": "VKDNW (Tybl & Neumann, CVPR 2025) Table 1 as quoted in issue 16: all 15,625 cells"}
    out.parent.mkdir(parents=True, exist_ok=True)
    Path(str(out) + ".json").write_text(json.dumps({"rows": rows, **prov}, indent=2) + "\n")
    lines = [f"# Proxies vs NB201 CIFAR-10 test accuracy ({ACCURACY})", "",
             f"Cells: the stored part of `{args.cells}` ({len(cells)} cells; `sampleN` = random.Random(0).sample("
             f"range(15625), N), scored in that order, so a partial run is itself a uniform sample; the count per "
             f"row is what was scored when this ran). {prov['protocol']}. 95 % intervals: {args.boot} bootstrap "
             f"resamples. Published: {prov['published_source']}. A row's *computed* is the day and commit of the "
             f"run that computed it: without --replace, a row of an earlier run on more cells is kept.", "",
             "| proxy | mode | cells | failed | Kendall τ [95 %] | Spearman ρ [95 %] | published τ / ρ "
             "| τ − published | unique cells: τ / ρ | computed |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: -r["kendall_tau"]):
        ti = "" if not r["tau_95"] else f" [{r['tau_95'][0]:.3f}, {r['tau_95'][1]:.3f}]"
        ri = "" if not r["rho_95"] else f" [{r['rho_95'][0]:.3f}, {r['rho_95'][1]:.3f}]"
        pub = f"{r['published_tau']:.3f} / {r['published_rho']:.3f}" if "published_tau" in r else ""
        diff = (f"{r['tau_minus_published']:+.3f}{'' if r['within_0.03'] else ' (outside ±0.03)'}"
                if "published_tau" in r else "")
        uq = ""
        if "unique_tau" in r:
            uq = f"{r['unique_cells']}: {r['unique_tau']:.3f} / {r['unique_rho']:.3f}"
            if "published_tau" in r:
                uq += f" ({r['unique_tau'] - r['published_tau']:+.3f})"
        lines.append(f"| {r['proxy']} | {r['mode']} | {r['cells']} | {r['failed']} | {r['kendall_tau']:.3f}{ti} | "
                     f"{r['spearman_rho']:.3f}{ri} | {pub} | {diff} | {uq} | {r['computed']} |")

    lines += ["", "FLOPs on the whole table (exact, `flops` column of `nwot.load_nb201_table()`; published 0.623 / "
              f"0.799): all 15,625 cells τ {whole['all'][0]:.3f} / ρ {whole['all'][1]:.3f}; the 6,466 "
              f"isomorphism-unique cells τ {whole['unique'][0]:.3f} / ρ {whole['unique'][1]:.3f}.",
              "", f"Command: `{prov['command']}`; git {git_label()}; CPU {prov['machine']['cpu_model']}."]
    Path(str(out) + ".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
