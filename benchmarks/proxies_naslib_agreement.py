"""Agreement of nwot's zero-cost proxies with NASLib's stored values (NAS-Bench-Suite-Zero precursor).

NASLib's ``zc_nasbench201.json`` (shared data MANIFEST §1.8) holds 12 proxies on 725 NB201 cells x 3
datasets. Only CIFAR-10 images exist here, so only CIFAR-10 is compared (CIFAR-100 and ImageNet16-120
would need their images: not scored, stated in the output). For each proxy, Spearman ρ between our
stored scores (``benchmarks/score_proxies_nb201.py`` store) and NASLib's over the cells both have
(finite on both sides), with the protocol: batch 32 (NASLib's ``zc_config.yaml``), CIFAR-10 training
images, PyTorch default init, BN on batch statistics. NASLib's ``nwot`` is our ``naswot`` scored at
batch 32 (``--batch-sizes naswot=32``). Where a proxy offers a reference mode (fisher), both modes
are compared; the reference mode reproduces NASLib's code.

    python benchmarks/proxies_naslib_agreement.py   # -> benchmarks/results/proxies_naslib_agreement.{json,md}
"""
from __future__ import annotations

import argparse
import datetime
import json
import lzma
import math
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

from nwot.study.provenance import command_line, git_state, machine  # noqa: E402

DEFAULT_STORE = REPO / "benchmarks" / "results" / "work" / "nb201_proxies.sqlite"
OUT = REPO / "benchmarks" / "results" / "proxies_naslib_agreement"
#: NASLib name -> (our proxy, modes to compare, batch override).
PAIRS = {
    "epe_nas": ("epe_nas", ("clean",), None), "fisher": ("fisher", ("clean", "reference"), None),
    "flops": ("flops", ("clean",), None), "grad_norm": ("grad_norm", ("clean",), None),
    "grasp": ("grasp", ("clean",), None), "jacov": ("jacov", ("clean",), None),
    "l2_norm": ("l2_norm", ("clean",), None), "nwot": ("naswot", ("clean",), 32),
    "params": ("params", ("clean",), None), "plain": ("plain", ("clean",), None),
    "snip": ("snip", ("clean",), None), "synflow": ("synflow", ("clean",), None),
}
#: Why a ρ falls short of 0.95: the finding (checked against the self-agreement column) per NASLib name / mode.
DRAW = ("Our own code run twice with other draws (batch seed and init seed 0 vs 1; last column, the first ~200 cells) "
        "also stays below 0.95, so no implementation can reach 0.95 against NASLib's values with independent draws: "
        "NASLib drew a new augmented batch and a new init for every cell from one running RNG. A limit set by the "
        "draw, not a definition difference.")
NOTES = {
    "plain/clean": "Σ θ·∂L/∂θ sums terms of both signs that nearly cancel, so it is dominated by the batch and "
                   "init. " + DRAW,
    "grasp/clean": "−Σ θ·Hg is a signed sum like plain, dominated by the batch and init. " + DRAW,
    "epe_nas/clean": "per-class correlations of 32 images (about 3 per class) are a noisy statistic. " + DRAW
                     + " The rest of the gap (ours vs NASLib below ours vs ours) is consistent with NASLib's augmented "
                       "training batches (random crop + flip), a further source of draw variance.",
    "jacov/clean": "a spectral function of the 32 x 32 Jacobian correlation, sensitive to the images drawn. " + DRAW,
    "l2_norm/clean": "l2_norm is a function of the numbers of 1x1 / 3x3 convs up to the init's noise (±0.3 %), "
                     "so cells with equal counts tie and the init draw orders them. " + DRAW,
    "fisher/clean": "a definition difference: NASLib's code broadcasts each channel's saliency to its weights and sums "
                    "them, weighting a channel by its fan-in; our reference mode does the same (its row).",
    "flops/clean": "NASLib's counter also counts pooling / BN / additions (NASLib / ours = 1.02 to 1.27 per cell).",
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", default=str(DEFAULT_STORE))
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--self-seed", type=int, default=1, help="batch/init seed of the self-agreement rescore")
    args = ap.parse_args(argv)

    import numpy as np
    from scipy import stats

    from nwot.paths import shared_data_dir
    from nwot.proxies import get_proxy
    from nwot.scores.proxy_store import proxy_key
    from nwot.scores.store import ScoreStore
    from nwot.study.naslib import load_naslib_index_map

    root = shared_data_dir() / "nb201"
    imap = load_naslib_index_map(root / "derived" / "nb201_index_encodings.csv.xz")
    with lzma.open(root / "naslib" / "zc_nasbench201_subset725.json.xz", "rt") as f:
        naslib = json.load(f)["cifar10"]
    nl = {imap[k]: rec for k, rec in naslib.items()}
    store = ScoreStore(args.store)
    rows, per = [], {}
    for nl_name, (ours, modes, bs) in PAIRS.items():
        for mode in modes:
            p = get_proxy(ours)
            if bs:
                p.set_batch_size(bs)
            for seed in (0, args.self_seed):
                key = proxy_key("nb201", "cifar10", seed, seed, p, mode)
                df = store.to_frame(key)
                vals = dict(zip(df["arch_index"], df["value"].astype(float)))
                if seed == 0:
                    common = [i for i in nl if i in vals and math.isfinite(vals[i])
                              and math.isfinite(float(nl[i][nl_name]["score"]))]
                    entry = {"naslib": nl_name, "ours": ours, "mode": mode, "score_name": key.score_name,
                             "n": len(common), "stored": len(vals)}
                    if len(common) >= 10:
                        a = np.array([vals[i] for i in common])
                        b = np.array([float(nl[i][nl_name]["score"]) for i in common])
                        entry["spearman_rho"] = float(stats.spearmanr(a, b).statistic)
                        entry["kendall_tau"] = float(stats.kendalltau(a, b).statistic)
                    base = vals
                else:
                    both = [i for i in base if i in vals and math.isfinite(base[i]) and math.isfinite(vals[i])]
                    if len(both) >= 10:
                        entry["self_agreement"] = {
                            "n": len(both), "seeds": [0, seed],
                            "spearman_rho": float(stats.spearmanr([base[i] for i in both],
                                                                  [vals[i] for i in both]).statistic)}
            entry["passes"] = entry.get("spearman_rho", -1) >= 0.95
            if not entry["passes"] and f"{nl_name}/{mode}" in NOTES:
                entry["note"] = NOTES[f"{nl_name}/{mode}"]
            rows.append(entry)
            per[f"{nl_name}/{mode}"] = entry
    store.close()
    prov = {"command": command_line(__file__, argv), "git": git_state(), "machine": machine(),
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "naslib_file": "nb201/naslib/zc_nasbench201_subset725.json.xz (MANIFEST §1.8)",
            "protocol": "CIFAR-10 training images (embedded sample, nwot.scoring_batch seed 0), batch 32 "
                        "(NASLib zc_config.yaml), NB201 TinyNetwork C=16 N=5 10 classes, PyTorch default init "
                        "under nwot.torch_seed(0), BN on batch statistics",
            "not_compared": "CIFAR-100 and ImageNet16-120: their images are not available here"}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Path(str(out) + ".json").write_text(json.dumps({"rows": rows, **prov}, indent=2) + "\n")
    lines = ["# nwot proxies vs NASLib's stored values (NB201, CIFAR-10)", "",
             f"Protocol: {prov['protocol']}. Not compared: {prov['not_compared']}.", "",
             "| NASLib | ours (mode) | cells | Spearman ρ | Kendall τ | ρ ≥ 0.95 | ours seed 0 vs seed 1 ρ |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        sa = r.get("self_agreement", {}).get("spearman_rho")
        lines.append(f"| {r['naslib']} | {r['ours']} ({r['mode']}) | {r['n']} | "
                     f"{r.get('spearman_rho', float('nan')):.3f} | {r.get('kendall_tau', float('nan')):.3f} | "
                     f"{'yes' if r['passes'] else 'no'} | {'' if sa is None else f'{sa:.3f}'} |")
    lines += ["", "Where ρ < 0.95:", ""]
    lines += [f"* **{r['naslib']} ({r['mode']})**: {r['note']}" for r in rows if "note" in r]
    from nwot.study.provenance import git_label

    lines += ["", f"Command: `{prov['command']}`; git {git_label()}; CPU {prov['machine']['cpu_model']}."]
    Path(str(out) + ".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
