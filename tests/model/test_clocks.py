from hypothesis import given
from hypothesis import strategies as st

from replcheck.model import clocks


def test_wall_timestamp_is_physical_time_and_observing_changes_nothing():
    c, ts = clocks.tick("wall", 0, 70 - 100)
    assert ts == (-30,)
    assert clocks.observe("wall", c, (500,)) == c


def test_lamport_ticks_past_everything_seen():
    c = clocks.observe("lamport", 0, (7,))
    c, ts = clocks.tick("lamport", c, 0)
    assert ts == (8,)


def test_hlc_keeps_a_causally_later_write_ahead_despite_a_slow_clock():
    # us-east saw alice's write stamped (0, 0); its own clock reads -30.
    c = clocks.observe("hlc", clocks.initial("hlc"), (0, 0))
    _, ts = clocks.tick("hlc", c, -30)
    assert ts == (0, 1) and ts > (0, 0)


@given(st.lists(st.tuples(st.booleans(), st.integers(-200, 200)), max_size=12))
def test_hlc_and_lamport_stamp_every_commit_after_everything_seen(events):
    for kind in ("lamport", "hlc"):
        c = clocks.initial(kind)
        seen = []
        for local, t in events:
            if local:
                c, ts = clocks.tick(kind, c, t)
                assert all(ts > s for s in seen)
                seen.append(ts)
            else:
                ts = (t,) if kind == "lamport" else (t, abs(t) % 3)
                c = clocks.observe(kind, c, ts)
                seen.append(ts)
