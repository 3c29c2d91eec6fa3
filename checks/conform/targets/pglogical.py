"""PostgreSQL + pglogical 2 as a conformance target (docs/conformance.md
"Targets"; the interface is :mod:`checks.conform.target`).

``PglogicalTarget(dsns=None, *, logs=None, bindir=None, workdir=None,
timeout=30.0, prefix="replcheck", signal_manager=None)``; besides the
``Target`` methods it has ``dsn(leader)`` and ``logfile(leader)`` (for
psql and the log while debugging), ``folder``, and ``log(leader,
detail=True)`` appends each conflict's ``DETAIL`` line (tuples, origins,
commit timestamps).  ``timeout`` bounds every wait (server start, a
delivery, a worker stopping, each statement); past it the call raises
``TargetUnavailable``.  :func:`available` says whether embedded nodes can
run here.

Two ways to get nodes, one per model leader:

* **Embedded** (the default, ``PglogicalTarget()``): the target starts 2 or
  more PostgreSQL servers itself.  One ``initdb`` in a temporary folder
  (under /dev/shm when that is a tmpfs with 1 GiB free, else the system's
  temporary folder; ``workdir`` overrides), copied once per node; each server listens on a free port on 127.0.0.1 and
  on a unix socket in its own folder; ``wal_level = logical``,
  ``track_commit_timestamp = on``, ``shared_preload_libraries =
  'pglogical'``, ``pglogical.conflict_resolution`` = ``setup.mode``,
  ``pglogical.conflict_log_level = log`` (the ``CONFLICT: ...`` lines reach
  the node's log file, ``<tmp>/n<i>/server.log``), and
  ``pglogical.synchronous_commit = on`` (otherwise the apply worker confirms
  a delivery only after its next idle wake-up, a second later).  PostgreSQL
  15.18 has no ``output_plugin_libraries`` setting (the server refuses to
  start with it): ``shared_preload_libraries`` is all pglogical needs.
  A leader with a clock offset (``setup.offsets_ms``) runs its postmaster
  under libfaketime (``LD_PRELOAD``, ``FAKETIME="-2.000"``): ``now()``,
  commit timestamps and pglogical's conflict timestamps are all shifted.
  Run as root, the servers run as the unprivileged ``postgres`` user (the
  Debian package creates it); otherwise as the current user.  ``stop()``
  stops them and deletes the folder; they are also stopped at interpreter
  exit (``atexit``) and by ``with PglogicalTarget() as t:``.  The servers
  run in their own session, so a Ctrl-C reaches only this process, whose
  cleanup then stops them; and a small watchdog process stops them and
  deletes the folder when this process dies without cleaning up (SIGTERM,
  SIGKILL).

* **Nodes you already run**: ``PglogicalTarget(dsns={"n1": "host=...
  dbname=...", ...})``, one libpq connection string per leader.  Each node
  must already have: PostgreSQL with ``shared_preload_libraries`` including
  ``pglogical``, ``wal_level = logical``, ``track_commit_timestamp = on``,
  ``pglogical.synchronous_commit = on`` (recommended: deliveries are slow
  without it), free ``max_replication_slots`` / ``max_wal_senders`` /
  ``max_worker_processes`` for one link per pair; the connecting role must
  be a superuser; each DSN is also used by the *other* servers as the
  provider DSN of their subscriptions, so it must work from there, and
  ``pg_hba.conf`` must allow those replication connections.  The target
  creates everything else itself, every name starting with ``prefix``
  (default ``replcheck``): the ``pglogical`` extension if missing, a
  pglogical node per database (unless the database already has one, which
  is then used and left alone), the table ``<prefix>_kv``, the replication
  set ``<prefix>`` holding only that table, and one subscription
  ``<prefix>_<i>_<j>`` per link; it sets ``pglogical.conflict_resolution``
  for the database (``ALTER DATABASE ... SET``, read by each new apply
  worker).  ``stop()`` drops all of these again (the pglogical node only if
  the target created it) and resets the database setting.  Clock offsets
  need embedded nodes.  ``log()`` reads a node's log through
  ``pg_current_logfile()`` (``logging_collector = on``) or from the local
  path given in ``logs={leader: path}``; otherwise it returns ``[]``.  It
  reads the whole server's log: two leaders in databases of one server see
  each other's lines.

How the target drives pglogical:

* One table, ``kv(k text primary key, v text)``: a model key is a row's
  primary key.  ``commit`` runs one statement in one transaction:
  ``insert`` (a duplicate key is ``Committed(rows=0, error=<message>)``),
  ``update`` (``... WHERE k = ...``), ``upsert`` (``INSERT ... ON CONFLICT
  (k) DO UPDATE``), ``delete``; ``commit_ts_ms`` is
  ``pg_xact_commit_timestamp`` of the transaction, on the node's clock.

* Each link ``(src, dst)`` is a pglogical subscription at ``dst`` from
  ``src`` with ``forward_origins := '{}'``, ``synchronize_structure :=
  false``, ``synchronize_data := false``.  Links are **held**: every
  subscription is disabled except inside :meth:`PglogicalTarget.deliver`,
  which takes ``pg_current_wal_flush_lsn()`` at ``src`` (the walsender
  sends only flushed WAL; every commit of ours is flushed), returns at once
  if the link's slot already confirmed that position (nothing pending),
  else enables the subscription and waits (bounded by ``timeout``) until
  the slot's ``confirmed_flush_lsn`` reaches it.  With
  ``pglogical.synchronous_commit = on`` the apply worker confirms a
  position only once every transaction before it is committed and flushed
  at ``dst``, so ``dst``'s rows then show everything ``src`` committed
  before the call.  It then disables the subscription (``immediate``) and
  waits until the apply worker at ``dst`` and the walsender at ``src`` are
  gone, so nothing more can arrive until the next delivery.

  pglogical's manager worker keeps the node's ``local_node`` lock for up to
  a second after it starts an apply worker (it sleeps 1 s waiting for the
  worker to attach and nothing wakes it), and ``alter_subscription_disable``
  waits for that lock.  For embedded nodes the target wakes the manager
  with SIGUSR1 (which only sets its latch, as the postmaster's own
  start/stop notices do) once the worker is streaming; a delivery then
  takes ~20 ms instead of ~1 s.  Nodes you run get that signal only with
  ``signal_manager=True`` (their servers must then run on this machine
  under a user this process may signal); otherwise each delivery takes
  about a second.

* ``reset()``: every link is held already; ``TRUNCATE`` the table on every
  node (as ``session_replication_role = replica``, so pglogical's truncate
  trigger queues nothing), then move every link's slot past it
  (``pg_replication_slot_advance`` to the provider's flush position), so
  the truncation and anything still pending from the previous schedule is
  never sent (a subscriber asking for an older position is started at the
  slot's ``confirmed_flush_lsn``), and skip the log lines written so far.
  Old rows are gone with their commit timestamps and origins.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from dataclasses import dataclass, field

from ..target import SQL_KINDS, Committed, Setup, TargetOp, TargetUnavailable

PG_MAJOR = "15"
DEFAULT_BINDIR = f"/usr/lib/postgresql/{PG_MAJOR}/bin"
INSTALL = f"apt-get install postgresql-{PG_MAJOR} postgresql-{PG_MAJOR}-pglogical faketime"
MODES = ("apply_remote", "keep_local", "last_update_wins", "first_update_wins")
SERVER_USER = "postgres"            # the unprivileged user servers run as under root
DB_USER = "postgres"                # the superuser initdb creates
_FAKETIME_GLOBS = ("/usr/lib/*/faketime/libfaketime.so.1", "/usr/lib/faketime/libfaketime.so.1",
                   "/usr/local/lib/faketime/libfaketime.so.1")
_CONFLICT = re.compile(r"\bCONFLICT:\s.*$")


# ---------------------------------------------------------------- discovery

def _bindir() -> str:
    return os.environ.get("REPLCHECK_PG_BINDIR", DEFAULT_BINDIR)


def _pkglibdir(bindir: str) -> str:
    pg_config = os.path.join(bindir, "pg_config")
    if os.access(pg_config, os.X_OK):
        try:
            out = subprocess.run([pg_config, "--pkglibdir"], capture_output=True, text=True, timeout=10,
                                 cwd="/")
            if out.returncode == 0 and out.stdout.strip():
                return out.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return os.path.normpath(os.path.join(bindir, "..", "lib"))


def faketime_library() -> str | None:
    """The path of libfaketime.so.1, or None."""
    for pattern in _FAKETIME_GLOBS:
        for path in sorted(glob.glob(pattern)):
            if os.path.isfile(path):
                return path
    return None


def _server_account():
    """(uid, gid) to run servers as, or None to run them as ourselves."""
    if os.geteuid() != 0:
        return None
    import pwd
    try:
        pw = pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise TargetUnavailable(f"running as root and there is no '{SERVER_USER}' user to run PostgreSQL as "
                                f"(PostgreSQL refuses root; {INSTALL} creates it)") from None
    return pw.pw_uid, pw.pw_gid


def available() -> str | None:
    """None when embedded PostgreSQL + pglogical (+ libfaketime) nodes can be
    started here, else one line saying what is missing and how to get it."""
    missing = []
    bindir = _bindir()
    for prog in ("initdb", "postgres"):
        if not os.access(os.path.join(bindir, prog), os.X_OK):
            missing.append(f"PostgreSQL {PG_MAJOR} ({bindir}/{prog})")
            break
    else:
        if not os.path.isfile(os.path.join(_pkglibdir(bindir), "pglogical.so")):
            missing.append("pglogical (pglogical.so)")
    if faketime_library() is None:
        missing.append("libfaketime")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        missing.append("psycopg (pip install 'psycopg[binary]')")
    if missing:
        return f"{', '.join(missing)} not found: {INSTALL}"
    try:
        _server_account()
    except TargetUnavailable as e:
        return str(e)
    return None


def _default_workdir() -> str | None:
    """/dev/shm when it is a roomy tmpfs (initdb and the copies take a
    fraction of the time they take on disk), else the system default."""
    try:
        st = os.statvfs("/dev/shm")
        if os.access("/dev/shm", os.W_OK | os.X_OK) and st.f_bavail * st.f_frsize >= 1 << 30:
            return "/dev/shm"
    except OSError:
        pass
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fmt_offset(ms) -> str:
    return f"{float(ms) / 1000:+.3f}"


def _deadline_loop(timeout: float):
    """Yield until ``timeout`` seconds have passed, sleeping a little more
    each round (1 ms up to 20 ms): a bounded poll."""
    end = time.monotonic() + timeout
    pause = 0.001
    while True:
        yield
        if time.monotonic() >= end:
            return
        time.sleep(pause)
        pause = min(pause * 1.5, 0.02)


# --------------------------------------------------------------- the target

@dataclass
class _Node:
    leader: str
    index: int
    dsn: str                        # how we (and the other nodes) connect
    conn: object = None             # psycopg.Connection, autocommit
    datadir: str | None = None      # embedded only
    logpath: str | None = None      # a local file we can read
    proc: subprocess.Popen | None = None
    port: int | None = None
    log_offset: int = 0
    server_log: str | None = None   # DSN mode: pg_current_logfile() last read
    dbname: str = ""
    dboid: int = 0
    node_name: str = ""
    created_node: bool = False
    created_extension: bool = False
    set_mode: bool = False


@dataclass
class _Link:
    src: str
    dst: str
    name: str                       # subscription name (at dst)
    sub_id: int = 0
    slot: str = ""                  # slot name (at src)
    enabled: bool = True


#: A watchdog process per embedded target: it blocks reading a pipe from this
#: process and, once the pipe closes (stop(), exit, or this process killed,
#: even by SIGKILL), stops whatever servers are left in the folder and deletes it.
_WATCHDOG = r"""
import glob, os, shutil, signal, sys, time
folder = sys.argv[1]
sys.stdin.buffer.read()
def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False
pids = []
for path in glob.glob(os.path.join(glob.escape(folder), "n*", "data", "postmaster.pid")):
    try:
        with open(path) as f:
            pids.append(int(f.readline()))
    except (OSError, ValueError):
        pass
for sig, wait in ((signal.SIGQUIT, 10.0), (signal.SIGKILL, 5.0)):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass
    end = time.monotonic() + wait
    while time.monotonic() < end and any(alive(p) for p in pids):
        time.sleep(0.05)
shutil.rmtree(folder, ignore_errors=True)
"""


@dataclass
class _Live:
    """What atexit needs to stop embedded servers (no reference to the target)."""
    procs: list = field(default_factory=list)
    folder: str | None = None
    watchdog: subprocess.Popen | None = None


def _shutdown(live: _Live, wait: float = 10.0) -> None:
    for proc in live.procs:
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGQUIT)          # immediate shutdown: the data is thrown away
            except OSError:
                pass
    for proc in live.procs:
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            try:
                proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                pass
    live.procs.clear()
    if live.folder:
        shutil.rmtree(live.folder, ignore_errors=True)
        live.folder = None
    if live.watchdog is not None:
        try:
            live.watchdog.stdin.close()
            live.watchdog.wait(timeout=wait)
        except (OSError, subprocess.TimeoutExpired):
            pass
        live.watchdog = None


class PglogicalTarget:
    """PostgreSQL + pglogical nodes behind :class:`checks.conform.target.Target`
    (see the module docstring)."""

    def __init__(self, dsns: dict | None = None, *, logs: dict | None = None, bindir: str | None = None,
                 workdir: str | None = None, timeout: float = 30.0, prefix: str = "replcheck",
                 signal_manager: bool | None = None):
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,30}", prefix):
            raise ValueError(f"prefix {prefix!r}: lower-case letters, digits and _ (at most 31)")
        self.dsns = dict(dsns) if dsns else None
        self.logs = dict(logs or {})
        self.bindir = bindir or _bindir()
        self.workdir = workdir
        self.signal_manager = (dsns is None) if signal_manager is None else bool(signal_manager)
        self.timeout = float(timeout)
        self.prefix = prefix
        self.table = "kv" if self.dsns is None else f"{prefix}_kv"
        self.repset = prefix
        self.name = "PostgreSQL + pglogical"
        self.setup: Setup | None = None
        self._nodes: dict[str, _Node] = {}
        self._links: dict[tuple[str, str], _Link] = {}
        self._live = _Live()
        self._finalizer = None

    # ------------------------------------------------------------ lifecycle

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def dsn(self, leader: str) -> str:
        """The libpq connection string of ``leader``'s node (for psql while debugging)."""
        return self._nodes[leader].dsn

    def logfile(self, leader: str) -> str | None:
        """The path of ``leader``'s server log, where this process can read it."""
        return self._nodes[leader].logpath

    @property
    def folder(self) -> str | None:
        """The temporary folder of the embedded nodes (None for given nodes or once stopped)."""
        return self._live.folder

    def start(self, setup: Setup) -> None:
        if self._nodes:
            raise RuntimeError("PglogicalTarget.start: already started (stop() first)")
        if setup.mode not in MODES:
            raise TargetUnavailable(f"pglogical has no conflict_resolution {setup.mode!r} (one of {', '.join(MODES)})")
        if len(setup.leaders) < 2:
            raise TargetUnavailable("pglogical target: at least 2 leaders")
        for src, dst in setup.links:
            if src not in setup.leaders or dst not in setup.leaders or src == dst:
                raise TargetUnavailable(f"pglogical target: bad link {src}->{dst}")
        self.setup = setup
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise TargetUnavailable("psycopg is not installed: pip install 'psycopg[binary]'") from None
        try:
            if self.dsns is None:
                self._start_embedded(setup)
            else:
                self._connect_given(setup)
            self._wire(setup)
            first = self._nodes[setup.leaders[0]]
            version = self._one(first, "show server_version").split()[0]
            plv = self._one(first, "select pglogical.pglogical_version()")
            self.name = f"PostgreSQL {version} + pglogical {plv}"
            for node in self._nodes.values():
                self._skip_log(node)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.dsns is not None and self._nodes:
            self._unwire_given()
        for node in self._nodes.values():
            if node.conn is not None:
                try:
                    node.conn.close()
                except Exception:
                    pass
                node.conn = None
        _shutdown(self._live)
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        self._nodes.clear()
        self._links.clear()

    # ------------------------------------------------------------ embedded

    def _start_embedded(self, setup: Setup) -> None:
        missing = available()
        if missing:
            raise TargetUnavailable(missing)
        offsets = {l: setup.offsets_ms.get(l, 0) or 0 for l in setup.leaders}
        faketime = faketime_library()
        if any(offsets.values()) and faketime is None:
            raise TargetUnavailable(f"clock offsets need libfaketime: {INSTALL}")
        account = _server_account()
        folder = tempfile.mkdtemp(prefix="replcheck-pg-", dir=self.workdir or _default_workdir())
        self._live.folder = folder
        self._finalizer = weakref.finalize(self, _shutdown, self._live)   # runs at exit too
        try:
            self._live.watchdog = subprocess.Popen([sys.executable, "-c", _WATCHDOG, folder], stdin=subprocess.PIPE,
                                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                                   cwd="/", start_new_session=True)
        except OSError:
            pass                            # atexit and stop() still clean up
        as_user = {}
        if account is not None:
            os.chown(folder, *account)
            as_user = dict(user=account[0], group=account[1], extra_groups=[])
        template = os.path.join(folder, "template")
        self._run([os.path.join(self.bindir, "initdb"), "-D", template, "-A", "trust", "-U", DB_USER,
                   "--no-sync", "-E", "UTF8", "--locale=C", "--wal-segsize=1", "--no-instructions"], as_user, "initdb")
        for i, leader in enumerate(setup.leaders, 1):
            node_dir = os.path.join(folder, f"n{i}")
            self._run(["mkdir", "-m", "700", node_dir], as_user, "mkdir")
            self._run(["cp", "-a", template, os.path.join(node_dir, "data")], as_user, "copy the cluster")
            node = _Node(leader=leader, index=i, dsn="", datadir=os.path.join(node_dir, "data"),
                         logpath=os.path.join(node_dir, "server.log"), dbname="postgres",
                         node_name=f"{self.prefix}_{i}")
            self._nodes[leader] = node
        shutil.rmtree(template, ignore_errors=True)
        pending = list(self._nodes.values())
        for attempt in range(3):            # a port taken between probing and binding: try another
            for node in pending:
                self._launch(node, setup.mode, offsets[node.leader], faketime, as_user)
            pending = [n for n in pending if not self._wait_ready(n, retry_port=attempt < 2)]
            if not pending:
                break
        for node in self._nodes.values():
            self._connect(node)

    def _run(self, argv, as_user, what) -> None:
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd="/",
                                 stdin=subprocess.DEVNULL, **as_user)
        except (OSError, subprocess.SubprocessError) as e:
            raise TargetUnavailable(f"{what} failed: {e}") from None
        if out.returncode != 0:
            last = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["(no output)"]
            raise TargetUnavailable(f"{what} failed: {last[0]}")

    def _launch(self, node: _Node, mode: str, offset_ms, faketime, as_user) -> None:
        node.port = _free_port()
        sockdir = os.path.dirname(node.datadir)
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": node.port,
            "unix_socket_directories": f"'{sockdir}'",
            "shared_preload_libraries": "'pglogical'",
            "wal_level": "logical",
            "track_commit_timestamp": "on",
            "max_replication_slots": 16,
            "max_wal_senders": 16,
            "max_worker_processes": 32,
            "max_connections": 30,
            "shared_buffers": "'32MB'",
            "pglogical.conflict_resolution": f"'{mode}'",
            "pglogical.conflict_log_level": "log",
            "pglogical.synchronous_commit": "on",
            "fsync": "off",
            "full_page_writes": "off",
            "wal_writer_delay": "'10ms'",
            "min_wal_size": "'4MB'",
            "max_wal_size": "'32MB'",
            "autovacuum": "off",
            "log_line_prefix": "'%m [%p] '",
            "lc_messages": "'C'",
            "timezone": "'UTC'",
            "log_timezone": "'UTC'",
        }
        with open(os.path.join(node.datadir, "postgresql.auto.conf"), "w") as f:
            f.write("# written by replcheck's pglogical target\n")
            f.writelines(f"{k} = {v}\n" for k, v in settings.items())
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "LD_PRELOAD", "FAKETIME"))}
        env.update(LC_ALL="C", TZ="UTC")
        if offset_ms:
            env.update(LD_PRELOAD=faketime, FAKETIME=_fmt_offset(offset_ms), FAKETIME_DONT_RESET="1")
        node.dsn = f"host={sockdir} port={node.port} dbname={node.dbname} user={DB_USER}"
        with open(node.logpath, "ab") as log:
            node.proc = subprocess.Popen([os.path.join(self.bindir, "postgres"), "-D", node.datadir],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         env=env, cwd=sockdir, start_new_session=True, **as_user)
        self._live.procs.append(node.proc)

    def _wait_ready(self, node: _Node, retry_port: bool) -> bool:
        import psycopg
        for _ in _deadline_loop(self.timeout):
            if node.proc.poll() is not None:
                text = self._log_tail(node)
                if retry_port and ("could not bind" in text or "could not create any TCP/IP sockets" in text):
                    self._live.procs.remove(node.proc)
                    return False
                raise TargetUnavailable(f"{node.leader}: PostgreSQL exited at start: {self._last_error(text)}")
            try:
                psycopg.connect(node.dsn, connect_timeout=2).close()
                return True
            except psycopg.OperationalError:
                continue
        raise TargetUnavailable(f"{node.leader}: PostgreSQL did not accept connections within {self.timeout:g}s")

    def _log_tail(self, node: _Node, size: int = 4000) -> str:
        try:
            with open(node.logpath, "rb") as f:
                f.seek(max(0, os.path.getsize(node.logpath) - size))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    @staticmethod
    def _last_error(text: str) -> str:
        lines = [l for l in text.splitlines() if re.search(r"\b(FATAL|ERROR|PANIC):", l)]
        return (lines or text.strip().splitlines()[-1:] or ["(empty log)"])[-1].strip()

    # ------------------------------------------------------------ given nodes

    def _connect_given(self, setup: Setup) -> None:
        if set(self.dsns) != set(setup.leaders):
            raise TargetUnavailable(f"dsns name {sorted(self.dsns)}, the spec's leaders are {list(setup.leaders)}")
        if any(setup.offsets_ms.get(l) for l in setup.leaders):
            raise TargetUnavailable("clock offsets need embedded nodes (libfaketime); the given nodes cannot be shifted")
        for i, leader in enumerate(setup.leaders, 1):
            node = _Node(leader=leader, index=i, dsn=self.dsns[leader], logpath=self.logs.get(leader))
            self._nodes[leader] = node
            self._connect(node)
            node.dbname = self._one(node, "select current_database()")
            if not self._one(node, "select rolsuper from pg_roles where rolname = current_user"):
                raise TargetUnavailable(f"{leader}: the role must be a superuser (pglogical, slots)")
            for setting, want in (("wal_level", "logical"), ("track_commit_timestamp", "on")):
                got = self._one(node, f"show {setting}")
                if got != want:
                    raise TargetUnavailable(f"{leader}: {setting} is {got}, needs {want}")
            libs = self._one(node, "show shared_preload_libraries")
            if "pglogical" not in libs:
                raise TargetUnavailable(f"{leader}: shared_preload_libraries ({libs!r}) lacks pglogical")
            if node.logpath:
                try:
                    node.log_offset = os.path.getsize(node.logpath)
                except OSError as e:
                    raise TargetUnavailable(f"{leader}: cannot read its log {node.logpath}: {e}") from None

    def _unwire_given(self) -> None:
        for link in self._links.values():
            dst = self._nodes[link.dst]
            self._quiet(dst, "select pglogical.drop_subscription(%s, true)", (link.name,))
        for node in self._nodes.values():
            if node.conn is None:
                continue
            self._quiet(node, "select pglogical.drop_replication_set(%s, true)", (self.repset,))
            self._quiet(node, f'drop table if exists "{self.table}"')
            if node.created_node:
                self._quiet(node, "select pglogical.drop_node(%s, true)", (node.node_name,))
            if node.created_extension:
                self._quiet(node, "drop extension if exists pglogical")
            if node.set_mode:
                self._quiet(node, f'alter database "{node.dbname}" reset pglogical.conflict_resolution')
        for link in self._links.values():    # a slot drop_subscription could not reach
            src = self._nodes[link.src]
            if link.slot:
                self._quiet(src, "select pg_drop_replication_slot(slot_name) from pg_replication_slots "
                                 "where slot_name = %s and not active", (link.slot,))

    def _quiet(self, node: _Node, query, params=()) -> None:
        try:
            node.conn.execute(query, params)
        except Exception:
            pass

    # ------------------------------------------------------------ wiring

    def _connect(self, node: _Node) -> None:
        import psycopg
        try:
            node.conn = psycopg.connect(node.dsn, autocommit=True, connect_timeout=max(2, int(self.timeout)))
            ms = int(self.timeout * 1000)
            node.conn.execute(f"set statement_timeout = {ms}")
            node.conn.execute(f"set lock_timeout = {ms}")
            node.conn.execute("set synchronous_commit = on")
        except psycopg.Error as e:
            raise TargetUnavailable(f"{node.leader}: cannot connect ({node.dsn}): {e}".splitlines()[0]) from None

    def _one(self, node: _Node, query, params=()):
        row = self._sql(node, query, params).fetchone()
        return row[0] if row else None

    def _sql(self, node: _Node, query, params=()):
        import psycopg
        try:
            return node.conn.execute(query, params)
        except psycopg.OperationalError as e:
            raise TargetUnavailable(f"{node.leader}: {str(e).strip().splitlines()[0]}") from None
        except psycopg.errors.QueryCanceled as e:
            raise TargetUnavailable(f"{node.leader}: no answer within {self.timeout:g}s "
                                    f"({str(e).strip().splitlines()[0]})") from None

    def _wire(self, setup: Setup) -> None:
        t = self.table
        for node in self._nodes.values():
            if not self._one(node, "select count(*) from pg_extension where extname = 'pglogical'"):
                self._sql(node, "create extension pglogical")
                node.created_extension = True
            node.dboid = self._one(node, "select oid from pg_database where datname = current_database()")
            self._sql(node, f'drop table if exists "{t}"')
            self._sql(node, f'create table "{t}" (k text primary key, v text)')
            existing = self._one(node, "select n.node_name from pglogical.local_node l join pglogical.node n "
                                       "on n.node_id = l.node_id")
            if existing and (self.dsns is None or not existing.startswith(self.prefix + "_")):
                node.node_name = existing
            else:
                if existing:            # ours, left by a run that died
                    self._drop_leftovers(node, existing)
                node.node_name = f"{self.prefix}_{node.index}"
                self._sql(node, "select pglogical.create_node(node_name := %s, dsn := %s)",
                          (node.node_name, node.dsn))
                node.created_node = True
            self._sql(node, "select pglogical.drop_replication_set(%s, true)", (self.repset,))
            self._sql(node, "select pglogical.create_replication_set(%s, replicate_insert := true, "
                            "replicate_update := true, replicate_delete := true, replicate_truncate := false)",
                      (self.repset,))
            self._sql(node, "select pglogical.replication_set_add_table(%s, %s, synchronize_data := false)",
                      (self.repset, t))
            if self.dsns is not None and self._one(node, "show pglogical.conflict_resolution") != setup.mode:
                self._sql(node, f'alter database "{node.dbname}" set pglogical.conflict_resolution = '
                                f"'{setup.mode}'")
                node.set_mode = True
        if self.dsns is not None:          # slots of our subscriptions left by a run that died
            for node in self._nodes.values():
                self._sql(node, "select pg_drop_replication_slot(slot_name) from pg_replication_slots "
                                "where slot_name like %s and not active and database = current_database()",
                          (f"pgl\\_%\\_{self.prefix}\\_%",))
        for src, dst in dict.fromkeys(setup.links):
            s, d = self._nodes[src], self._nodes[dst]
            link = _Link(src, dst, f"{self.prefix}_{s.index}_{d.index}")
            self._links[(src, dst)] = link
            self._sql(d, "select pglogical.drop_subscription(%s, true)", (link.name,))
            link.sub_id = self._one(d, "select pglogical.create_subscription(subscription_name := %s, "
                                       "provider_dsn := %s, replication_sets := array[%s], "
                                       "synchronize_structure := false, synchronize_data := false, "
                                       "forward_origins := '{}')", (link.name, s.dsn, self.repset))
            link.slot = self._one(d, "select sub_slot_name from pglogical.subscription where sub_id = %s",
                                  (link.sub_id,))
            # The first apply worker creates the slot; wait for it, then hold the link.
            self._wait(lambda: self._one(d, "select status from pglogical.show_subscription_status(%s)",
                                         (link.name,)) == "replicating"
                       and self._one(s, "select count(*) from pg_replication_slots where slot_name = %s "
                                        "and active", (link.slot,)),
                       f"subscription {link.name} ({src}->{dst}) did not start", d)
            self._hold(link)

    def _drop_leftovers(self, node: _Node, node_name: str) -> None:
        for (name,) in self._sql(node, "select sub_name from pglogical.subscription "
                                       "where sub_name like %s", (self.prefix + "\\_%",)).fetchall():
            self._sql(node, "select pglogical.drop_subscription(%s, true)", (name,))
        self._sql(node, "select pglogical.drop_node(%s, true)", (node_name,))

    # ------------------------------------------------------------ links

    def _apply_worker_running(self, link: _Link) -> bool:
        d = self._nodes[link.dst]
        return bool(self._one(d, "select count(*) from pg_stat_activity where backend_type = %s",
                              (f"pglogical apply {d.dboid}:{link.sub_id}",)))

    def _slot(self, link: _Link, target=None):
        """(active, confirmed_flush_lsn >= target) of the link's slot at src."""
        s = self._nodes[link.src]
        row = self._sql(s, "select active, confirmed_flush_lsn >= coalesce(%s::pg_lsn, '0/0') "
                           "from pg_replication_slots where slot_name = %s", (target, link.slot)).fetchone()
        if row is None:
            raise TargetUnavailable(f"{link.src}: replication slot {link.slot} of {link.src}->{link.dst} is gone")
        return row

    def _nudge_manager(self, node: _Node) -> None:
        """Wake pglogical's manager (see the module docstring)."""
        if not self.signal_manager:
            return
        pid = self._one(node, "select pid from pg_stat_activity where backend_type = %s",
                        (f"pglogical manager {node.dboid}",))
        if pid:
            try:
                os.kill(pid, signal.SIGUSR1)
            except OSError:
                pass

    def _hold(self, link: _Link) -> None:
        d = self._nodes[link.dst]
        self._nudge_manager(d)
        self._sql(d, "select pglogical.alter_subscription_disable(%s, immediate := true)", (link.name,))
        link.enabled = False
        self._wait(lambda: not self._apply_worker_running(link) and not self._slot(link)[0],
                   f"the apply worker of {link.src}->{link.dst} did not stop", d)

    def deliver(self, src: str, dst: str) -> None:
        link = self._links.get((src, dst))
        if link is None:
            raise ValueError(f"no link {src}->{dst} (links: {sorted(self._links)})")
        s, d = self._nodes[src], self._nodes[dst]
        if link.enabled:                                   # a failed delivery left it open
            self._hold(link)
        target = self._one(s, "select pg_current_wal_flush_lsn()")
        if self._slot(link, target)[1]:
            return                                         # nothing pending on this link
        self._sql(d, "select pglogical.alter_subscription_enable(%s, immediate := true)", (link.name,))
        link.enabled = True
        try:
            self._wait(lambda: self._slot(link, target)[1],
                       f"{dst} did not apply {src}'s changes up to {target}", d)
        except TargetUnavailable:
            try:
                self._hold(link)
            except TargetUnavailable:
                pass
            raise
        self._hold(link)

    def _wait(self, done, what: str, node: _Node) -> None:
        for _ in _deadline_loop(self.timeout):
            if done():
                return
        hint = ""
        if node.logpath or node.proc is not None:
            errors = self._last_error(self._log_tail(node))
            hint = f"; last in {node.leader}'s log: {errors}" if errors else ""
        raise TargetUnavailable(f"{what} within {self.timeout:g}s{hint}")

    # ------------------------------------------------------------ schedules

    def reset(self) -> None:
        for link in self._links.values():
            if link.enabled:
                self._hold(link)
        for node in self._nodes.values():
            # replica role: pglogical's TRUNCATE trigger does not queue the truncation
            self._sql(node, f'begin; set local session_replication_role = replica; truncate "{self.table}"; commit')
        for link in self._links.values():
            s = self._nodes[link.src]
            self._sql(s, "select pg_replication_slot_advance(%s, pg_current_wal_flush_lsn())", (link.slot,))
        for node in self._nodes.values():
            self._skip_log(node)

    def commit(self, leader: str, op: TargetOp) -> Committed:
        import psycopg
        if op.kind not in SQL_KINDS:
            raise ValueError(f"op kind {op.kind!r}: one of {', '.join(SQL_KINDS)}")
        node = self._nodes[leader]
        t = self.table
        xid = "(pg_current_xact_id()::text::bigint %% 4294967296)::text"
        query, params = {
            "insert": (f'insert into "{t}" (k, v) values (%s, %s) returning {xid}', (op.key, op.value)),
            "update": (f'update "{t}" set v = %s where k = %s returning {xid}', (op.value, op.key)),
            "upsert": (f'insert into "{t}" (k, v) values (%s, %s) on conflict (k) do update '
                       f'set v = excluded.v returning {xid}', (op.key, op.value)),
            "delete": (f'delete from "{t}" where k = %s returning {xid}', (op.key,)),
        }[op.kind]
        try:
            with node.conn.transaction():
                cur = node.conn.execute(query, params)
                rows = cur.fetchall()
        except psycopg.errors.UniqueViolation as e:
            return Committed(rows=0, error=e.diag.message_primary or str(e).splitlines()[0])
        except psycopg.OperationalError as e:
            raise TargetUnavailable(f"{leader}: {str(e).strip().splitlines()[0]}") from None
        except psycopg.errors.QueryCanceled as e:
            raise TargetUnavailable(f"{leader}: no answer within {self.timeout:g}s ({e})".splitlines()[0]) from None
        if not rows:
            return Committed(rows=0)
        ts = self._one(node, "select extract(epoch from pg_xact_commit_timestamp(%s::xid)) * 1000", (rows[0][0],))
        return Committed(rows=len(rows), commit_ts_ms=float(ts) if ts is not None else None)

    def read(self, leader: str) -> dict:
        node = self._nodes[leader]
        return dict(self._sql(node, f'select k, v from "{self.table}"').fetchall())

    # ------------------------------------------------------------ logs

    def _read_new_log(self, node: _Node) -> str:
        """The node's log text since the last call (complete lines only)."""
        if node.logpath:
            try:
                with open(node.logpath, "rb") as f:
                    f.seek(node.log_offset)
                    data = f.read()
            except OSError:
                return ""
        else:
            path = self._one(node, "select pg_current_logfile()")
            if not path:
                return ""
            if path != node.server_log:
                node.server_log, node.log_offset = path, 0
            data = self._one(node, "select pg_read_binary_file(%s, %s, 16777216, true)",
                             (path, node.log_offset)) or b""
            data = bytes(data)
        end = data.rfind(b"\n") + 1
        node.log_offset += end
        return data[:end].decode("utf-8", "replace")

    def _skip_log(self, node: _Node) -> None:
        self._read_new_log(node)

    def log(self, leader: str, detail: bool = False) -> list[str]:
        """The ``CONFLICT: ...`` lines ``leader``'s node logged since the last
        call (or since start/reset); with ``detail``, each followed by
        ``" | "`` and its ``DETAIL:`` line (local and remote tuples,
        origins, commit timestamps)."""
        out = []
        for line in self._read_new_log(self._nodes[leader]).splitlines():
            m = _CONFLICT.search(line)
            if m:
                out.append(m.group(0).strip())
            elif detail and out and re.search(r"\bDETAIL:\s", line) and " | " not in out[-1]:
                out[-1] += " | " + line[line.index("DETAIL:"):].strip()
        return out
