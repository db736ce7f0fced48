"""``nwot score ARCH``: the NASWOT score of one architecture (thin wrapper over :func:`nwot.api.score_arch`), or
with ``--proxy`` the zero-cost proxies named (:func:`nwot.api.score_arch_proxies`)."""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from nwot.cli.common import add_scoring_args


def cmd_score_proxies(args: argparse.Namespace) -> int:
    from nwot.api import score_arch_proxies

    res = score_arch_proxies(args.arch, args.proxy, space=args.space, dataset=args.dataset,
                             batch_size=args.batch_size, seed=args.seed, init_seed=args.init_seed, mode=args.compat,
                             device=args.device, data_dir=args.data_dir)
    if args.json:
        print(json.dumps({n: {"value": r.value, "status": r.status.value, "reason": r.reason, "seconds": r.seconds,
                              "config": r.config} for n, r in res.items()}, indent=2))
        return 0
    width = max(len(n) for n in res)
    print(f"{'proxy':<{width}}  {'value':>16}  status    seconds  config")
    for n, r in res.items():
        print(f"{n:<{width}}  {r.value:>16.8g}  {r.status.value:<8}  {r.seconds:7.3f}  {r.config}"
              + (f"  ({r.reason})" if r.reason else ""))
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from nwot.api import score_arch

    if args.proxy is not None:
        return cmd_score_proxies(args)

    r = score_arch(args.arch, space=args.space, dataset=args.dataset, batch_size=args.batch_size, seed=args.seed,
                   init_seed=args.init_seed, compat=args.compat, device=args.device, data_dir=args.data_dir)
    if args.json:
        print(json.dumps(asdict(r), indent=2))
        return 0
    if r.index is not None:
        print(f"index          {r.index}")
    print(f"arch           {r.arch}")
    print(f"score          {r.score:.6f}")
    print(f"seconds        {r.seconds:.3f}")
    if r.test_accuracy is not None:
        print(f"test accuracy  {r.test_accuracy:.2f}  ({args.dataset}, 200 epochs, NATS-Bench seed mean)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("score", help="NASWOT score of one architecture",
                       description="Score one untrained network: s = log|det K_H| (Mellor et al., ICML 2021).")
    p.add_argument("arch", help="NB201 index (6111), arch string, or op-id vector (4,2,1,2,1,1); other spaces: "
                                "the space's encoding (see --space)")
    p.add_argument("--space", default="nb201", help="search space (default: nb201)")
    p.add_argument("--seed", type=int, default=0, help="seed of the scoring batch (default: 0)")
    p.add_argument("--init-seed", type=int, default=None, help="seed of the network init (default: --seed)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--proxy", default=None,
                   help="zero-cost proxies instead of NASWOT alone: a name, a comma list or 'all' (see nwot.proxies; "
                        "--compat picks the clean or reference mode; the batch holds --batch-size labelled images, "
                        "each proxy takes its paper's part)")
    add_scoring_args(p)
    p.set_defaults(func=cmd_score)
