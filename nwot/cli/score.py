"""``nwot score ARCH``: the NASWOT score of one architecture (thin wrapper over :func:`nwot.api.score_arch`)."""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from nwot.cli.common import add_scoring_args


def cmd_score(args: argparse.Namespace) -> int:
    from nwot.api import score_arch

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
    add_scoring_args(p)
    p.set_defaults(func=cmd_score)
