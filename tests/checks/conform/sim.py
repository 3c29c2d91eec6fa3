"""A simulated pglogical target for the conformance tests: an independent,
plain-Python statement of pglogical 2.4's apply rules (pglogical_apply_heap.c,
pglogical_conflict.c) behind the same Target interface, so the runner, the
schedules and the model's SQL row semantics are tested without servers.
``bug=`` seeds a known-wrong rule the comparison must catch."""

from __future__ import annotations

import time

from replcheck.checks.conform.target import Committed


class SimPglogical:
    name = "simulated pglogical (tests/checks/conform/sim.py)"

    def __init__(self, bug: str | None = None):
        self.bug = bug
        self.started = 0

    def start(self, setup):
        self.setup = setup
        self.started += 1
        self.reset()

    def reset(self):
        s = self.setup
        self.rows = {l: {} for l in s.leaders}      # key -> (value, origin, ts)
        self.queues = {link: [] for link in s.links}
        self.logs = {l: [] for l in s.leaders}

    def stop(self):
        pass

    def commit(self, leader, op):
        ts = time.monotonic() * 1000 + self.setup.offsets_ms.get(leader, 0)
        rows = self.rows[leader]
        present = op.key in rows
        if op.kind == "insert" and present:
            return Committed(0, "duplicate key value violates unique constraint")
        if op.kind in ("update", "delete") and not present:
            return Committed(0)
        if op.kind == "delete":
            change = ("DELETE", op.key, None, leader, ts)
            del rows[op.key]
        else:
            change = ("UPDATE" if present else "INSERT", op.key, op.value, leader, ts)
            rows[op.key] = (op.value, leader, ts)
        for (a, b), q in self.queues.items():
            if a == leader:
                q.append(change)
        return Committed(1, None, ts)

    def _resolve(self, local_ts, remote_ts) -> bool:
        mode = self.setup.mode
        if mode == "apply_remote":
            return True
        if mode == "keep_local":
            return False
        if mode == "last_update_wins":
            return remote_ts >= local_ts
        return remote_ts <= local_ts

    def deliver(self, src, dst):
        rows = self.rows[dst]
        for kind, key, value, origin, ts in self.queues[(src, dst)]:
            held = rows.get(key)
            if kind == "DELETE":
                if held is None:
                    self.logs[dst].append(f"CONFLICT: remote DELETE on {key}: row not found. Resolution: skip")
                else:
                    del rows[key]
                continue
            if held is None:
                if kind == "UPDATE" and self.bug != "update-of-missing-row-applies":
                    self.logs[dst].append(f"CONFLICT: remote UPDATE on {key}: row not found. Resolution: skip")
                    continue
                rows[key] = (value, origin, ts)
                continue
            if kind == "UPDATE" and held[1] == origin:
                rows[key] = (value, origin, ts)
                continue
            apply = self._resolve(held[2], ts)
            if self.bug == "keep-local-applies" and self.setup.mode == "keep_local":
                apply = True
            self.logs[dst].append(f"CONFLICT: remote {kind} on {key}. Resolution:"
                                  f" {'apply_remote' if apply else 'keep_local'}")
            if apply:
                rows[key] = (value, origin, ts)
        self.queues[(src, dst)] = []

    def read(self, leader):
        return {k: v[0] for k, v in self.rows[leader].items()}

    def log(self, leader):
        out, self.logs[leader] = self.logs[leader], []
        return out
