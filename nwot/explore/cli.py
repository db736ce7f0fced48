"""``nwot explore``: parse the arguments, load the tables, then serve the app or write the static export."""
from __future__ import annotations

import argparse
import sys

from nwot.errors import NwotError

INSTALL_HINT = "the explorer needs dash and plotly: pip install 'nwot[explore]'"


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--space", default=None, help="space shown first: nb201 (default), nb101, nds:<name> ...")
    p.add_argument("--scores", action="append", default=[], metavar="FILE",
                   help="score file (CSV: index, arch, one column per score; repeatable)")
    p.add_argument("--no-stored-scores", action="store_true",
                   help="do not read the repository's stored NASWOT scores (benchmarks/results)")
    p.add_argument("--nats-dir", default=None, metavar="DIR",
                   help="NATS-tss archive folder (NATS-tss-v1_0-3ffb9-simple): training curves in the inspector")
    p.add_argument("--nds", action="append", default=[], metavar="FILE",
                   help="NDS design-space JSON file or folder (facebookresearch/nds data.zip; repeatable)")
    p.add_argument("--nb101-file", default=None, metavar="FILE",
                   help="NASLib zc_nasbench101.json(.xz) (default: shared data, MANIFEST §3)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8050, help="port (default 8050; 0 = any free port)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a non-loopback --host; the app has NO authentication (a warning is printed)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--export", default=None, metavar="FILE.html",
                   help="write one self-contained HTML file (scatter, inspector, filters work without a server) "
                        "and exit")


def config_of(args):
    from nwot.explore.data import ExploreConfig

    return ExploreConfig(scores=tuple(args.scores), stored_scores=not args.no_stored_scores,
                         nats_dir=args.nats_dir, nds=tuple(args.nds), nb101_file=args.nb101_file)


def report(spaces, out=None) -> None:
    """Console copy of what the UI's notice area says (stderr by default)."""
    from nwot.explore.data import SpaceTable

    out = out or sys.stderr
    for name, t in spaces.items():
        if not isinstance(t, SpaceTable):
            print(f"nwot explore: {name}: unavailable: {t.reason}", file=out)
            continue
        for e in t.errors:
            print(f"nwot explore: {name}: error: {e}", file=out)
        for n in t.notices:
            print(f"nwot explore: {name}: note: {n}", file=out)


def cmd_explore(args) -> int:
    try:
        import dash  # noqa: F401
        import plotly  # noqa: F401
    except ImportError as e:
        raise NwotError(f"{INSTALL_HINT} ({e})") from None
    from nwot.explore.data import SpaceTable, load_spaces
    from nwot.explore.server import check_host, check_port

    if not args.export:  # before the tables load: a refused host or a busy port fails at once
        check_host(args.host, args.allow_remote)
        check_port(args.host, args.port)
    cfg = config_of(args)
    spaces = load_spaces(cfg)
    if args.space is not None:
        if args.space not in spaces:
            raise NwotError(f"unknown --space {args.space!r}; allowed: {', '.join(spaces)}")
        if not isinstance(spaces[args.space], SpaceTable):
            raise NwotError(f"--space {args.space} cannot be shown: {spaces[args.space].reason}")
        spaces = {args.space: spaces[args.space], **{k: v for k, v in spaces.items() if k != args.space}}
    report(spaces)
    if args.export:
        from nwot.explore.export import write_export

        table = next(t for t in spaces.values() if isinstance(t, SpaceTable))
        path, size = write_export(table, args.export, cfg)
        print(f"nwot explore: wrote {path} ({size / 1e6:.1f} MB, {table.title})", file=sys.stderr)
        return 0
    from nwot.explore.app import create_app
    from nwot.explore.server import serve

    serve(create_app(spaces, cfg), args.host, args.port, allow_remote=args.allow_remote,
          open_browser=not args.no_browser)
    return 0


def register(subparsers) -> None:
    """Add ``nwot explore`` to the main parser's subcommands."""
    p = subparsers.add_parser(
        "explore", help="interactive offline explorer of a whole search space (local web app)",
        description="Linked views of a whole NAS space in the browser: scatter of any column against any other "
                    "(WebGL, tau / rho), cell inspector, filters, Pareto front, search replay, proxy correlations. "
                    "Everything is served from this machine; no network is used.")
    add_args(p)
    p.set_defaults(func=cmd_explore)
