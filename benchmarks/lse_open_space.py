"""Large-scale evolution on its own open space, with and without weight inheritance, and NASWOT-screened.

Real et al., "Large-Scale Evolution of Image Classifiers", ICML 2017: a population of trivial models
(no hidden layers) evolves by pairwise tournaments (the worse of two random members dies, the better one's
mutated copy is trained and joins), with 11 mutations and children that inherit their parent's trained
weights. This script runs :func:`nwot.search.lse_run.run_lse` for three variants:

* ``inherit`` -- the paper's LSE (weight inheritance on);
* ``no-inherit`` -- the ablation: every child trains from its own fresh He initialisation;
* ``inherit+naswot`` -- LSE with a NASWOT screen: a child whose untrained NASWOT score falls more than
  ``--screen-threshold`` below its parent's is dropped before training (another mutation is drawn, up to 8).

Every run gets the same budget of *charged seconds* (training + validation wall time of each trained model,
plus the screen's scoring time), i.e. equal wall time of evaluation, and ``--seeds`` seeds. The chosen
(best-by-validation) individual of each run is reported by its trained weights' accuracy on CIFAR-10 test
images. Results: ``lse_open_space[_<preset>].{json,md,png}``, ``..._runs.csv`` (one row per run) and
``..._traces.csv.xz`` (every trained model). Finished runs are kept under ``--work`` (one JSON each) and
skipped when the script is rerun; trained candidates are checkpointed, so an interrupted run replays its
finished candidates from disk instead of retraining them.

Presets: ``cpu_tiny`` (run here; 80 SGD steps of 50 images per evaluation, population 20) and ``gpu``
(the paper's recipe: 25,600 steps of batch 50 per evaluation, population 1,000; needs the full CIFAR-10
training set in ``--data-dir``): ``python benchmarks/lse_open_space.py --preset gpu --seeds 1 --seconds 86400``,
with ``--workers 4 --gpus-per-worker 0.25`` to train four individuals at once on one GPU (asynchronous
controller on Ray, as the paper's 250 workers; ``--address auto`` on a Ray cluster).
"""
from __future__ import annotations

import argparse
import json
import lzma
import math
import os
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

from nwot.study.provenance import command_line, git_label, machine  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
VARIANTS = ("inherit", "no-inherit", "inherit+naswot")
PAPER_NOTE = (
    "**Scale.** Real et al. (2017) evolved a population of 1,000 with 250 parallel workers, training every "
    "individual for 25,600 SGD steps of 50 images on 45,000 CIFAR-10 images, and reached 94.6 % test accuracy "
    "(CIFAR-10) from trivial models. The cpu_tiny runs here train each individual for 80 steps on 2,000 images "
    "(320x fewer steps on 22x fewer images), networks of at most {max_params:,} parameters (the largest any run "
    "trained), a population 50x smaller, and {seconds:.0f} charged seconds of one thread of a shared 2-core CPU "
    "per run instead of 250 workers. "
    "Absolute accuracies are therefore not comparable; what carries over is the direction of the mechanisms: "
    "the paper lets children inherit their parents' weights so that training continues across generations "
    "(§3.2-3.3), and the no-inherit ablation measures what that buys at this scale.")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--preset", default="cpu_tiny", choices=("cpu_tiny", "gpu"))
    p.add_argument("--seeds", type=int, default=3, help="runs per variant (seeds 0..n-1)")
    p.add_argument("--seconds", type=float, default=600.0, help="charged seconds per run (equal wall time)")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    p.add_argument("--screen-threshold", type=float, default=5.0,
                   help="drop a child scoring more than this below its parent (NASWOT log|det K_H| units)")
    p.add_argument("--population", type=int, default=None, help="override the preset's population size")
    p.add_argument("--test-images", type=int, default=2000, help="CIFAR-10 test images for the report")
    p.add_argument("--data-dir", default=None,
                   help="CIFAR-10 python batches (default: $NWOT_DATA_DIR, else shared/data)")
    p.add_argument("--work", default=str(RESULTS / "work" / "lse_open_space"), help="finished runs + checkpoints")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--workers", type=int, default=None,
                   help="train K individuals at once as Ray tasks (nwot.search.async_run; default: one at a time "
                        "in this process). The budget stays charged seconds: the workers' training time summed")
    p.add_argument("--address", default=None, help="with --workers: a Ray cluster ('auto', 'HOST:6379')")
    p.add_argument("--gpus-per-worker", type=float, default=0, help="with --workers: GPUs per task (e.g. 0.25)")
    p.add_argument("--out", default=str(RESULTS))
    return p.parse_args(argv)


def _genome_stats(space, enc: str) -> dict:
    from nwot.spaces.complexity import count_params

    ind = space.decode(enc)
    g = ind.genome
    return {"mutation": ind.mutation, "vertices": len(g.vertices), "convs": len(g.convs()), "skips": len(g.skips()),
            "channels": sum(e.conv.channels for e in g.convs()), "params": count_params(space.build(ind)),
            "lr": g.learning_rate}


def run_one(variant: str, seed: int, args, train, test, work: Path) -> dict:
    from tqdm import tqdm

    from nwot.search.lse_run import run_lse

    done = work / f"{variant}_seed{seed}.json"
    if done.is_file():
        return json.loads(done.read_text())
    bar = tqdm(desc=f"{variant} seed {seed}", unit="model", leave=False)

    def progress(row):
        if row.kind == "eval":
            bar.update(1)
            bar.set_postfix(best=f"{row.best_signal:.1f}", t=f"{row.time:.0f}s")

    overrides = {} if args.population is None else {"population_size": args.population}
    workers = None
    if args.workers is not None:
        from nwot.search.async_pool import Workers

        workers = Workers(args.workers, address=args.address, gpus_per_worker=args.gpus_per_worker)
    t0 = time.perf_counter()
    res = run_lse(args.preset, seed=seed, data=train, inherit=variant != "no-inherit",
                  screen_threshold=args.screen_threshold if variant.endswith("+naswot") else None,
                  seconds=args.seconds, checkpoint_dir=work / "ckpt" / variant, overrides=overrides,
                  test=test, test_images=args.test_images, progress=progress, workers=workers)
    bar.close()
    out = {"variant": variant, "seed": seed, "wall_seconds": time.perf_counter() - t0, "commit": args.commit,
           "command": command_line(__file__, args.argv), "result": res.to_dict()}
    tmp = done.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, default=str))
    os.replace(tmp, done)
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    args.commit, args.argv = git_label(), argv  # recorded with every run as it finishes
    import pandas as pd
    import torch

    from nwot.evaluators.train import cifar10_data
    from nwot.paths import shared_data_dir, user_data_dir
    from nwot.search.lse_run import lse_preset
    from nwot.spaces import get_space

    torch.set_num_threads(args.threads)
    data_dir = args.data_dir or user_data_dir() or shared_data_dir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the staged CIFAR-10 has 1 of the 5 training batch files
        train, test = cifar10_data(data_dir), cifar10_data(data_dir, train=False)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    preset = lse_preset(args.preset, **({} if args.population is None else {"population_size": args.population}))
    space = get_space("lse", image=preset.image)
    # seed-major order: the variants of one seed run back to back, under similar machine load
    runs = [run_one(v, s, args, train, test, work) for s in range(args.seeds) for v in args.variants]

    rows, traces = [], []
    for r in runs:
        res = r["result"]
        evals = [t for t in res["trace"] if t["kind"] == "eval"]
        best = _genome_stats(space, res["best_arch"])
        rows.append({"variant": r["variant"], "seed": r["seed"], "best_val_acc": res["best_signal"],
                     "test_acc": res["final"].get("test_accuracy"), "models_trained": res["n_evals"],
                     "charged_seconds": res["used_time"], "wall_seconds": r["wall_seconds"],
                     "screen_seconds": sum(t["cost"] for t in res["trace"] if t["kind"] == "score"),
                     "screened_out": res["config"]["stats"].get("screened_out", 0),
                     "failed": res["config"]["stats"].get("failed", 0),
                     "mutation_retries": res["config"]["stats"].get("mutation_retries", 0),
                     **{f"best_{k}": v for k, v in best.items()}, "best_arch": res["best_arch"]})
        for t in evals:
            traces.append({"variant": r["variant"], "seed": r["seed"], "step": t["step"], "val_acc": t["signal"],
                           "cost": t["cost"], "time": t["time"], "best_so_far": max(t["best_signal"], t["signal"]),
                           **_genome_stats(space, t["arch"])})
    out = Path(args.out)
    tag = "" if args.preset == "cpu_tiny" else f"_{args.preset}"
    df, tr = pd.DataFrame(rows), pd.DataFrame(traces)
    # equal numbers of trained models: best-so-far after the K first models, K = the fewest any run trained
    k_models = int(df["models_trained"].min())
    at_k = tr.groupby(["variant", "seed"]).head(k_models).groupby(["variant", "seed"])["best_so_far"].max()
    df["best_val_at_k_models"] = [float(at_k[(v, s)]) for v, s in zip(df["variant"], df["seed"])]
    df["seconds_per_model"] = df["charged_seconds"] / df["models_trained"]
    df.to_csv(out / f"lse_open_space{tag}_runs.csv", index=False)
    with lzma.open(out / f"lse_open_space{tag}_traces.csv.xz", "wt") as f:
        tr.to_csv(f, index=False)
    summary = {}
    for v, g in df.groupby("variant", sort=False):
        summary[v] = {"runs": len(g), **{k: {"mean": float(g[k].mean()), "std": float(g[k].std(ddof=0)),
                                             "values": [float(x) for x in g[k]]}
                                         for k in ("best_val_acc", "test_acc", "models_trained", "charged_seconds",
                                                   "wall_seconds", "screen_seconds", "best_convs", "best_channels",
                                                   "best_val_at_k_models", "seconds_per_model")}}
    dev = "cuda" if torch.cuda.is_available() and args.preset == "gpu" else "cpu"
    commits = sorted({r.get("commit", "unknown") for r in runs})
    meta = {"command": command_line(__file__, argv), "commit": commits[0] if len(commits) == 1 else commits,
            "machine": machine(device=dev),
            "preset": args.preset, "preset_config": {"train": preset.train.key(), "population_size":
                                                     preset.population_size, "image": list(preset.image),
                                                     "initial_lr": preset.initial_lr, "note": preset.note},
            "seconds_per_run": args.seconds, "seeds": args.seeds, "screen_threshold": args.screen_threshold,
            "data": train.name, "test_images": args.test_images, "k_models": k_models,
            "max_params": int(tr["params"].max()), "summary": summary}
    (out / f"lse_open_space{tag}.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")
    plot(tr, df, out / f"lse_open_space{tag}.png", meta)
    write_md(df, meta, out / f"lse_open_space{tag}.md")
    print((out / f"lse_open_space{tag}.md").read_text())
    return 0


def _curve(g, x: str, grid):
    """Best-so-far validation accuracy of one run at each grid point of column ``x`` (nan before the first)."""
    import numpy as np

    xs, ys = g[x].to_numpy(), g["best_so_far"].to_numpy()
    idx = np.searchsorted(xs, grid, side="right") - 1
    return np.where(idx >= 0, ys[np.clip(idx, 0, None)], np.nan)


def plot(tr, df, path: Path, meta) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    warnings.filterwarnings("ignore", message="(Mean of empty slice|All-NaN slice)")  # before a run's 1st model
    tr = tr.copy()
    tr["models"] = tr.groupby(["variant", "seed"]).cumcount() + 1
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    panels = ((axes[0], "time", "charged seconds (training + scoring)"), (axes[1], "models", "models trained"))
    for ax, x, label in panels:
        hi = tr[x].max()
        grid = np.linspace(0, hi, 300)
        for v, g in tr.groupby("variant", sort=False):
            curves = np.array([_curve(run, x, grid) for _, run in g.groupby("seed")])
            mean = np.nanmean(curves, axis=0)
            ax.plot(grid, mean, label=f"{v} ({len(curves)} seeds)")
            ax.fill_between(grid, np.nanmin(curves, axis=0), np.nanmax(curves, axis=0), alpha=0.2)
        ax.set_xlabel(label)
        ax.set_ylabel("best-so-far validation accuracy (%)")
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle(f"LSE on its own space, {meta['preset']} preset (mean, min-max over seeds); commit "
                 f"{str(meta['commit'])[:10]}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _pm(s: dict, k: str, fmt: str = ".1f") -> str:
    m, sd = s[k]["mean"], s[k]["std"]
    return "–" if math.isnan(m) else f"{m:{fmt}} ± {sd:{fmt}}"


def write_md(df, meta, path: Path) -> None:
    m = meta["machine"]
    lines = [f"# Large-scale evolution on its own space ({meta['preset']} preset)", "",
             f"Generated by `{meta['command']}` at commit `{meta['commit']}` on {m['cpu_model']} "
             f"({m['threads']} torch thread{'s' if m['threads'] != 1 else ''}, device {m.get('device')}). "
             f"Each run: {meta['seconds_per_run']:.0f} charged seconds, population "
             f"{meta['preset_config']['population_size']}, training `{meta['preset_config']['train']}` per model "
             f"(the individual's learning-rate gene replaces `lr`; `seed` = the run's seed), data "
             f"`{meta['data']}`; report on {meta['test_images']} CIFAR-10 test images. NASWOT screen threshold "
             f"{meta['screen_threshold']}.", "",
             f"| variant | runs | best val acc (%) | test acc of the chosen model (%) | models trained | "
             f"s per model | best val after {meta['k_models']} models | wall s per run | scoring s | "
             f"convs / channels of the chosen model |", "|---|---|---|---|---|---|---|---|---|---|"]
    for v, s in meta["summary"].items():
        lines.append(f"| {v} | {s['runs']} | {_pm(s, 'best_val_acc')} | {_pm(s, 'test_acc')} | "
                     f"{_pm(s, 'models_trained', '.0f')} | {_pm(s, 'seconds_per_model', '.2f')} | "
                     f"{_pm(s, 'best_val_at_k_models')} | {_pm(s, 'wall_seconds', '.0f')} | "
                     f"{_pm(s, 'screen_seconds')} | {_pm(s, 'best_convs')} / {_pm(s, 'best_channels', '.0f')} |")
    lines += ["", "Per run:", "", "| variant | seed | best val | test | models | screened out | failed |",
              "|---|---|---|---|---|---|---|"]
    for _, r in df.iterrows():
        lines.append(f"| {r['variant']} | {r['seed']} | {r['best_val_acc']:.1f} | {r['test_acc']:.1f} | "
                     f"{r['models_trained']} | {r['screened_out']} | {r['failed']} |")
    lines += ["", PAPER_NOTE.format(max_params=meta["max_params"], seconds=meta["seconds_per_run"])]
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
