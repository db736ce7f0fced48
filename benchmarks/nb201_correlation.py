"""NASWOT on NAS-Bench-201: rank correlation with trained accuracy, agreement with NASLib, sensitivity.

Mellor et al., ICML 2021, arXiv:2006.04647, §4 / Fig. 3 (τ = 0.574 on NB201 CIFAR-10) and §5 ablations.
Reads whatever scores are stored (``benchmarks/score_nb201.py``) and says how many cells each number uses:

* Kendall τ / Spearman ρ / top-k overlap of the score against 200-epoch test accuracy, over all scored
  cells, the cells with an input->output path, and one cell per isomorphism class; against both CIFAR-10
  accuracies of the embedded table (``cifar10/ori-test@200``: trained on 50k, NB201's reporting number;
  ``cifar10-valid/ori-test@200``: trained on 25k, what the paper's released code correlates with), for
  the clean and the reference scorer, beside the paper; τ between the two modes on their common cells.
* Agreement with NASLib's independent NASWOT (``nwot``) on its 725 cells (shared data MANIFEST §1.8).
* Sensitivity on 500 seeded random cells: mean pairwise τ over 5 batches and over 5 init seeds; ρ with
  accuracy for batch sizes 32, 64, 128, 256.

Sources: ``--source store`` (default; the SQLite score store) or ``--source exports`` (the committed
``benchmarks/results/nb201_cifar10_naswot_*.csv.xz`` files). Writes ``nb201_correlation.json`` and
``nb201_correlation.md`` to ``--out``. CIFAR-100 / ImageNet16-120 need their images (``--data-dir``);
without them the script stops with the loader's message saying where to get them.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import nwot.study.reproduction as study  # noqa: E402
from nwot.study.provenance import command_line  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
DEFAULT_STORE = RESULTS / "work" / "nb201_scores.sqlite"
#: Test accuracy columns of the embedded table per dataset (200 epochs, seed mean).
ACCURACY = {"cifar10": ("cifar10/ori-test@200", "cifar10-valid/ori-test@200"),
            "cifar100": ("cifar100/x-test@200",), "ImageNet16-120": ("ImageNet16-120/x-test@200",)}
SENS_BATCH_SEEDS = SENS_INIT_SEEDS = (0, 1, 2, 3, 4)
SENS_BATCH_SIZES = (32, 64, 128, 256)
SENS_CELLS = 500  # random500 of benchmarks/score_nb201.py (random.Random(0))


def export_name(dataset: str, compat: str) -> Path:
    return RESULTS / f"nb201_{dataset}_naswot_{compat}_seed0.csv.xz"


def sensitivity_name(dataset: str) -> Path:
    return RESULTS / f"nb201_{dataset}_naswot_sensitivity.csv.xz"


class Scores:
    """Stored scores by (compat, batch seed, init seed, batch size), from the store or the exported files."""

    def __init__(self, source: str, dataset: str, store: Path) -> None:
        self.source, self.dataset, self.store = source, dataset, store
        self._sens = None

    def get(self, compat="clean", batch_seed=0, init_seed=0, batch_size=128) -> pd.Series:
        if self.source == "store":
            df = study.load_store_scores(self.store, dataset=self.dataset, batch_size=batch_size,
                                         batch_seed=batch_seed, init_seed=init_seed, compat=compat)
            return df["score"]
        if (batch_seed, init_seed, batch_size) == (0, 0, 128) and export_name(self.dataset, compat).is_file():
            return study.load_scores(export_name(self.dataset, compat))["score"]
        if compat != "clean" or not sensitivity_name(self.dataset).is_file():
            return pd.Series(dtype=float)
        if self._sens is None:
            self._sens = pd.read_csv(sensitivity_name(self.dataset))
        s = self._sens
        m = (s.batch_seed == batch_seed) & (s.init_seed == init_seed) & (s.batch_size == batch_size)
        return s[m].set_index("index")["score"].sort_index()


def correlation_section(scores: Scores, table: pd.DataFrame, dataset: str) -> dict:
    out = {}
    for compat in ("clean", "reference"):
        s = scores.get(compat)
        if len(s) >= 2:
            out[compat] = {"cells": int(len(s)),
                           "rows": study.nb201_correlation_rows(s, table, ACCURACY[dataset])}
    if "clean" in out and "reference" in out:
        a, b = scores.get("clean"), scores.get("reference")
        common = a.index.intersection(b.index)
        c = study.rank_correlation(a.loc[common], b.loc[common])
        out["clean_vs_reference"] = {"n": c.n, "kendall_tau": c.kendall_tau, "spearman_rho": c.spearman_rho}
    return out


def singular_section(scores: Scores, table: pd.DataFrame, dataset: str) -> dict:
    """The clean scores' singular kernels: their accuracies and tau / rho under three treatments of -inf."""
    s = scores.get("clean")
    if len(s) < 2:
        return {}
    out = {"singular": int((~np.isfinite(s.to_numpy())).sum()), "cells": int(len(s)), "by_accuracy": {}}
    for acc in ACCURACY[dataset]:
        a = table[acc].loc[s.index]
        sing = a[~np.isfinite(s.to_numpy())]
        out["by_accuracy"][acc] = {"singular_accuracy_max": float(sing.max()) if len(sing) else None,
                                   **study.singular_treatments(s.to_numpy(), a.to_numpy())}
    return out


def naslib_section(scores: Scores, table: pd.DataFrame, dataset: str, shared: Path) -> dict:
    imap = study.load_naslib_index_map(shared / "nb201" / "derived" / "nb201_index_encodings.csv.xz")
    zc = study.load_naslib_zc(shared / "nb201" / "naslib" / "zc_nasbench201_subset725.json.xz", imap,
                              dataset=dataset)
    out = {"naslib_cells": int(len(zc)),
           "naslib_vs_val_accuracy": _corr(zc["naslib_score"], zc["val_accuracy"])}
    for col in ACCURACY[dataset]:
        out[f"naslib_vs_{col}"] = _corr(zc["naslib_score"], table[col].loc[zc.index])
    for compat in ("clean", "reference"):
        s = scores.get(compat)
        common = zc.index.intersection(s.index)
        if len(common) < 2:
            continue
        ours = s.loc[common]
        sec = {"n": int(len(common)), "ours_vs_naslib": _corr(ours, zc["naslib_score"].loc[common]),
               "ours_vs_val_accuracy": _corr(ours, zc["val_accuracy"].loc[common]),
               "naslib_vs_val_accuracy_same_cells": _corr(zc["naslib_score"].loc[common],
                                                          zc["val_accuracy"].loc[common])}
        for col in ACCURACY[dataset]:
            sec[f"ours_vs_{col}"] = _corr(ours, table[col].loc[common])
        out[compat] = sec
    return out


def _corr(x, y) -> dict:
    c = study.rank_correlation(np.asarray(x), np.asarray(y))
    return {"n": c.n, "kendall_tau": c.kendall_tau, "spearman_rho": c.spearman_rho}


def sensitivity_section(scores: Scores, table: pd.DataFrame, dataset: str) -> dict:
    cells = study.random_cells(SENS_CELLS, seed=0)
    acc = table[ACCURACY[dataset][0]]
    out = {"cells_asked": SENS_CELLS}
    for name, keys in (("batch_seeds", [dict(batch_seed=s) for s in SENS_BATCH_SEEDS]),
                       ("init_seeds", [dict(init_seed=s) for s in SENS_INIT_SEEDS])):
        series = [scores.get(**k) for k in keys]
        common = sorted(set(cells).intersection(*(set(s.index) for s in series)))
        if len(common) < 2:
            out[name] = {"n": len(common), "note": "not all seeds scored yet"}
            continue
        cols = [s.loc[common].to_numpy() for s in series]
        mean, lo, hi = study.mean_pairwise_tau(cols)
        rhos = [study.rank_correlation(c, acc.loc[common]).spearman_rho for c in cols]
        out[name] = {"n": len(common), "seeds": [list(k.values())[0] for k in keys], "pairwise_tau_mean": mean,
                     "pairwise_tau_min": lo, "pairwise_tau_max": hi, "rho_vs_accuracy": rhos,
                     "rho_vs_accuracy_mean": float(np.mean(rhos)), "rho_vs_accuracy_std": float(np.std(rhos))}
    bs = {}
    series = {b: scores.get(batch_size=b) for b in SENS_BATCH_SIZES}
    common = sorted(set(cells).intersection(*(set(s.index) for s in series.values())))
    for b, s in series.items():
        if len(common) >= 2:
            c = study.rank_correlation(s.loc[common], acc.loc[common])
            bs[str(b)] = {"n": c.n, "kendall_tau": c.kendall_tau, "spearman_rho": c.spearman_rho}
    out["batch_sizes"] = bs if bs else {"note": "not all batch sizes scored yet"}
    out["accuracy"] = ACCURACY[dataset][0]
    return out


def export_sensitivity(scores: Scores, path: Path) -> int:
    """Write the sensitivity runs' clean scores (long format) to ``path``."""
    cells = set(study.random_cells(SENS_CELLS, seed=0))
    keys = {(s, 0, 128) for s in SENS_BATCH_SEEDS} | {(0, s, 128) for s in SENS_INIT_SEEDS} | \
           {(0, 0, b) for b in SENS_BATCH_SIZES}
    frames = []
    for bseed, iseed, bsize in sorted(keys):
        s = scores.get(batch_seed=bseed, init_seed=iseed, batch_size=bsize)
        s = s[s.index.isin(cells)]
        frames.append(pd.DataFrame({"index": s.index, "batch_seed": bseed, "init_seed": iseed,
                                    "batch_size": bsize, "score": s.to_numpy()}))
    df = pd.concat(frames, ignore_index=True)
    df.to_csv(path, index=False)
    return len(df)


def markdown(res: dict) -> str:
    lines = [f"# NASWOT on NAS-Bench-201 {res['dataset']}: correlation study", "",
             f"Generated by `{res['command']}` (source: {res['source']}).", ""]
    corr = res["correlation"]
    lines += ["## Rank correlation with 200-epoch test accuracy", "",
              "| mode | cells | subset | accuracy | n | Kendall τ | Spearman ρ | top-1% | top-5% | top-10% |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for compat in ("clean", "reference"):
        if compat not in corr:
            continue
        for r in corr[compat]["rows"]:
            lines.append(f"| {compat} | {corr[compat]['cells']} | {r['subset']} | `{r['accuracy']}` | {r['n']} | "
                         f"{r['kendall_tau']:.3f} | {r['spearman_rho']:.3f} | {r['top1%']:.2f} | {r['top5%']:.2f} | "
                         f"{r['top10%']:.2f} |")
    if res["dataset"] == "cifar10":
        lines.append(f"| paper (Mellor et al. 2021, Fig. 3) | 15625 | all | `cifar10-valid/ori-test@200` (released "
                     f"code) | 15625 | {study.PAPER_KENDALL_TAU_C10} | – | – | – | – |")
        lines.append(f"| independent rerun (issue) | 15625 | all | CIFAR-10 test | 15625 | "
                     f"{study.RERUN_KENDALL_TAU_C10} | {study.RERUN_SPEARMAN_C10} | – | – | – |")
    if "clean_vs_reference" in corr:
        c = corr["clean_vs_reference"]
        lines += ["", f"Clean vs reference mode on their {c['n']} common cells: Kendall τ = {c['kendall_tau']:.3f}, "
                      f"Spearman ρ = {c['spearman_rho']:.3f}."]
    sg = res.get("singular")
    if sg and sg["singular"]:
        lines += ["", f"## Singular kernels ({sg['singular']} of {sg['cells']} clean-mode cells)", "",
                  "nwot scores a singular K_H as `-inf` (ranked last); the released code's slogdet returns rounding "
                  "noise for it instead. τ / ρ under three treatments (`nwot.study.reproduction.singular_treatments`; random = "
                  "uniform over the finite scores' range, mean ± std over 20 draws):", "",
                  "| accuracy | max accuracy of a singular cell | -inf last | excluded | random rank |",
                  "|---|---|---|---|---|"]
        for acc, t in sg["by_accuracy"].items():
            lines.append(f"| `{acc}` | {t['singular_accuracy_max']:.2f} | {t['last']['kendall_tau']:.3f} / "
                         f"{t['last']['spearman_rho']:.3f} | {t['excluded']['kendall_tau']:.3f} / "
                         f"{t['excluded']['spearman_rho']:.3f} | {t['random']['kendall_tau']:.3f} ± "
                         f"{t['random']['kendall_tau_std']:.3f} / {t['random']['spearman_rho']:.3f} |")
    nl = res.get("naslib")
    if nl:
        lines += ["", "## Agreement with NASLib's NASWOT (`nwot`, 725-cell zero-cost subset)", "",
                  f"NASLib file: {nl['naslib_cells']} cells for {res['dataset']}; NASLib `nwot` vs its own "
                  f"`val_accuracy` (single-seed test split): ρ = {nl['naslib_vs_val_accuracy']['spearman_rho']:.3f}; "
                  + "; ".join(f"vs `{c}`: ρ = {nl[f'naslib_vs_{c}']['spearman_rho']:.3f}" for c in ACCURACY[res['dataset']])
                  + ".",
                  "", "| ours | n | ρ(ours, NASLib) | τ(ours, NASLib) | ρ(ours, val_accuracy) | "
                      "ρ(NASLib, val_accuracy) | " + " | ".join(f"ρ(ours, `{c}`)" for c in ACCURACY[res['dataset']])
                  + " |", "|---|---|---|---|---|---|" + "---|" * len(ACCURACY[res['dataset']])]
        for compat in ("clean", "reference"):
            if compat in nl:
                x = nl[compat]
                lines.append(f"| {compat} | {x['n']} | {x['ours_vs_naslib']['spearman_rho']:.3f} | "
                             f"{x['ours_vs_naslib']['kendall_tau']:.3f} | "
                             f"{x['ours_vs_val_accuracy']['spearman_rho']:.3f} | "
                             f"{x['naslib_vs_val_accuracy_same_cells']['spearman_rho']:.3f} | " +
                             " | ".join(f"{x[f'ours_vs_{c}']['spearman_rho']:.3f}" for c in ACCURACY[res['dataset']])
                             + " |")
    se = res.get("sensitivity")
    if se:
        lines += ["", f"## Sensitivity (clean mode, {se['cells_asked']} seeded random cells, "
                      f"accuracy `{se['accuracy']}`)", ""]
        for name, what in (("batch_seeds", "5 different batches (init seed 0)"),
                           ("init_seeds", "5 different init seeds (batch seed 0)")):
            x = se[name]
            if "pairwise_tau_mean" in x:
                lines.append(f"* {what}, n = {x['n']}: pairwise Kendall τ between the score rankings "
                             f"{x['pairwise_tau_mean']:.3f} (min {x['pairwise_tau_min']:.3f}, max "
                             f"{x['pairwise_tau_max']:.3f}); ρ with accuracy {x['rho_vs_accuracy_mean']:.3f} ± "
                             f"{x['rho_vs_accuracy_std']:.3f}")
            else:
                lines.append(f"* {what}: {x['note']} ({x['n']} cells common)")
        if "note" in se["batch_sizes"]:
            lines.append(f"* batch sizes 32/64/128/256: {se['batch_sizes']['note']}")
        else:
            lines += ["", "| batch size | n | Kendall τ | Spearman ρ |", "|---|---|---|---|"]
            for b, x in se["batch_sizes"].items():
                lines.append(f"| {b} | {x['n']} | {x['kendall_tau']:.3f} | {x['spearman_rho']:.3f} |")
    return "\n".join(lines) + "\n"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default="cifar10", choices=tuple(ACCURACY), help="default: cifar10")
    p.add_argument("--source", default="store", choices=("store", "exports"), help="store (default) or exports")
    p.add_argument("--store", default=str(DEFAULT_STORE))
    p.add_argument("--data-dir", default=None, help="dataset images (needed for cifar100 / ImageNet16-120)")
    p.add_argument("--shared-data", default=None, help="staged shared data (default: $NWOT_SHARED_DATA)")
    p.add_argument("--out", default=str(RESULTS))
    p.add_argument("--export-sensitivity", default=None, help="only write the sensitivity scores (CSV) here")
    p.add_argument("--quiet", action="store_true")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from nwot.data.datasets import scoring_batch
    from nwot.errors import NwotError
    from nwot.paths import shared_data_dir
    from nwot.adapters.embedded import load_nb201_table

    scores = Scores(args.source, args.dataset, Path(args.store))
    if args.export_sensitivity:
        n = export_sensitivity(scores, Path(args.export_sensitivity))
        print(f"wrote {n} sensitivity scores -> {args.export_sensitivity}")
        return 0
    try:
        if len(scores.get("clean")) == 0 and len(scores.get("reference")) == 0:
            scoring_batch(args.dataset, batch_size=2, data_dir=args.data_dir)  # raises DataNotFoundError
            raise NwotError(f"no {args.dataset} scores stored yet; run benchmarks/score_nb201.py --dataset "
                            f"{args.dataset} first")
    except NwotError as e:
        print(f"nb201_correlation: {args.dataset}: {e}", file=sys.stderr)
        return 2
    table = load_nb201_table()
    res = {"dataset": args.dataset, "source": args.source,
           "command": command_line(__file__, argv),
           "correlation": correlation_section(scores, table, args.dataset)}
    if args.dataset in ("cifar10", "cifar100", "ImageNet16-120"):
        res["naslib"] = naslib_section(scores, table, args.dataset, shared_data_dir(args.shared_data))
    res["singular"] = singular_section(scores, table, args.dataset)
    res["sensitivity"] = sensitivity_section(scores, table, args.dataset)
    out = Path(args.out)
    stem = "nb201_correlation" if args.dataset == "cifar10" else f"nb201_correlation_{args.dataset}"
    (out / f"{stem}.json").write_text(json.dumps(res, indent=2) + "\n")
    md = markdown(res)
    (out / f"{stem}.md").write_text(md)
    if not args.quiet:
        print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
