from replcheck.model import topology as t


def test_all_to_all_links_every_ordered_pair():
    assert t.all_to_all(3).edges == ((0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1))


def test_all_to_all_never_forwards():
    topo = t.all_to_all(4)
    assert topo.origin_targets(2) == (0, 1, 3)
    assert all(topo.forward_targets(d, s) == () for s, d in topo.edges)


def test_ring_sends_and_forwards_to_successor_only():
    topo = t.ring(4)
    assert topo.edges == ((0, 1), (1, 2), (2, 3), (3, 0))
    assert topo.origin_targets(3) == (0,)
    assert topo.forward_targets(1, 0) == (2,)


def test_star_spoke_sends_to_hub_and_hub_forwards_to_other_spokes():
    topo = t.star(4, hub=1)
    assert topo.origin_targets(0) == (1,)
    assert topo.origin_targets(1) == (0, 2, 3)
    assert topo.forward_targets(1, 2) == (0, 3)
    assert topo.forward_targets(0, 1) == ()


def test_custom_floods_to_all_but_the_sender():
    topo = t.custom(3, [(0, 1), (1, 2), (1, 0), (2, 0)])
    assert topo.forward_targets(1, 0) == (2,)
    assert topo.origin_targets(1) == (0, 2)
    assert set(topo.graph().edges) == {(0, 1), (1, 2), (1, 0), (2, 0)}
