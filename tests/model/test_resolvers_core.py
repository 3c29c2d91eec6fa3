"""Hand-checked merges of the core resolvers."""

from replcheck.model.resolvers.lww import LWW
from replcheck.model.resolvers.mv_register import MVRegister

# writes table: index -> (ts, happens-before bitmask)
W = (((0,), 0b000), ((10,), 0b000), ((10,), 0b001))


def test_lww_keeps_the_larger_timestamp_in_either_order():
    r = LWW(((0,), (1,), (2,)))
    assert r.apply(r.apply((), 0, W, True), 1, W, False) == (1,)
    assert r.apply(r.apply((), 1, W, True), 0, W, False) == (1,)


def test_lww_breaks_equal_timestamps_by_the_tie_rank():
    r = LWW(((0,), (2,), (1,)))
    assert r.apply((2,), 1, W, False) == (1,)
    assert r.apply((1,), 2, W, False) == (1,)


def test_lww_incoming_loses_keeps_what_it_holds_on_a_tie():
    r = LWW(((), (), ()))
    assert r.apply((2,), 1, W, False) == (2,)
    assert r.apply((1,), 2, W, False) == (1,)


def test_lww_discards_even_a_local_write_stamped_behind():
    r = LWW(((0,), (0,), (0,)))
    assert r.apply((1,), 0, W, True) == (1,)


def test_mv_register_keeps_concurrent_writes_as_siblings():
    r = MVRegister()
    assert r.apply((0,), 1, W, False) == (0, 1)


def test_mv_register_write_replaces_the_siblings_it_has_seen():
    r = MVRegister()
    assert r.apply((0,), 2, W, False) == (2,)          # write 2 saw write 0
    assert r.apply((2,), 0, W, False) == (2,)          # a stale write arriving late changes nothing
    assert r.apply((0, 1), 2, W, False) == (1, 2)      # it did not see write 1
