"""Search strategies on NAS-Bench-201 / NATS-Bench-TSS under the benchmarks' simulated training time.

Settings (search signal = x-valid accuracy after the 12-epoch schedule, charged its simulated seconds;
final number = 200-epoch test accuracy of the best-by-signal arch, seed mean):

* ``nb201/cifar10``: NAS-Bench-201 Table 5 protocol (Dong & Yang, ICLR 2020, §5; ``exps/algos/R_EA.py``
  asserts ``dataset == 'cifar10'``): search on CIFAR-10 (``cifar10-valid``) for 12,000 s, report the
  chosen arch on CIFAR-10 (ori-test), CIFAR-100 and ImageNet16-120 (x-test); beside the published
  REA / RS / REINFORCE / BOHB numbers. Variants ``/quarter`` (3,000 s) and ``/noise`` (seed-draw noise).
* ``nats/<dataset>``: NATS-Bench protocol (Dong et al., TPAMI 2021, §5): search each dataset on its
  own 12-epoch signal, 20,000 / 40,000 / 120,000 s for CIFAR-10 / CIFAR-100 / ImageNet16-120. The
  embedded table stores only the ``cifar10-valid`` cost, so CIFAR-100 / ImageNet16-120 are charged
  ``cost="scaled"`` (x2 / x6.068, exact for NATS train times; see ``nwot/evaluators/benchmark.py``).

Every run ``r`` uses seed ``--seed + r`` (same seeds for every strategy). Runs are appended, one JSON
line each, to ``--work-dir/search_nb201_runs.jsonl`` as they finish; a re-run skips the runs already
there (so the command can be killed and restarted). At the end the script writes to ``--out``:
``search_nb201.{csv,json,md}`` (table + exact command, git commit, machine), ``search_nb201_traces.jsonl.xz``
(every run's trace: benchmark index per evaluation), ``search_nb201_curves.csv`` and
``search_nb201_curves.png`` (test accuracy of the best-so-far arch vs simulated time, mean +- std).
The jobs, the run file and the runs are :mod:`nwot.study.search_jobs`; the curves
:mod:`nwot.study.replay`; the tables :mod:`nwot.study.search_tables`.

AREA and NASWOT rows need the stored full-space NASWOT scores (``--scores PATH``, a score file
``index,arch,score,seconds`` from ``nwot score-space --export``; ``DATASET=PATH`` for other datasets);
without them those rows are skipped with a printed reason.

Full run (about an hour on one CPU core)::

    nice -n 10 python benchmarks/search_nb201.py --runs 500
"""
from __future__ import annotations

import argparse
import json
import lzma
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

from _common import RESULTS, WORK

from nwot.errors import NwotError
from nwot.study import search_jobs as sj
from nwot.study.provenance import command_line, git_state, machine, utc_date, versions

NAME = "search_nb201"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=500, help="seeded runs per strategy and setting (default 500)")
    p.add_argument("--seed", type=int, default=0, help="seed of run 0 (run r: seed + r)")
    p.add_argument("--strategies", default=",".join(sj.TABLE_STRATEGIES + sj.SCORE_STRATEGIES),
                   help="comma list (default: all; area/naswot need --scores)")
    p.add_argument("--settings", default=",".join(sj.SETTING_NAMES),
                   help="comma list of protocol/dataset[/variant] settings (default: all six)")
    p.add_argument("--scores", action="append", default=[], metavar="[DATASET=]PATH",
                   help="stored full-space NASWOT scores (score file index,arch,score,seconds); bare PATH = cifar10")
    p.add_argument("--naswot-n", default="10,100,1000", help="NASWOT search sizes N (evaluations), comma list")
    p.add_argument("--area-m", default="20,100,1000", help="AREA pool sizes M (cells pre-scored), comma list")
    p.add_argument("--signal-noise", default="nats", metavar="SD|nats",
                   help="SD of the seed-draw noise model of the nb201/cifar10/noise setting; 'nats' (default) "
                        "estimates it from the staged NATS-TSS records ($NWOT_SHARED_DATA/nats)")
    p.add_argument("--work-dir", type=Path, default=WORK, help="where the resumable run file lives")
    p.add_argument("--out", type=Path, default=RESULTS, help="folder of the table / traces / plot")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def comma(s: str) -> list:
    return [x.strip() for x in s.split(",") if x.strip()]


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        return run(args, argv)
    except NwotError as e:
        raise SystemExit(f"search_nb201: {e}") from None


def run(args: argparse.Namespace, argv) -> int:
    import pandas as pd
    import torch

    import nwot.study.plots as plots
    from nwot.adapters.base import get_benchmark
    from nwot.scores.files import read_scores
    from nwot.study.paper import PUBLISHED_NB201
    from nwot.study.replay import accuracies, curves
    from nwot.study.search_tables import search_markdown, summary_rows

    torch.set_num_threads(1)
    t0 = time.time()
    wanted = sj.check_names("setting", comma(args.settings), sj.SETTING_NAMES)
    noise = None
    if "nb201/cifar10/noise" in wanted:
        noise = sj.signal_noise(args.signal_noise)
        print(f"noise setting: signal SD {noise['sd']:.4f} ({noise['source']})", file=sys.stderr)
    settings = sj.select_settings(wanted, noise["sd"] if noise else 0.0)
    scores = sj.parse_scores(args.scores)
    scorers = {d: read_scores(p) for d, p in scores.items() if Path(p).is_file()}
    sizes = {"naswot": [int(x) for x in comma(args.naswot_n)], "area": [int(x) for x in comma(args.area_m)]}
    jobs, skipped = sj.plan_jobs(settings, comma(args.strategies), args.runs, args.seed, sizes, scores, scorers)
    for why in skipped:
        print("skipping " + why, file=sys.stderr)
    bench = get_benchmark("nb201")
    records = sj.run_jobs(jobs, sj.RunFile(args.work_dir / f"{NAME}_runs.jsonl"), bench, scorers,
                          progress=False if args.quiet else None)

    meta = {"date": utc_date(), "command": command_line(__file__, argv), "git": git_state(), "machine": machine(),
            "versions": versions(), "wall_seconds": time.time() - t0, "runs": args.runs, "seed": args.seed,
            "settings": {k: {"budget_s": v.budget, "report": list(v.report), "cost": v.cost}
                         for k, v in settings.items()},
            "signal_seed": "mean", "scores": {d: str(p) for d, p in scores.items()}, "skipped": skipped,
            "signal_noise": {k: v for k, v in noise.items() if k != "per_arch"} if noise else None}
    args.out.mkdir(parents=True, exist_ok=True)
    tdf = pd.DataFrame(summary_rows(records, settings, accuracies(bench, sj.DATASETS, "valid")))
    tdf.to_csv(args.out / f"{NAME}.csv", index=False)
    cdf = pd.DataFrame(curves(records, {k: s.budget for k, s in settings.items()},
                              {k: s.report for k, s in settings.items()}, accuracies(bench, sj.DATASETS, "test"),
                              sj.strategy_rank))
    cdf.to_csv(args.out / f"{NAME}_curves.csv", index=False, float_format="%.6g")
    with lzma.open(args.out / f"{NAME}_traces.jsonl.xz", "wt", encoding="utf-8", preset=9) as f:
        for rec in records:
            f.write(json.dumps(sj.compact(rec)) + "\n")
    if not args.no_plot:
        plots.search_curves(args.out / f"{NAME}_curves.png", cdf, settings, PUBLISHED_NB201, sj.label)
    meta["wall_seconds"] = time.time() - t0
    with open(args.out / f"{NAME}.json", "w") as f:
        json.dump({"meta": meta, "rows": tdf.to_dict(orient="records")}, f, indent=1, default=str)
    md = search_markdown(tdf, meta, skipped)
    (args.out / f"{NAME}.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
