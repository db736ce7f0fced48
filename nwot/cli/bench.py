"""``nwot bench info | query | best | import``: the benchmark adapters from the command line.

Thin wrappers over :mod:`nwot.adapters` (STYLE.md habit 12)::

    nwot bench query 6111 --dataset cifar10 --hp 200                  # embedded table (offline)
    nwot bench query 11 --dataset cifar100 --hp 12 --benchmark nats-tss --path ~/.torch --seed 111
    nwot bench best --dataset cifar10 --metric valid --hp 200
    nwot bench best --dataset cifar10 --constraint "edgegpu_latency<=4"   # true constrained optimum
    nwot bench import nb201_full.csv.xz --benchmark nats-tss --path ~/.torch
"""
from __future__ import annotations

import argparse
import json
import random
from typing import Any, List, Optional

from nwot.api import parse_arch_text
from nwot.errors import NwotError

BACKEND_HELP = ("table (embedded NB201 table, or --path to an imported table), nats-tss, nats-sss "
                "(NATS-Bench archive; --path: the -simple folder or a folder holding it, default $TORCH_HOME), "
                "nb201-api (NAS-Bench-201 .pth; --path: the file or its folder)")


def open_benchmark(args: argparse.Namespace):
    from nwot.adapters.base import get_benchmark

    kwargs = {} if args.path is None else {"path": args.path}
    return get_benchmark(args.benchmark, **kwargs)


def _fmt(x: Optional[float], spec: str = ".4f") -> str:
    return "-" if x is None else format(x, spec)


def format_query(bench, r) -> List[str]:
    """Human-readable lines of one :class:`~nwot.adapters.base.QueryResult`."""
    seed = ("mean over seeds " + ", ".join(map(str, r.seeds)) + (" (one trial)" if len(r.seeds) == 1 else "")
            if r.seeds else "mean over the benchmark's seeds (table of seed means)")
    if r.seed is not None:
        seed = f"{r.seed} (one trial of {', '.join(map(str, r.seeds))})"
    lines = [f"benchmark  {bench.name}{getattr(bench, 'origin', '')}",
             f"index      {r.index}",
             f"arch       {r.arch}",
             f"dataset    {r.dataset}    hp {r.hp}    epoch {'final' if r.epoch is None else r.epoch}",
             f"seed       {seed}",
             f"{'split':<10} {'accuracy':>10} {'loss':>10}"]
    for split, s in r.splits.items():
        lines.append(f"{split:<10} {_fmt(s.accuracy):>10} {_fmt(s.loss):>10}")
    cost_def = getattr(bench, "cost_definition", "train-all-time + valid-per-time (official simulate_train_eval)")
    lines.append(f"cost       {_fmt(r.cost, '.3f')} s  [{cost_def}]" if r.cost is not None else
                 f"cost       -  (not stored for {r.dataset} hp {r.hp})")
    lines.append(f"params     {_fmt(r.params, '.6f')} MB")
    lines.append(f"flops      {_fmt(r.flops, '.6f')} M")
    if r.latency is not None:
        lines.append(f"latency    {r.latency * 1000:.3f} ms (batch of 256)")
    if r.hardware:
        lines += hardware_lines(r)
    return lines


def hardware_lines(r) -> List[str]:
    """The HW-NAS-Bench block of :func:`format_query`: one line per device, values with units, ``-`` = not measured."""
    from nwot.adapters.hardware import DEVICE_KIND, hw_dataset

    lines = [f"hardware   HW-NAS-Bench, batch 1, {hw_dataset(r.dataset)} network",
             f"{'device':<10} {'latency':>12} {'energy':>12}  {'':<16}"]
    for device, hc in r.hardware.items():
        lat = "not measured" if hc.latency_ms is None else f"{hc.latency_ms:.4f} ms"
        energy = "" if hc.energy_mj is None else f"{hc.energy_mj:.4f} mJ"
        extra = ("" if hc.arithmetic_intensity is None else
                 f"  arithmetic intensity {hc.arithmetic_intensity:.4f} op/byte")
        lines.append(f"{device:<10} {lat:>12} {energy:>12}  {DEVICE_KIND[device]}{extra}")
    return lines


def cmd_info(args: argparse.Namespace) -> int:
    b = open_benchmark(args)
    avail = b.available_indices()
    info = {"benchmark": b.name, "location": str(getattr(b, "location", None) or getattr(b, "origin", "")).strip(" ()"),
            "space": b.space, "archs": len(b), "archs_with_results": len(avail), "datasets": list(b.datasets),
            "hps": list(b.hps), "full_hp": b.full_hp, "per_seed_results": b.has_seeds,
            "cost": getattr(b, "cost_definition", "train-all-time + valid-per-time (official simulate_train_eval)"),
            "official_source": b.source}
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    for k, v in info.items():
        print(f"{k:<19} {', '.join(map(str, v)) if isinstance(v, list) else v}")
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    b = open_benchmark(args)
    if args.seed is not None and args.sample_seed is not None:
        raise NwotError("give --seed (one trial) or --sample-seed (draw a trial), not both")
    seed: Any = args.seed if args.sample_seed is None else random.Random(args.sample_seed)
    arch = b.index_of(parse_arch_text(args.arch), resolve_isomorph=args.resolve_isomorph)
    r = b.query(arch, args.dataset, b.full_hp if args.hp is None else args.hp, seed=seed, epoch=args.epoch)
    if args.json:
        print(json.dumps(r.to_dict(), indent=2))
    else:
        print("\n".join(format_query(b, r)))
    return 0


def cmd_best(args: argparse.Namespace) -> int:
    b = open_benchmark(args)
    indices = None
    if args.constraint:  # the true constrained optimum: best over the cells that satisfy every constraint
        from nwot.search.constraints import FeasibleSet
        from nwot.spaces.base import get_space

        search_ds = "cifar10" if args.dataset == "cifar10-valid" else args.dataset
        indices = FeasibleSet(b, get_space(b.space), args.constraint, search_ds).mask.nonzero()[0].tolist()
    i, acc = b.best(args.dataset, args.metric, args.hp, max_params=args.max_params, max_flops=args.max_flops,
                    indices=indices)
    if args.json:
        print(json.dumps({"index": i, "arch": b.arch(i), "accuracy": acc, "dataset": args.dataset,
                          "metric": args.metric, "hp": args.hp or b.full_hp}, indent=2))
    else:
        print(f"best by {args.dataset} {args.metric} (hp {args.hp or b.full_hp}): index {i}  "
              f"accuracy {acc:.4f}  {b.arch(i)}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from nwot.adapters.tables import import_benchmark

    if args.benchmark == "table":
        raise NwotError("bench import reads an official archive: use --benchmark nats-tss, nats-sss or nb201-api")
    b = open_benchmark(args)
    path, n = import_benchmark(b, args.out, progress=not args.quiet)
    print(f"wrote {path}: {len(b)} archs, {n} with results, from {b.name} "
          f"({getattr(b, 'location', None) or 'given data'}); open it with --benchmark table --path {path}")
    return 0


def _add_backend_args(p: argparse.ArgumentParser, default: Optional[str] = "table") -> None:
    p.add_argument("--benchmark", default=default, required=default is None, help=BACKEND_HELP +
                   (f" (default: {default})" if default else ""))
    p.add_argument("--path", default=None, help="archive / table location for the chosen backend")
    p.add_argument("--json", action="store_true", help="print JSON")


def register(subparsers) -> None:
    """Add ``nwot bench`` to the main parser's subcommands."""
    p = subparsers.add_parser("bench", help="query NAS benchmarks (NB201 table, NATS-Bench TSS/SSS, NB201 API)",
                              description="One query interface over the embedded NB201 table and official "
                                          "NATS-Bench / NAS-Bench-201 archives.")
    sub = p.add_subparsers(dest="bench_command", metavar="ACTION")
    sub.required = True

    q = sub.add_parser("info", help="what a backend holds")
    _add_backend_args(q)
    q.set_defaults(func=cmd_info)

    q = sub.add_parser("query", help="accuracy / loss per split, cost, params of one arch",
                       description="Seed mean by default (official is_random=False); --seed for one trial, "
                                   "--sample-seed to draw one as the official is_random=True.")
    q.add_argument("arch", help="index, arch string ('|op~0|+...' or 'c0:c1:c2:c3:c4'), or op-id vector '4,2,1,2,1,1'")
    q.add_argument("--dataset", required=True, help="cifar10-valid, cifar10, cifar100, ImageNet16-120")
    q.add_argument("--hp", default=None, help="training schedule: 12 or 200 (TSS / NB201), 01, 12 or 90 (SSS); "
                                             "default: the benchmark's full schedule (200 TSS / NB201, 90 SSS)")
    q.add_argument("--seed", type=int, default=None, help="one trial's seed (e.g. 777)")
    q.add_argument("--sample-seed", type=int, default=None, help="draw one trial with random.Random(N)")
    q.add_argument("--epoch", type=int, default=None, help="0-based epoch (official iepoch); default final")
    q.add_argument("--resolve-isomorph", action="store_true", help="map to the lowest isomorphic index")
    _add_backend_args(q)
    q.set_defaults(func=cmd_query)

    q = sub.add_parser("best", help="best arch by accuracy (NATS find_best)")
    q.add_argument("--dataset", required=True, help="cifar10 (valid reads cifar10-valid), cifar100, ImageNet16-120")
    q.add_argument("--metric", default="test", help="valid, test, or a split name (default: test)")
    q.add_argument("--hp", default=None, help="training schedule (default: the full one, 200 / 90)")
    q.add_argument("--max-params", type=float, default=None, help="skip archs above this many MB of params")
    q.add_argument("--max-flops", type=float, default=None, help="skip archs above this many MFLOPs")
    q.add_argument("--constraint", action="append", default=[], metavar="METRIC<=VALUE",
                   help="a cost bound, repeatable, as for `nwot search --constraint` (e.g. 'edgegpu_latency<=4'): "
                        "the best cell that satisfies every one (the true constrained optimum)")
    _add_backend_args(q)
    q.set_defaults(func=cmd_best)

    q = sub.add_parser("import", help="build a local table from an official archive",
                       description="Read every record of an official archive once (allow-list unpickling) and "
                                   "write seed means, costs, params and FLOPs to a .csv.xz or .sqlite table.")
    q.add_argument("out", help="output file: .csv.xz, .csv or .sqlite")
    q.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_backend_args(q, default=None)
    q.set_defaults(func=cmd_import)
