"""replcheck's checks: invariants, verdicts, traces and their rendering, the CLI.

Everything here builds on :mod:`model`; nothing in :mod:`model` imports it.
"""
