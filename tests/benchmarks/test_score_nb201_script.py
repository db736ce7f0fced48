"""benchmarks/score_nb201.py: a committed export restores a fresh store (the SQLite store is git-ignored)."""
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import score_nb201  # noqa: E402

from nwot.scores.store import ScoreRow, ScoreStore, StoreKey  # noqa: E402

KEY = StoreKey(space="nb201", dataset="cifar10", batch_seed=0, batch_size=128, init_seed=0, score_name="naswot")


def test_export_then_restore_round_trip(tmp_path):
    rows = [ScoreRow("|a|", 1500.25, 0.3, 0, "cpu"), ScoreRow("|b|", -math.inf, 0.2, 7, "cpu")]
    with ScoreStore(tmp_path / "old.sqlite") as old:
        old.put(KEY, rows)
        meta = score_nb201.export(old, KEY, tmp_path / "e.csv.xz", "cmd", 1)
    assert meta["cells"] == 2 and meta["singular"] == 1 and not meta["complete"]
    with ScoreStore(tmp_path / "new.sqlite") as new:
        assert score_nb201.restore(new, KEY, tmp_path / "e.csv.xz") == 2
        assert score_nb201.restore(new, KEY, tmp_path / "e.csv.xz") == 0  # idempotent
        df = new.to_frame(KEY)
        other = StoreKey(space="nb201", dataset="cifar10", batch_seed=1, batch_size=128, init_seed=0)
        assert score_nb201.restore(new, other, tmp_path / "e.csv.xz") == 0  # another key's export is not used
    assert list(df["arch"]) == ["|a|", "|b|"] and list(df["arch_index"]) == [0, 7]
    assert df["value"].iloc[0] == 1500.25 and df["value"].iloc[1] == -math.inf
