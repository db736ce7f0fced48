"""``nwot info``: the machine as nwot sees it (torch build, CPU flags, measured kernel choices, CUDA)."""
from __future__ import annotations

import argparse
import json


def cmd_info(args) -> int:
    from nwot.study.machine_info import format_report, machine_report

    report = machine_report(calibrate=not args.no_calibrate)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="torch build, CPU flags, measured kernel choices, threads, CUDA",
                       description="Show what nwot measured on this machine: torch version and CPU dispatch "
                                   "level, the CPU's vector flags (AVX2 / AVX-512 / VNNI / AMX), the Gram product "
                                   "method chosen by timing (with the timings), the pooling and allocator choices, "
                                   "threads / worker processes, and CUDA devices.")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--no-calibrate", action="store_true", help="skip the timings (software and CPU only)")
    p.set_defaults(func=cmd_info)
