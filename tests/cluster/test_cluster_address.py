"""--cluster HOST:PORT (docs/scale-out.md): a command joins a Ray head
started with Ray's own CLI, ``ray start --head``, and prints what the local
run prints.

The head is started here on 127.0.0.1 with a free port (``--block``, so
ending that one process stops the head and only it), with Ray's token
authentication on and a token of its own (``RAY_AUTH_MODE=token``,
``RAY_AUTH_TOKEN``: nothing read from or written to ``~/.ray``); the
commands run as ``replcheck`` subprocesses (a process joins one Ray
cluster) with the same two variables, and the head is stopped after.
Skipped when Ray is not installed.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

pytest.importorskip("ray")

ROOT = Path(__file__).resolve().parents[2]
SEED = str(ROOT / "specs" / "seed" / "alice-bob-lww.toml")
BIN = Path(sys.executable).parent
TOKEN = uuid.uuid4().hex
AUTH = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": TOKEN}


def _env(auth: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_AUTH", "RAY_ADDRESS"))}
    return {**env, "NO_COLOR": "1", "RAY_USAGE_STATS_ENABLED": "0", **(AUTH if auth else {})}
_SECONDS = re.compile(r"in [0-9.]+ s|[0-9,]+ states/s")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def head(tmp_path_factory):
    """``ray start --head`` on 127.0.0.1:PORT with 2 CPUs; its address."""
    ray_bin = BIN / "ray"
    if not ray_bin.exists():
        pytest.skip("the ray CLI is not installed beside this Python")
    port = _free_port()
    log = tmp_path_factory.mktemp("ray-head") / "head.log"
    env = _env(auth=True)
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(ray_bin), "start", "--head", "--block", "--node-ip-address=127.0.0.1",
                                 f"--port={port}", "--num-cpus=2", "--include-dashboard=false",
                                 "--disable-usage-stats"], stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:   # the head is up once its GCS port takes connections
            if proc.poll() is not None:
                pytest.fail(f"ray start --head exited {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"ray start --head did not come up in 180 s: {log.read_text()[-2000:]}")
                time.sleep(1)
        yield address
    finally:
        proc.send_signal(signal.SIGTERM)   # --block: the head drains and stops its own processes
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        # `ray start` records its head for bare ray.init() calls; `ray stop` would remove that record,
        # ending one --block process does not: remove it if it still names this head.
        current = Path(tempfile.gettempdir()) / "ray" / "ray_current_cluster"
        try:
            if current.read_text().strip().endswith(f":{port}"):
                current.unlink()
        except OSError:
            pass


def _replcheck(*args, timeout=900, auth=True):
    return subprocess.run([str(BIN / "replcheck"), *args], capture_output=True, text=True, timeout=timeout,
                          env=_env(auth), cwd=ROOT)


@pytest.mark.parametrize("args", [
    ["check", SEED],
    ["check", SEED, "--resolver", "lww,mv-register"],
    ["check", SEED, "--simulate", "--runs", "40", "--seed", "3"],
    ["matrix", SEED, "--resolver", "lww,mv-register", "--topology", "all-to-all,ring"],
], ids=["check-one", "check-resolvers", "simulate", "matrix"])
def test_joining_a_ray_head_prints_what_the_local_run_prints(head, args):
    local = _replcheck(*args)
    remote = _replcheck(*args, "--cluster", head)
    assert local.returncode in (0, 1), local.stderr   # a verdict on both sides, not an error
    assert remote.returncode == local.returncode, remote.stderr
    assert _SECONDS.sub("", remote.stdout) == _SECONDS.sub("", local.stdout)


def test_joining_without_the_token_is_one_line_exit_2(head):
    r = _replcheck("check", SEED, "--cluster", head, auth=False, timeout=600)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "RAY_AUTH_MODE=token" in lines[0], r.stderr


def test_an_address_nothing_answers_is_one_line_exit_2():
    r = _replcheck("check", SEED, "--cluster", f"127.0.0.1:{_free_port()}", timeout=300)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "ray start --head" in lines[0], r.stderr
