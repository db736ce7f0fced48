"""``nwot study correlations``: the per-proxy correlation table of a proxy store or wide export (thin wrapper
over :func:`nwot.api.proxy_correlations`)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def cmd_correlations(args: argparse.Namespace) -> int:
    import pandas as pd

    from nwot.api import proxy_correlations
    from nwot.study.provenance import git_state, machine, utc_date

    rows = proxy_correlations(args.scores, args.proxies, accuracy=args.accuracy, draws=args.draws, seed=args.seed)
    print(f"{args.accuracy}; signed tau/rho (oriented by each proxy's direction), bootstrap 95 % ({args.draws} "
          f"resamples, seed {args.seed}); NaN cells dropped and counted, -inf ranks last")
    w = max(len(r.column) for r in rows)
    print(f"{'proxy':<{w}}  {'n':>5} {'NaN':>4} {'-inf':>4}  {'Kendall tau [95 %]':<25} {'Spearman rho [95 %]':<25} "
          f"top5%  nDCG@10  batch mode      dtype    seeds")
    for r in rows:
        p = r.protocol
        print(f"{r.column:<{w}}  {r.n:>5} {r.n_nan:>4} {r.n_neg_inf:>4}  "
              f"{r.kendall_tau:+.3f} [{r.kendall_lo:+.3f}, {r.kendall_hi:+.3f}]  "
              f"{r.spearman_rho:+.3f} [{r.spearman_lo:+.3f}, {r.spearman_hi:+.3f}]  "
              f"{r.topk.get('top5%', float('nan')):.2f}  {r.ndcg.get('ndcg@10', float('nan')):7.3f}  "
              f"{p.batch:<5} {p.mode:<9} {p.dtype:<8} {p.batch_seed}/{p.init_seed}")
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        recs = [r.flat() for r in rows]
        pd.DataFrame(recs).to_csv(str(out) + ".csv", index=False, float_format="%.5g")
        meta = {"command": args.command_line, "scores": str(args.scores), "accuracy": args.accuracy,
                "draws": args.draws, "seed": args.seed, "git": git_state(), "machine": machine(), "date": utc_date()}
        Path(str(out) + ".json").write_text(json.dumps({"rows": recs, "provenance": meta}, indent=1, default=str))
        print(f"saved {out}.csv and {out}.json")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("study", help="studies of stored scores (proxy correlations)",
                       description="Studies over stored scores.")
    ss = p.add_subparsers(dest="study_command", metavar="STUDY")
    ss.required = True
    c = ss.add_parser("correlations", help="per-proxy rank correlation table with bootstrap intervals",
                      description="Per proxy: signed Kendall tau / Spearman rho with the NB201 accuracy, bootstrap "
                                  "95 %% intervals, top-k overlap, nDCG@k, -inf / NaN counts and the protocol of each "
                                  "row, from a proxy store (.sqlite) or a wide export (.csv[.xz] + .json).")
    c.add_argument("--scores", required=True, help="proxy store (.sqlite) or wide export (.csv / .csv.xz)")
    c.add_argument("--proxies", default=None, help="comma list of stored columns (default: all)")
    c.add_argument("--accuracy", default="cifar10/ori-test@200",
                   help="NB201 table column of the ground truth (default: cifar10/ori-test@200)")
    c.add_argument("--draws", type=int, default=1000, help="bootstrap resamples (default: 1000)")
    c.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default: 0)")
    c.add_argument("--out", default=None, help="also save PREFIX.csv and PREFIX.json")
    c.set_defaults(func=cmd_correlations)
