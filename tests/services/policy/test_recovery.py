"""Policy's table recovery answers whether it is done as faust's own does, over any sequence
of highwaters and recovered offsets, and the policy app recovers with it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from faust.tables.recovery import Recovery
from hypothesis import given
from hypothesis import strategies as st

from services.policy.app import create_app
from services.policy.recovery import QuickRecovery
from services.policy.settings import PolicySettings
from tests.conftest import SEALING_KEY

offsets = st.one_of(st.none(), st.integers(min_value=0, max_value=5))
steps = st.lists(
    st.tuples(st.integers(min_value=0, max_value=5), offsets, offsets), min_size=1, max_size=40
)


@given(steps)
def test_it_needs_recovery_exactly_when_faust_would(changes: list[tuple[int, int, int]]) -> None:
    recovery = object.__new__(QuickRecovery)  # the two fields the answer reads, nothing else
    recovery.active_highwaters, recovery.active_offsets = Counter(), Counter()
    for tp, highwater, offset in changes:
        recovery.active_highwaters[tp] = highwater
        recovery.active_offsets[tp] = offset
        assert recovery.need_recovery() == Recovery.need_recovery(recovery)


def test_a_partition_caught_up_is_not_taken_for_one_still_behind() -> None:
    recovery = object.__new__(QuickRecovery)
    recovery.active_highwaters = Counter({"a": 10, "b": 10})
    recovery.active_offsets = Counter({"a": 3, "b": 10})
    assert recovery.need_recovery()  # "a" lags, and is looked at first next time
    recovery.active_offsets["a"] = 10
    assert not recovery.need_recovery()
    recovery.active_highwaters["b"] = 12
    assert recovery.need_recovery()


def test_the_policy_app_recovers_its_tables_with_it(tmp_path: Path) -> None:
    settings = PolicySettings(data_dir=tmp_path, sealing_keys=[SEALING_KEY])
    app = create_app(settings)
    assert isinstance(app.tables.recovery, QuickRecovery)
