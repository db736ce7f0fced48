"""The explorer's view state in the URL: ``?space=nb201&x=...&y=...&color=...&cell=6111&log=x``.

:func:`view_from_query` never fails: an unknown space, column or cell falls back to the default and
adds a notice naming the bad value and what is allowed, so a stale or mistyped link still opens.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Dict, List, Mapping, Optional, Tuple
from urllib.parse import parse_qs, urlencode

from nwot.explore.data import Loaded, SpaceTable

PARAMS = ("space", "x", "y", "color", "cell", "log")


@dataclass(frozen=True)
class ViewState:
    space: str
    x: str
    y: str
    color: Optional[str]
    cell: Optional[int] = None
    log_x: bool = False
    log_y: bool = False

    def to_query(self) -> str:
        q = {"space": self.space, "x": self.x, "y": self.y}
        if self.color:
            q["color"] = self.color
        if self.cell is not None:
            q["cell"] = str(self.cell)
        logs = "".join(a for a, on in (("x", self.log_x), ("y", self.log_y)) if on)
        if logs:
            q["log"] = logs
        return "?" + urlencode(q)


def default_view(table: SpaceTable) -> ViewState:
    d = table.defaults
    return ViewState(table.name, d["x"], d["y"], d.get("color"))


def first_table(spaces: Mapping[str, Loaded]) -> SpaceTable:
    return next(t for t in spaces.values() if isinstance(t, SpaceTable))


def view_from_query(spaces: Mapping[str, Loaded], query: Optional[str]) -> Tuple[ViewState, List[str]]:
    """The view a URL query asks for, and a notice per parameter that had to fall back."""
    q: Dict[str, str] = {k: v[-1] for k, v in parse_qs((query or "").lstrip("?"), keep_blank_values=True).items()}
    notices: List[str] = []
    unknown = sorted(set(q) - set(PARAMS))
    if unknown:
        notices.append(f"URL: unknown parameter(s) {', '.join(map(repr, unknown))} ignored; "
                       f"allowed: {', '.join(PARAMS)}")
    tables = {k: t for k, t in spaces.items() if isinstance(t, SpaceTable)}
    table = first_table(spaces)
    if "space" in q:
        if q["space"] in tables:
            table = tables[q["space"]]
        else:
            why = f" ({spaces[q['space']].reason})" if q["space"] in spaces else ""
            notices.append(f"URL: space {q['space']!r} cannot be shown{why}; showing {table.name!r} "
                           f"(available: {', '.join(tables)})")
    view = default_view(table)
    for key in ("x", "y", "color"):
        if key in q:
            if q[key] in table.roles:
                view = replace(view, **{key: q[key]})
            else:
                notices.append(f"URL: unknown column {q[key]!r} for {key} in {table.name}; using the default "
                               f"{getattr(view, key)!r}")
    if "cell" in q:
        try:
            view = replace(view, cell=table.check_index(q["cell"]))
        except ValueError as e:
            notices.append(f"URL: cell {q['cell']!r} ignored: {e}")
    if "log" in q:
        bad = set(q["log"]) - {"x", "y"}
        if bad:
            notices.append(f"URL: log={q['log']!r} ignored; allowed: x, y, xy")
        else:
            view = replace(view, log_x="x" in q["log"], log_y="y" in q["log"])
    return view, notices
