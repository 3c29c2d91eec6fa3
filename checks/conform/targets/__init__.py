"""Conformance targets: real products behind :class:`..target.Target`."""
