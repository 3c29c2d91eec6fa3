"""Conformance: run the model's schedules against real products and
compare what they end with (docs/conformance.md)."""
