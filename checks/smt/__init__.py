"""Z3-backed questions about replication designs (docs/model.md §7).

This package is the project's one z3 boundary: no module outside
``checks/smt/`` imports z3.  Each module answers one kind of question and
returns frozen result dataclasses; :mod:`checks.smt.render` turns them into
text, and the CLI prints it.

- :mod:`checks.smt.skew` — clock offsets and commit times under which LWW
  over wall clocks loses a write, and the least skew at which it can.
- :mod:`checks.smt.laws` — commutativity, associativity and idempotence of
  merge functions over symbolic states.
- :mod:`checks.smt.iconfluence` — I-confluence of a set of operations for an
  invariant (Bailis et al., VLDB 2015), bounded.
- :mod:`checks.smt.bmc` — a symbolic second engine for ``replcheck check``
  whose verdicts must agree with the explicit-state one.
- :mod:`checks.smt.context` — a fresh z3 context per question, so an answer
  never depends on what ran earlier in the process.

See ``docs/z3.md`` for what each verdict covers.
"""
