"""Proxy scores in the score store: keys that carry the full configuration, and one wide export format.

A stored proxy score's ``score_name`` is the proxy's :meth:`~nwot.proxies.base.Proxy.config_id`
(``snip[mode=clean,bs=32,input=images,dtype=float32,bn=train,init=default,v=1.1]``), and its
``batch_size`` field the images it used, so scores of two configurations live under two keys and are
never mixed: :func:`select_config` refuses a bare proxy name when the store holds more than one
configuration of it, and :func:`proxy_key` is the only way the scoring job builds a key.

The export (:func:`export_wide`) is one CSV (``.csv.xz`` ok): ``index, arch`` and, per proxy,
``<name>`` (the value; empty = NaN) and ``<name>__status``; its provenance JSON lists each column's
config id. :func:`read_wide` reads it back.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import pandas as pd
import torch

from nwot.errors import NwotError
from nwot.proxies.base import Batch, Proxy
from nwot.scores.store import ScoreStore, StoreKey

#: Images the default scoring batch holds: enough for every proxy's paper batch (ZiCo's 2 x 64, NASWOT's 128).
DEFAULT_BATCH_IMAGES = 128


def proxy_key(space: str, dataset: str, batch_seed: int, init_seed: int, proxy: Proxy, mode: str) -> StoreKey:
    """The store key of ``proxy`` scored in ``mode`` (its resolved mode) on a batch of ``batch_seed``."""
    m = proxy.resolve_mode(mode)
    bs = proxy.batch_size if proxy.batch_size is not None else 0
    return StoreKey(space=space, dataset=dataset, batch_seed=int(batch_seed), batch_size=int(bs),
                    init_seed=int(init_seed), score_name=proxy.config_id(m))


def select_config(store: ScoreStore, space: str, dataset: str, name: str, config: Optional[str] = None) -> str:
    """The one stored config id of proxy ``name`` (or check that ``config`` is stored).

    Raises :class:`NwotError` listing what is stored when there is none, or several and ``config`` is None.
    """
    found = store.score_names(space, dataset, prefix=f"{name}[")
    if config is not None:
        if config not in found:
            raise NwotError(f"config {config!r} of proxy {name!r} is not in {store.path}; stored: {found or 'none'}")
        return config
    if len(found) != 1:
        raise NwotError(f"proxy {name!r} has {len(found)} configurations in {store.path} ({found or 'none'}); "
                        f"name one explicitly")
    return found[0]


def parse_config_id(score_name: str) -> Tuple[str, Dict[str, str]]:
    """``"snip[mode=clean,bs=32,...]"`` -> ``("snip", {"mode": "clean", "bs": "32", ...})``."""
    name, sep, rest = score_name.partition("[")
    if not sep or not rest.endswith("]"):
        raise NwotError(f"not a proxy config id: {score_name!r} (expected name[key=value,...])")
    return name, dict(kv.split("=", 1) for kv in rest[:-1].split(","))


def column_label(score_name: str) -> str:
    """Short export column of a config id: the name, ``@reference`` for that mode, ``@bsN`` for a batch other
    than the paper's (``naswot@bs32``); the full id stays in the export's provenance JSON."""
    from nwot.proxies.base import get_proxy

    name, cfg = parse_config_id(score_name)
    label = name + ("@reference" if cfg.get("mode") == "reference" else "")
    paper_bs = get_proxy(name).needs_for(cfg.get("mode", "clean")).batch_size
    if cfg.get("bs") not in ("-", str(paper_bs)):
        label += f"@bs{cfg['bs']}"
    return label


def stored_keys(store: ScoreStore, space: str, dataset: str, batch_seed: int = 0, init_seed: int = 0,
                current_only: bool = True) -> Dict[str, StoreKey]:
    """Column label -> key of every proxy config stored for (space, dataset, seeds). ``current_only`` keeps the
    configs of the current implementation (the version in each id) and drops stale ones."""
    from nwot.proxies.base import get_proxy, list_proxies

    out: Dict[str, StoreKey] = {}
    known = set(list_proxies())
    for sn in store.score_names(space, dataset):
        if "[" not in sn or sn.split("[", 1)[0] not in known:
            continue
        name, cfg = parse_config_id(sn)
        current = get_proxy(name).config_id(cfg["mode"]).split(",v=")[1] == cfg["v"] + "]"
        if current_only and not current:
            continue
        bs = 0 if cfg["bs"] == "-" else int(cfg["bs"])
        key = StoreKey(space, dataset, batch_seed, bs, init_seed, sn)
        if store.count(key):
            out[column_label(sn) + ("" if current else f"@v{cfg['v']}")] = key
    return dict(sorted(out.items()))


def labelled_batch(dataset: str = "cifar10", batch_size: int = DEFAULT_BATCH_IMAGES, seed: int = 0,
                   data_dir=None, num_classes: int = 10) -> Batch:
    """The images of :func:`nwot.scoring_batch` (same seed, same order) with their labels."""
    from nwot.data.datasets import load_dataset, load_embedded_sample, normalise, scoring_batch
    from nwot.paths import user_data_dir

    images = scoring_batch(dataset, batch_size, seed, data_dir=data_dir)
    folder = user_data_dir(data_dir)
    if folder is None:
        raw, labels, _ = load_embedded_sample()
    else:
        raw, labels = load_dataset(dataset, folder, "train")
    order = np.random.default_rng(int(seed)).permutation(len(labels))[:batch_size]
    if not torch.equal(normalise(raw[order], dataset), images):  # the same rule as scoring_batch, checked
        raise NwotError("labelled_batch drew other images than scoring_batch; the sampling rules diverged")
    return Batch(images, torch.as_tensor(np.asarray(labels)[order].astype(np.int64)), num_classes)


def wide_frame(store: ScoreStore, space: str, dataset: str, keys: Mapping[str, StoreKey],
               indices: Optional[Sequence[int]] = None) -> pd.DataFrame:
    """``index, arch, <name>, <name>__status`` for the proxies ``keys`` (name -> exact store key); only the
    cells of ``indices`` when given. A cell missing for a proxy has an empty value and status."""
    frames = []
    for name, key in keys.items():
        df = store.to_frame(key)
        if df.empty:
            continue
        if indices is not None:
            df = df[df["arch_index"].isin(set(int(i) for i in indices))]
        df = df[["arch_index", "arch", "value", "status"]].rename(
            columns={"arch_index": "index", "value": name, "status": f"{name}__status"})
        df[f"{name}__status"] = df[f"{name}__status"].fillna("ok")
        frames.append(df.set_index(["index", "arch"]))
    if not frames:
        return pd.DataFrame(columns=["index", "arch"])
    out = pd.concat(frames, axis=1).reset_index().sort_values("index")
    return out.reset_index(drop=True)


def export_wide(store: ScoreStore, space: str, dataset: str, keys: Mapping[str, StoreKey], path,
                provenance: Optional[dict] = None, indices: Optional[Sequence[int]] = None) -> Tuple[Path, int]:
    """Write :func:`wide_frame` to ``path`` and ``path + '.json'`` (configs + ``provenance``); returns (path, rows)."""
    path = Path(path)
    df = wide_frame(store, space, dataset, keys, indices)
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, float_format="%.10g")
    meta = {"format": "index, arch, <proxy>, <proxy>__status per proxy (empty value = NaN)",
            "space": space, "dataset": dataset, "rows": int(len(df)),
            "scored_per_column": {n: int(df[f"{n}__status"].notna().sum()) if n in df else 0 for n in keys},
            "columns": {n: {"score_name": k.score_name, "batch_size": k.batch_size, "batch_seed": k.batch_seed,
                            "init_seed": k.init_seed} for n, k in keys.items()}}
    meta.update(provenance or {})
    Path(str(path) + ".json").write_text(json.dumps(meta, indent=2, default=str) + "\n")
    return path, int(len(df))


def _read_export(path) -> pd.DataFrame:
    """The CSV of an export as written: only an empty field is missing. pandas' default would also read the
    status ``"nan"`` (a proxy that returned NaN: a stored failure) as missing, i.e. as never scored."""
    df = pd.read_csv(path, keep_default_na=False, na_values=[""])
    for c in df.columns:
        if c not in ("arch",) and not c.endswith("__status") and df[c].dtype == object:
            df[c] = pd.to_numeric(df[c])  # a value column holding only "nan" / "inf" strings
    return df


def read_wide(path, names: Optional[Sequence[str]] = None) -> pd.DataFrame:
    """An export of :func:`export_wide`, indexed by ``index``; ``names`` checks those columns exist. Failure
    statuses are kept as written (``"nan"`` included)."""
    df = _read_export(path)
    missing = [c for c in ["index", "arch", *(names or [])] if c not in df.columns]
    if missing:
        raise NwotError(f"score export {path} lacks columns {missing}; has {list(df.columns)}")
    return df.set_index("index").sort_index()


def configs_in(path) -> Dict[str, str]:
    """Column name -> score_name (config id) of an export, from its provenance JSON."""
    meta = json.loads(Path(str(path) + ".json").read_text())
    return {n: c["score_name"] for n, c in meta["columns"].items()}


def proxy_columns(df: pd.DataFrame) -> List[str]:
    return [c for c in df.columns if c not in ("index", "arch") and not c.endswith("__status")]


def import_wide(store: ScoreStore, path, space: Optional[str] = None, dataset: Optional[str] = None
                ) -> Dict[str, int]:
    """Put the values of an export of :func:`export_wide` back into ``store`` (a committed export into a fresh
    store, so a scoring job resumes instead of starting over). Each column goes under the exact key its
    provenance JSON records (config id, batch size, seeds), with its status; rows already stored are kept.
    The export holds values to 10 significant digits and no per-cell seconds or failure reasons: imported
    rows get ``seconds`` NaN and the reason "imported from <file>". Returns column -> rows added."""
    path = Path(path)
    meta_path = Path(str(path) + ".json")
    if not path.is_file() or not meta_path.is_file():
        raise NwotError(f"score export {path} (and its provenance {meta_path.name}) not found")
    try:
        meta = json.loads(meta_path.read_text())
        cols = meta["columns"]
        space, dataset = space or meta["space"], dataset or meta["dataset"]
    except (ValueError, KeyError) as e:
        raise NwotError(f"provenance {meta_path} is not an export's (missing {e})") from e
    if (meta.get("space"), meta.get("dataset")) != (space, dataset):
        raise NwotError(f"export {path} holds {meta.get('space')}/{meta.get('dataset')}, not {space}/{dataset}")
    from nwot.scores.store import ScoreRow

    df = _read_export(path)
    added: Dict[str, int] = {}
    for name, c in cols.items():
        if name not in df.columns:
            raise NwotError(f"export {path} lacks the column {name!r} its provenance lists")
        status = df.get(f"{name}__status")
        have = status.notna() if status is not None else df[name].notna()
        key = StoreKey(space, dataset, int(c["batch_seed"]), int(c["batch_size"]), int(c["init_seed"]),
                       c["score_name"])
        rows = [ScoreRow(a, float(v) if v == v else float("nan"), float("nan"), int(i), None,
                         None if s == "ok" else s, f"imported from {path.name}")
                for i, a, v, s in zip(df["index"][have], df["arch"][have], df[name][have],
                                      (status[have] if status is not None else ["ok"] * int(have.sum())))]
        added[name] = store.put(key, rows)
    return added
