"""How much of the gap to the published NAS-Bench-201 search numbers is the seed draw of the signal?

The published Table 5 runs (Dong & Yang, ICLR 2020, §5) read, for every query, the 12-epoch x-valid
accuracy of *one randomly drawn seed*; the embedded table stores the *seed mean* only, a less noisy
signal, so searches on it find slightly better cells. This script runs RS, REA and REINFORCE on the
NB201 protocol (search CIFAR-10, 12,000 simulated s, 500 seeded runs) with Gaussian noise of SD
``sigma`` added to every signal (``TableSignalConfig.signal_noise``, a model of the seed draw) for a
grid of ``sigma``, and sets each cell beside the published mean in units of its standard error
(``z = (ours - published) / (published std / sqrt(500))``). ``sigma = 0`` is the seed-mean search of
``search_nb201.py``; the SD estimated from the staged NATS-TSS records (hp 12, cifar10-valid, 3 archs x
2 seeds; ``estimate_signal_noise``) is added to the grid. The sweep and its table are
:mod:`nwot.study.search_tables`.

Writes ``nb201_signal_noise.{csv,json,md,png}`` to ``--out`` with the command, commit and machine::

    python benchmarks/nb201_signal_noise.py --runs 500
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

from _common import RESULTS

from nwot.study.paper import PUBLISHED_NB201
from nwot.study.provenance import command_line, git_state, machine, utc_date
from nwot.study.search_jobs import DATASETS, label

STRATEGIES = ("random", "rea", "reinforce")  # those with published numbers


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=500, help="seeded runs per strategy and sigma (default 500)")
    p.add_argument("--sigmas", default="0,0.2,0.4,0.6", help="comma list of noise SDs; the NATS estimate is added")
    p.add_argument("--strategies", default="random,rea,reinforce", help="comma list (default random,rea,reinforce)")
    p.add_argument("--shared-data", default=None, help="staged shared data (NATS records; default $NWOT_SHARED_DATA)")
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    import pandas as pd
    import torch

    import nwot.study.plots as plots
    from nwot.errors import NwotError
    from nwot.study.search_jobs import signal_noise
    from nwot.study.search_tables import signal_noise_markdown, signal_noise_rows

    torch.set_num_threads(1)
    t0 = time.time()
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    for s in strategies:
        if s not in STRATEGIES:
            raise SystemExit(f"unknown strategy {s!r}; allowed: {', '.join(STRATEGIES)} (those with published numbers)")
    try:
        est = signal_noise("nats", args.shared_data)
    except NwotError as e:
        raise SystemExit(f"nb201_signal_noise: cannot estimate sigma: {e}") from None
    est.pop("source")
    sigmas = sorted({float(x) for x in args.sigmas.split(",") if x.strip()} | {round(est["sd"], 4)})
    rows = signal_noise_rows(sigmas, strategies, args.runs, progress=not args.quiet)
    meta = {"date": utc_date(), "command": command_line(__file__, argv), "git": git_state(),
            "machine": machine("cpu", 1), "sigma_nats": est, "wall_seconds": time.time() - t0}
    args.out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(args.out / "nb201_signal_noise.csv", index=False, float_format="%.6g")
    (args.out / "nb201_signal_noise.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    plots.signal_noise_sweep(args.out / "nb201_signal_noise.png", rows, DATASETS,
                             {s: label(s) for s in STRATEGIES}, PUBLISHED_NB201)
    md = signal_noise_markdown(rows, meta)
    (args.out / "nb201_signal_noise.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
