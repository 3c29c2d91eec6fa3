"""Conformance (docs/conformance.md): the targets that drive real products,
each tested against the real thing where it is installed."""
