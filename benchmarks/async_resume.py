"""Asynchronous search on Ray, killed with SIGKILL and resumed: nothing lost, nothing trained twice.

For each strategy (LSE, random, REA, REINFORCE, PNAS, BlockQNN) a controller process
(``tests/_async_driver.py``: ``run(..., workers=K, address=...)`` with real training on the 1,280 CIFAR-10
images shipped in nwot, tiny networks, 2 epochs per candidate) is started on a local Ray cluster, killed
with SIGKILL ``--kills`` times (after 1/(kills+1), 2/(kills+1), ... of its evaluations have been recorded),
and started again until it finishes. Every trained epoch is logged from inside the Ray workers (the
evaluator's epoch callback), which gives the two numbers that matter:

* ``duplicates``: (candidate, epoch) pairs trained more than once (must be 0);
* ``lost``: candidates of the final search whose training never ran, and candidates asked but never told
  (must be 0).

It also records how each resume got the strategy back (``snapshot``: LSE's own; ``replay``: the recorded
history re-run on a fresh strategy), the candidates resubmitted on resume, and the wall time of each session.
This is the long form of ``tests/search/test_async_ray.py::test_a_controller_killed_with_sigkill_resumes`` (which
runs it for LSE only). Results: ``benchmarks/results/async_resume.{json,md}``; finished strategies are kept
under ``--work`` and skipped when the script is rerun.

    python benchmarks/async_resume.py [--strategies lse pnas ...] [--kills 2] [--workers 2]
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TESTS = REPO / "tests"
sys.path.insert(0, str(TESTS))

from nwot.study.provenance import command_line, git_label, machine  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
STRATEGIES = ("lse", "random", "rea", "reinforce", "pnas", "blockqnn")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--strategies", nargs="+", default=list(STRATEGIES), choices=STRATEGIES)
    p.add_argument("--kills", type=int, default=2, help="SIGKILLs per search (default 2)")
    p.add_argument("--workers", type=int, default=2, help="Ray CPUs = workers (the driver uses 2 workers)")
    p.add_argument("--work", default=str(RESULTS / "work" / "async_resume"))
    p.add_argument("--out", default=str(RESULTS))
    return p.parse_args(argv)


def _count(path: Path, kind: str) -> int:
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT COUNT(*) FROM events WHERE kind=?", (kind,)).fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def one(strategy: str, address: str, work: Path, kills: int) -> dict:
    from _async_driver import SETTINGS
    from _async_helpers import trained_epochs

    from nwot.search.async_store import AsyncStore

    n = SETTINGS[strategy][6]
    folder = work / strategy
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    cmd = [sys.executable, str(TESTS / "_async_driver.py"), address, str(folder), strategy, str(n)]
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{TESTS}"}
    sessions, killed_at = [], []
    for j in range(1, kills + 1):
        target = max(1, round(n * j / (kills + 1)))
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while _count(folder / "state.sqlite", "result") < target and proc.poll() is None:
            time.sleep(0.1)
        if proc.poll() is not None:
            raise RuntimeError(f"{strategy}: the controller ended before kill {j}: {proc.stderr.read()[-2000:]!r}")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        sessions.append(time.perf_counter() - t0)
        killed_at.append(_count(folder / "state.sqlite", "result"))
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    sessions.append(time.perf_counter() - t0)
    if done.returncode != 0:
        raise RuntimeError(f"{strategy}: the last session failed: {done.stderr[-3000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    with AsyncStore(folder / "state.sqlite") as store:
        cands = store.candidates(1)
        events = store.events(1)
    epochs = SETTINGS[strategy][4]["epochs"]
    counts = collections.Counter(trained_epochs(folder / "epochs.log"))
    archs = {c.arch for c in cands.values()}
    told = [c for e in events if e.kind == "tell" for c in e.payload["cids"]]
    return {"strategy": strategy, "evaluations": n, "epochs_per_candidate": epochs, "kills": kills,
            "results_at_kills": killed_at, "n_evals": out["n_evals"], "sessions": out["asynchronous"]["sessions"],
            "resume": "snapshot" if strategy == "lse" else "replay",
            "candidates": out["asynchronous"]["candidates"], "distinct_archs": len(archs),
            "trained_epochs": sum(counts.values()), "expected_epochs": epochs * len(archs),
            "duplicates": sum(v - 1 for v in counts.values() if v > 1),
            "lost": len(archs - {a for a, _ in counts}) + len(set(cands) - set(told)),
            "told_twice": len(told) - len(set(told)), "session_wall_seconds": sessions,
            "best_signal": out["best_signal"], "commit": git_label()}


def main(argv=None) -> int:
    args = parse_args(argv)
    import ray

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    ray.init(num_cpus=args.workers, include_dashboard=False,
             runtime_env={"env_vars": {"PYTHONPATH": f"{REPO}{os.pathsep}{TESTS}"}})
    address = ray.get_runtime_context().gcs_address
    rows = []
    try:
        for s in args.strategies:
            done = work / f"{s}.json"
            if done.is_file():
                rows.append(json.loads(done.read_text()))
                continue
            row = one(s, address, work, args.kills)
            print(json.dumps(row), flush=True)
            done.write_text(json.dumps(row))
            rows.append(row)
    finally:
        ray.shutdown()
    commits = sorted({r.get("commit", "unknown") for r in rows})
    meta = {"command": command_line(__file__, argv), "commit": commits[0] if len(commits) == 1 else commits,
            "machine": machine(device="cpu"),
            "workers": 2, "ray_cpus": args.workers, "rows": rows}
    out = Path(args.out)
    (out / "async_resume.json").write_text(json.dumps(meta, indent=2) + "\n")
    m = meta["machine"]
    lines = ["# Asynchronous search killed with SIGKILL and resumed", "",
             f"Generated by `{meta['command']}` at commit `{meta['commit']}` on {m['cpu_model']} "
             f"({m['cpu_count']} cores, shared); a local Ray of {args.workers} CPUs, 2 workers per search, real "
             f"training of tiny networks on the 1,280 CIFAR-10 images shipped in nwot (settings: "
             f"`tests/_async_driver.py`). Each search was killed {args.kills} times with SIGKILL and restarted "
             f"with the same command until it finished.", "",
             "| strategy | resume | evaluations | results recorded at the kills | sessions | epochs trained / "
             "expected | trained twice | lost | told twice | wall s per session |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['strategy']} | {r['resume']} | {r['n_evals']} / {r['evaluations']} | "
                     f"{', '.join(map(str, r['results_at_kills']))} | {r['sessions']} | {r['trained_epochs']} / "
                     f"{r['expected_epochs']} | {r['duplicates']} | {r['lost']} | {r['told_twice']} | "
                     f"{', '.join(f'{x:.0f}' for x in r['session_wall_seconds'])} |")
    lines += ["", "*Trained twice*: (candidate, epoch) pairs trained more than once, counted from the workers' epoch "
              "log. *Lost*: candidates never trained or never told. *Resume*: LSE restores its own snapshot, the "
              "others replay the recorded history on a fresh strategy (each replayed ask must return the recorded "
              "candidates). Wall seconds include starting Python, connecting to Ray and the workers' imports "
              "(about 5-10 s per session on this shared machine)."]
    (out / "async_resume.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
