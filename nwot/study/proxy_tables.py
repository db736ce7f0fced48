"""Markdown, CSV, JSON and the figure of the proxy study (:func:`nwot.study.proxy_report.run_study`)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Mapping

import pandas as pd

from nwot.study.proxy_report import NO_CAP


def _ci(d: Mapping, key: str, lo: str, hi: str) -> str:
    return f"{d[key]:+.3f} [{d[lo]:+.3f}, {d[hi]:+.3f}]"


def correlations_markdown(res: Mapping) -> str:
    """The per-proxy table of every pool (CIFAR-10), then the other datasets and the seed stability."""
    prov = res["provenance"]
    out = ["# Zero-cost proxies on NAS-Bench-201: correlations with trained accuracy", "",
           "Ground truth: `cifar10/ori-test@200` (NB201 200-epoch test accuracy, NATS-Bench mean over seeds). "
           "Proxies scored on CIFAR-10 training images (`nwot.scoring_batch(cifar10, 128, seed)` + labels; each "
           "proxy takes its paper's part of it), NB201 TinyNetwork C=16 N=5, CPU, float32 unless the config says "
           "float64. Signed τ / ρ: the value is oriented by the proxy's declared direction and the sign is kept. "
           "Brackets: percentile bootstrap 95 % interval over the cells (seeded). NaN = a failed cell (status "
           "stored, dropped, counted); -inf ranks last. Top-k: overlap of the score's and the accuracy's top 1 / 5 / "
           "10 %. nDCG@k: min-max accuracy gain.", "",
           f"Command: `{prov['command']}`; commit {prov['git'].get('commit')} (dirty: {prov['git'].get('dirty')}); "
           f"{prov['machine'].get('cpu_model')}, {prov['machine'].get('cpu_count')} cores; {prov['date']}.", ""]
    for name, p in res["pools"].items():
        rows = [r for r in res["correlations"] if r["pool"] == name]
        out += [f"## Pool `{name}`: {p['cell_set']}", "",
                "| proxy | dir | n | NaN | -inf | Kendall τ [95 %] | Spearman ρ [95 %] | top1% | top5% | top10% | "
                "nDCG@10 | nDCG@100 | batch | mode | dtype | input | seeds |",
                "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            out.append(f"| {r['column']} | {r['direction']} | {r['n']} | {r['n_nan']} | {r['n_neg_inf']} | "
                       f"{_ci(r, 'kendall_tau', 'kendall_lo', 'kendall_hi')} | "
                       f"{_ci(r, 'spearman_rho', 'spearman_lo', 'spearman_hi')} | {r['top1%']:.2f} | "
                       f"{r['top5%']:.2f} | "
                       f"{r['top10%']:.2f} | {r.get('ndcg@10', float('nan')):.3f} | "
                       f"{r.get('ndcg@100', float('nan')):.3f} | {r['protocol.batch']} | {r['protocol.mode']} | "
                       f"{r['protocol.dtype']} | {r['protocol.input']} | {r['protocol.batch_seed']}/"
                       f"{r['protocol.init_seed']} |")
        out.append("")
    if res["other_datasets"]:
        out += ["## Other datasets' accuracies (proxies still on the CIFAR-10 batch: a transfer check)", "",
                "| pool | proxy | accuracy | n | Kendall τ [95 %] | Spearman ρ [95 %] |", "|---|---|---|---|---|---|"]
        for r in res["other_datasets"]:
            out.append(f"| {r['pool']} | {r['column']} | {r['protocol.accuracy']} | {r['n']} | "
                       f"{_ci(r, 'kendall_tau', 'kendall_lo', 'kendall_hi')} | "
                       f"{_ci(r, 'spearman_rho', 'spearman_lo', 'spearman_hi')} |")
        out.append("")
    st = res["stability"]
    if st["spearman"]:
        out += [f"## Seed stability ({st['rule']}; Spearman ρ)", "",
                "| proxy | ρ | cells |", "|---|---|---|"] + [
            f"| {k} | {v:.3f} | {st['cells'][k]} |" for k, v in sorted(st["spearman"].items(), key=lambda kv: -kv[1])]
        out.append("")
    out += ["The proxy-proxy Spearman matrices are in `proxies_correlations.json` (`matrices`).", ""]
    return "\n".join(out)


def goals_markdown(res: Mapping) -> List[str]:
    """Issue #16's goals next to what was measured (best row per pool; the pool's cell count says what it covers)."""
    out = ["## Issue #16's goals vs measured", "",
           "| goal | pool (cells) | best measured | met? |", "|---|---|---|---|"]
    for name, p in res["pools"].items():
        ens = [r for r in res["ensembles"] if r["pool"] == name]
        single = [r for r in res["correlations"] if r["pool"] == name and r["kendall_tau"] == r["kendall_tau"]]
        if ens:
            pre = [r for r in ens if r["rule"] == "mean_rank" and r["subset"] == "label-free <=3"] or \
                [r for r in ens if r["rule"] == "mean_rank" and r["subset"].startswith("all ")]
            e, b = pre[0], max(ens, key=lambda r: r["kendall_tau"])
            met = e["kendall_tau"] >= 0.76 and e["spearman_rho"] >= 0.93
            nc = [r for r in ens if r["rule"] == "log_rank_product" and r["subset"] == NO_CAP]
            late = ""
            if nc:
                late = (f" Rule added later (after these rows were seen; subset from proxy values alone): "
                        f"log-rank product, {NO_CAP} ({', '.join(nc[0]['columns'])}): τ "
                        f"{_ci(nc[0], 'kendall_tau', 'kendall_lo', 'kendall_hi')}, ρ "
                        f"{_ci(nc[0], 'spearman_rho', 'spearman_lo', 'spearman_hi')}.")
            late_met = bool(nc) and nc[0]["kendall_tau"] >= 0.76 and nc[0]["spearman_rho"] >= 0.93
            verdict = ("yes, on this pool only" if met else
                       "by the later rule only, on this pool only" if late_met else "no")
            out.append(f"| label-free τ ≥ 0.76 and ρ ≥ 0.93 (all 15,625 cells) | {name} ({p['cells']}) | "
                       f"pre-declared (mean rank, {e['subset']}: {', '.join(e['columns'])}): τ "
                       f"{_ci(e, 'kendall_tau', 'kendall_lo', 'kendall_hi')}, ρ {e['spearman_rho']:+.3f}. Best of "
                       f"the {len(ens)} rows (picked by τ, so post hoc): {b['rule']}, {b['subset']}: τ "
                       f"{b['kendall_tau']:+.3f}, ρ {b['spearman_rho']:+.3f}.{late} Best single proxy: "
                       f"{single[0]['column']} τ {single[0]['kendall_tau']:+.3f}, ρ {single[0]['spearman_rho']:+.3f} | "
                       f"{verdict} |")
        fs = [r for r in res["fewshot"] if r["pool"] == name and r["k"] == 100]
        if fs:
            f = max(fs, key=lambda r: r["kendall_mean"])
            out.append(f"| few-shot τ ≥ 0.82 at k = 100 (held-out cells) | {name} ({p['cells']}) | best of "
                       f"{len(fs)} feature sets: {f['variant']}: "
                       f"τ {f['kendall_mean']:.3f} ± {f['kendall_std']:.3f} on {f['evaluated']} held-out cells, "
                       f"{f['draws']} draws | {'yes, on this pool only' if f['kendall_mean'] >= 0.82 else 'no'} |")
        for r in res["search"]:
            if r["pool"] == name and r["n"] == 1000:
                how = "pre-declared" if r.get("pre_declared", True) else "later rule"
                out.append(f"| search: test mean ≥ 93.9 at N = 1000 | {name} ({p['cells']}) | {how}, "
                           f"{r['ensemble'].split(':')[0]}: "
                           f"{r['ensemble_mean']:.2f} ± {r['ensemble_std']:.2f} (NASWOT {r['single_mean']:.2f}, oracle "
                           f"{r['oracle_mean']:.2f}) | {'yes' if r['ensemble_mean'] >= 93.9 else 'no'} |")
    return out + [""]


def ensembles_markdown(res: Mapping) -> str:
    prov = res["provenance"]
    out = ["# Zero-cost proxy ensembles on NAS-Bench-201 CIFAR-10", "",
           f"Command: `{prov['command']}`; commit {prov['git'].get('commit')}; {prov['date']}. Pools and their cell "
           f"counts: " + "; ".join(f"`{k}` {v['cells']}" for k, v in res["pools"].items()) + ".", "",
           *goals_markdown(res),
           "## Label-free ensembles (no accuracy seen)", "",
           "Ranks normalised per proxy (`rank / n`), aggregated by mean rank (Borda), log-rank product (AZ-NAS "
           "Eq. 10) or pairwise majority vote (Copeland). Subsets: every column, or chosen without labels by seed "
           "stability (ρ ≥ 0.9 between seeds 0/1 where measured) then greedily by consensus (mean proxy-proxy ρ), "
           "skipping near-copies (ρ > 0.95 with a chosen one), at most 3 or 5 of them; `label-free, no cap`: the same "
           "rule without the size limit (every seed-stable proxy but near-copies), a rule added on 2026-12-01 after "
           "the other rows had been seen; the papers' own recipes (AZ-NAS, VKDNW_agg) as fixed by their authors.", "",
           "| pool | rule | subset | columns | n | Kendall τ [95 %] | Spearman ρ [95 %] | top5% | nDCG@100 |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in res["ensembles"]:
        out.append(f"| {r['pool']} | {r['rule']} | {r['subset']} | {', '.join(r['columns'])} | {r['n']} | "
                   f"{_ci(r, 'kendall_tau', 'kendall_lo', 'kendall_hi')} | "
                   f"{_ci(r, 'spearman_rho', 'spearman_lo', 'spearman_hi')} | {r['top5%']:.2f} | "
                   f"{r.get('ndcg@100', float('nan')):.3f} |")
    out += ["", "## Few-shot (NOT training-free: LightGBM trained on k labelled cells)", "",
            "Evaluated only on the pool's other cells; mean ± std over seeded draws of the training cells.", "",
            "| pool | features | k | evaluated | draws | Kendall τ | Spearman ρ |", "|---|---|---|---|---|---|---|"]
    for r in res["fewshot"]:
        out.append(f"| {r['pool']} | {r['variant']} | {r['k']} | {r['evaluated']} | {r['draws']} | "
                   f"{r['kendall_mean']:.3f} ± {r['kendall_std']:.3f} | {r['spearman_mean']:.3f} ± "
                   f"{r['spearman_std']:.3f} |")
    out += ["", "## Search with the ensemble (best-of-N from stored scores)", "",
            "Per run, N cells drawn uniformly with replacement from the pool; the ensemble (label-free subset of <= 3, "
            "mean rank computed within the N drawn cells, fixed before any result was seen; and, where the pool has "
            "it, the later `label-free, no cap` subset by log-rank product) picks one; NASWOT alone, "
            "the oracle and a random cell on the same draws. CIFAR-10 test accuracy (%) of the pick, mean ± std.", "",
            "| pool | N | runs | ensemble | ensemble pick | NASWOT pick | oracle | random |",
            "|---|---|---|---|---|---|---|---|"]
    for r in res["search"]:
        out.append(f"| {r['pool']} ({r['pool_cells']} cells) | {r['n']} | {r['runs']} | "
                   f"{r['ensemble']} | {r['ensemble_mean']:.2f} ± {r['ensemble_std']:.2f} | "
                   f"{r['single_mean']:.2f} ± {r['single_std']:.2f} | {r['oracle_mean']:.2f} ± {r['oracle_std']:.2f} | "
                   f"{r['random_mean']:.2f} ± {r['random_std']:.2f} |")
    out.append("")
    return "\n".join(out)


def plot(res: Mapping, path: Path) -> Path:
    """Kendall τ with its interval per proxy and ensemble (largest pool each), and the search means."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(20, 6.5), gridspec_kw={"width_ratios": [2, 1, 1.6]})
    ax = axes[0]
    rows = [r for r in res["correlations"] if r["pool"] == "naslib725"] or res["correlations"]
    ens = [r for r in res["ensembles"] if r["pool"] == (rows[0]["pool"] if rows else None)][:4]
    items = [(r["column"], r, "C0") for r in rows] + [(r["column"], r, "C3") for r in ens]
    for i, (_, r, col) in enumerate(items):
        err = [[r["kendall_tau"] - r["kendall_lo"]], [r["kendall_hi"] - r["kendall_tau"]]]
        ax.errorbar(r["kendall_tau"], i, xerr=err, fmt="o", color=col)
    ax.set_yticks(range(len(items)), [lab for lab, _, _ in items], fontsize=7)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlabel("Kendall τ vs CIFAR-10 test accuracy (bootstrap 95 %)")
    ax.set_title(f"pool {rows[0]['pool'] if rows else '?'} (blue: proxies, red: label-free ensembles)", fontsize=9)
    ax = axes[1]
    srch = res["search"]
    lab = [f"{r['pool']}\nN={r['n']}" for r in srch]
    x = range(len(srch))
    for key, col, name in (("ensemble_mean", "C3", "ensemble"), ("single_mean", "C0", "NASWOT"),
                           ("oracle_mean", "k", "oracle"), ("random_mean", "grey", "random")):
        ax.plot(list(x), [r[key] for r in srch], "o", color=col, label=name)
    ax.set_xticks(list(x), lab, fontsize=8)
    ax.set_ylabel("CIFAR-10 test accuracy of the pick (%)")
    ax.legend(fontsize=8)
    ax.set_title("best-of-N search replays (500 runs)", fontsize=9)
    ax = axes[2]
    name = max(res["matrices"], key=lambda k: len(res["matrices"][k]["columns"]))
    mat = res["matrices"][name]
    im = ax.imshow(mat["spearman"], vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(len(mat["columns"])), mat["columns"], rotation=90, fontsize=6)
    ax.set_yticks(range(len(mat["columns"])), mat["columns"], fontsize=6)
    ax.set_title(f"proxy-proxy Spearman ρ, pool {name} ({res['pools'][name]['cells']} cells)", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_outputs(res: Mapping, prefix: Path) -> List[Path]:
    """``<prefix>_correlations.{md,json,csv}``, ``<prefix>_ensembles.{md,json}``, ``<prefix>_study.png``."""
    prefix = Path(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    base = str(prefix)
    paths = []
    corr = {k: res[k] for k in ("pools", "correlations", "other_datasets", "matrices", "stability", "provenance")}
    ens = {k: res[k] for k in ("pools", "ensembles", "fewshot", "search", "provenance")}
    for suffix, text in (("_correlations.md", correlations_markdown(res)), ("_ensembles.md", ensembles_markdown(res)),
                         ("_correlations.json", json.dumps(corr, indent=1, default=str)),
                         ("_ensembles.json", json.dumps(ens, indent=1, default=str))):
        p = Path(base + suffix)
        p.write_text(text + "\n")
        paths.append(p)
    p = Path(base + "_correlations.csv")
    pd.DataFrame(res["correlations"] + res["other_datasets"]).to_csv(p, index=False, float_format="%.5g")
    paths.append(p)
    paths.append(plot(res, Path(base + "_study.png")))
    return paths
