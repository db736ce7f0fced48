"""Score store: idempotent puts, -inf survives, missing() skips stored archs, pandas export."""
import math

from nwot.scores.store import ScoreRow, ScoreStore, StoreKey

KEY = StoreKey(space="nb201", dataset="cifar10", batch_seed=0, batch_size=128, init_seed=0)


def test_put_missing_and_no_duplicates(tmp_path):
    with ScoreStore(tmp_path / "s.sqlite") as st:
        assert st.missing(KEY, ["a", "b", "a", "c"]) == ["a", "b", "c"]
        assert st.put(KEY, [ScoreRow("a", 1.5, 0.1, 0), ScoreRow("b", -math.inf, 0.2, 1)]) == 2
        # re-putting a stored arch changes nothing (first value wins) and adds no row
        assert st.put(KEY, [ScoreRow("a", 99.0, 0.1, 0)]) == 0
        assert st.missing(KEY, ["a", "b", "c"]) == ["c"]
        other = StoreKey(space="nb201", dataset="cifar10", batch_seed=1, batch_size=128, init_seed=0)
        assert st.missing(other, ["a"]) == ["a"]
        df = st.to_frame(KEY)
    assert list(df["arch"]) == ["a", "b"]
    assert df["value"].iloc[0] == 1.5 and df["value"].iloc[1] == -math.inf
    assert list(df["arch_index"]) == [0, 1]


def test_reopen_sees_committed_rows(tmp_path):
    p = tmp_path / "s.sqlite"
    with ScoreStore(p) as st:
        st.put(KEY, [ScoreRow("x", 2.0, 0.5)])
    with ScoreStore(p) as st:
        assert st.count(KEY) == 1 and st.count() == 1
