"""Run one replcheck command on one input, bounded, and classify what
happened (docs/reliability.md, "Classification").

:func:`execute` runs ``replcheck ARGS`` in a subprocess of its own session
with a wall-clock timeout (the whole process group is killed past it) and
an address-space limit (``RLIMIT_AS``, 2 GiB by default, set in the
child before exec).  :func:`classify` turns the outcome into findings:

============== ==============================================================
traceback      "Traceback (most recent call last)" or "Exception ignored in"
               on stderr or stdout
internal       exit 4 ("internal error: ..."; a bug replcheck caught)
hang           the run outlived its timeout although bounds were passed (or,
               after Ctrl-C, ran on for more than CTRL_C_GRACE seconds)
oom            the memory limit was hit: MemoryError, "out of memory", or a
               death by SIGKILL/SIGSEGV/SIGABRT/SIGBUS
wrong-exit     see :func:`exit_findings` (codes outside 0-4, exit 0/1 with an
               error on stderr, exit 2 not one line naming the input, exit 1
               without a violation in the output, exit disagreeing with the
               JSON verdicts, exit 3 without an incomplete verdict)
injection      see :func:`injection_findings` (output rendered and parsed back)
unsafe-file    an input changed, -o onto an input / into a missing folder /
               onto a folder not refused in one line (exit 2), temporary files
               left behind
============== ==============================================================

A run can have several findings (an injection and a wrong exit code); a
run is "ok" when it has none.  Every finding has a ``signature`` that
groups runs of one root cause (exception type and message shape, rule and
message shape, payload family and format).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MEMORY_LIMIT = 2 * 1024 ** 3
CTRL_C_GRACE = 5.0          # seconds a run may take to stop after Ctrl-C
KINDS = ("traceback", "internal", "hang", "oom", "wrong-exit", "injection", "unsafe-file")


def replcheck_argv0() -> list[str]:
    """The venv's ``replcheck`` console script when there is one, else
    ``python -m replcheck.checks.cli``."""
    script = Path(sys.executable).parent / "replcheck"
    return [str(script)] if script.exists() else [sys.executable, "-m", "replcheck.checks.cli"]


@dataclasses.dataclass
class Case:
    """One run: ``replcheck *argv`` in a fresh folder holding ``files``."""

    id: str
    command: str                     # the figures row: "check", "smt laws", ...
    argv: list[str]
    files: dict = dataclasses.field(default_factory=dict)      # relative path -> bytes
    inputs: list = dataclasses.field(default_factory=list)     # relative paths read by the command
    names: list = dataclasses.field(default_factory=list)      # what else an exit-2 line may name
    fmt: str = "text"                # text, json, markdown, html, itf, csv, none
    output: str | None = None        # -o path (relative), if any
    probe: str = "mutated"           # mutated, o-input, o-alias, o-missing, o-dir, o-symlink, unbounded
    timeout: float = 40.0
    mutations: list = dataclasses.field(default_factory=list)
    origin: str = ""                 # the bundled file(s) the input came from
    symlinks: dict = dataclasses.field(default_factory=dict)   # relative link -> target (as written in the link)
    hardlinks: dict = dataclasses.field(default_factory=dict)  # relative link -> relative existing file
    guard: list = dataclasses.field(default_factory=list)      # absolute paths that must not change (bundled)
    violation: str = ""              # regex: what an exit-1 output says (empty: exit 1 is never right)
    bounded: bool = True             # bounds (<= 10 s) were passed
    rerun_bounded: list | None = None   # unbounded probe: the argv to retry with bounds after a timeout
    interrupt_after: float | None = None   # sigint probe: Ctrl-C after this many seconds
    marker: str | None = None        # python probe: a file the spec's code creates when it runs
    tty: bool = False                # stdout and stderr on pseudo-terminals (what a user's terminal gets)

    def command_line(self) -> str:
        import shlex
        return "replcheck " + " ".join(shlex.quote(a) for a in self.argv)


@dataclasses.dataclass
class Result:
    rc: int | None
    stdout: bytes
    stderr: bytes
    seconds: float
    timed_out: bool
    output: bytes | None = None       # the -o file's content after the run
    changed: list = dataclasses.field(default_factory=list)    # inputs that changed
    leftovers: list = dataclasses.field(default_factory=list)  # temporary files left in the output folder
    notes: list = dataclasses.field(default_factory=list)      # what a symlink probe did, ...
    folder_created: bool = False
    debug: str = ""                   # stderr of the REPLCHECK_DEBUG=1 re-run of an internal error


@dataclasses.dataclass
class Finding:
    kind: str
    rule: str
    detail: str
    signature: str

    def as_dict(self):
        return dataclasses.asdict(self)


# ------------------------------------------------------------------ running
def _limits(mem: int):
    def preexec():
        os.setsid()
        # A run must take Ctrl-C as a foreground command does: a campaign started in the background
        # (nohup, `cmd &` in a script, CI) has SIGINT ignored, and an ignored signal is inherited
        # across exec — Python then leaves it ignored, so every sigint probe would "hang".
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        except (ValueError, OSError):
            pass
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return preexec


def _execute_tty(cmd, cwd, environ, timeout, mem, interrupt_after=None):
    """Run ``cmd`` with stdout and stderr on two pseudo-terminals (raw mode,
    so no CR is added): what a user at a terminal sees.  click strips ANSI
    colour codes only when its stream is not a terminal, so a pipe hides
    an escape sequence that a terminal receives."""
    import pty
    import tty
    masters, slaves = [], []
    for _ in range(2):
        m, sl = pty.openpty()
        tty.setraw(sl)
        masters.append(m)
        slaves.append(sl)
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=slaves[0], stderr=slaves[1],
                            env=environ, preexec_fn=_limits(mem), close_fds=True)
    for sl in slaves:
        os.close(sl)
    try:
        return _read_ttys(proc, masters, t0, timeout, interrupt_after)
    except BaseException:
        _kill(proc)
        raise
    finally:
        for m in masters:
            try:
                os.close(m)
            except OSError:
                pass


def _read_ttys(proc, masters, t0, timeout, interrupt_after=None):
    """Read both terminals until the run ends; with ``interrupt_after``,
    SIGINT goes to the process group then and the run has ``timeout`` more
    (as in :func:`_wait`)."""
    import select
    bufs = {masters[0]: bytearray(), masters[1]: bytearray()}
    live = list(masters)
    timed_out = False
    end = t0 + timeout + (interrupt_after or 0)
    while live:
        now = time.monotonic()
        if interrupt_after is not None and now - t0 >= interrupt_after:
            interrupt_after = None
            try:
                os.killpg(proc.pid, signal.SIGINT)
            except OSError:
                pass
        left = end - now
        if left <= 0:
            timed_out = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            break
        wait = min(left, 0.5) if interrupt_after is None else min(left, 0.5, max(0.0, t0 + interrupt_after - now))
        ready, _, _ = select.select(live, [], [], wait)
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:          # EIO: the other side is closed
                chunk = b""
            if chunk:
                bufs[fd] += chunk
            else:
                live.remove(fd)
    proc.wait()
    return proc.returncode, bytes(bufs[masters[0]]), bytes(bufs[masters[1]]), time.monotonic() - t0, timed_out


def execute(argv: list[str], cwd: Path, timeout: float, mem: int = MEMORY_LIMIT, env=None, interrupt_after=None,
            tty=False):
    """Run ``replcheck *argv`` in ``cwd``: ``(rc, stdout, stderr, seconds,
    timed_out)``; past ``timeout`` the process group is killed.  With
    ``interrupt_after`` seconds, SIGINT goes to the process group then (as
    Ctrl-C in a terminal does), and the run has ``timeout`` more to end."""
    environ = dict(os.environ if env is None else env)
    environ.pop("REPLCHECK_DEBUG", None)
    environ.update({"TERM": "dumb", "COLUMNS": "120", "PYTHONDONTWRITEBYTECODE": "1"})
    if env is not None and "REPLCHECK_DEBUG" in env:
        environ["REPLCHECK_DEBUG"] = env["REPLCHECK_DEBUG"]
    if tty:
        return _execute_tty(replcheck_argv0() + list(argv), cwd, environ, timeout, mem, interrupt_after)
    t0 = time.monotonic()
    proc = subprocess.Popen(replcheck_argv0() + list(argv), cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environ, preexec_fn=_limits(mem))
    try:
        return _wait(proc, t0, timeout, interrupt_after)
    except BaseException:
        _kill(proc)          # Ctrl-C of the campaign: leave no run behind (it has a session of its own)
        raise


def _kill(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    proc.wait()


def _wait(proc, t0, timeout, interrupt_after):
    try:
        if interrupt_after is not None:
            try:
                out, err = proc.communicate(timeout=interrupt_after)
                return proc.returncode, out, err, time.monotonic() - t0, False
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGINT)
                except OSError:
                    pass
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out, err, time.monotonic() - t0, False
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        out, err = proc.communicate()
        return proc.returncode, out, err, time.monotonic() - t0, True


def materialise(case: Case, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for rel, data in case.files.items():
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    for rel, target in case.hardlinks.items():
        os.link(folder / target, folder / rel)
    for rel, target in case.symlinks.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, folder / rel)


def _snapshot(paths) -> dict:
    snap = {}
    for p in paths:
        try:
            snap[str(p)] = Path(p).read_bytes() if Path(p).is_file() else None
        except OSError:
            snap[str(p)] = None
    return snap


def run(case: Case, workdir: Path, mem: int = MEMORY_LIMIT, keep: bool = False) -> Result:
    """Materialise ``case`` in a folder of ``workdir``, run it, and record
    what changed on disk."""
    folder = workdir / re.sub(r"[^A-Za-z0-9_.-]", "_", case.id)
    if folder.exists():
        shutil.rmtree(folder)
    materialise(case, folder)
    watched = [folder / i for i in case.inputs] + [Path(g) for g in case.guard]
    lock = None
    if case.guard:          # bundled files: one probe at a time, so each restores what it found
        import fcntl
        lock = open(workdir / ".bundled.lock", "w")
        fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        return _run_locked(case, folder, watched, mem, keep)
    finally:
        if lock is not None:
            lock.close()


def _run_locked(case: Case, folder: Path, watched, mem, keep) -> Result:
    before = _snapshot(watched)
    out_folder = (folder / case.output).parent if case.output else None
    listing_before = set(os.listdir(out_folder)) if out_folder and out_folder.is_dir() else set()
    rc, out, err, secs, timed_out = execute(case.argv, folder, case.timeout, mem,
                                            interrupt_after=case.interrupt_after, tty=case.tty)
    if timed_out and case.rerun_bounded:
        # the unbounded probe outlived its timeout: does a bound stop it?
        rc2, out2, err2, secs2, t2 = execute(case.rerun_bounded, folder, case.timeout, mem)
        res = Result(rc2, out2, err2, secs2, t2)
        res.notes.append(f"unbounded run timed out after {secs:.0f} s; with bounds: "
                         + ("timed out too" if t2 else f"exit {rc2} in {secs2:.1f} s"))
        if not t2:
            res.notes.append("slow-unbounded")
    else:
        res = Result(rc, out, err, secs, timed_out)
    if res.rc == 4 and not res.timed_out and case.probe in ("mutated", "unbounded") and not case.output:
        # the traceback behind the one-line internal error, for grouping (REPLCHECK_DEBUG=1)
        argv = case.rerun_bounded if timed_out else case.argv
        _, _, derr, _, _ = execute(argv, folder, case.timeout, mem, env={**os.environ, "REPLCHECK_DEBUG": "1"})
        res.debug = text(derr)
    after = _snapshot(watched)
    res.changed = [k for k in before if before[k] != after[k]]
    for g in case.guard:            # never leave a bundled file damaged
        if before.get(str(g)) is not None and before[str(g)] != after.get(str(g)):
            Path(g).write_bytes(before[str(g)])
    if case.output:
        o = folder / case.output
        if o.is_file() and not o.is_symlink():
            res.output = o.read_bytes()
        elif o.is_symlink():
            res.notes.append(f"-o {case.output} is still a symlink to {os.readlink(o)}")
            tgt = (o.parent / os.readlink(o))
            if tgt.is_file():
                res.output = tgt.read_bytes()
        if out_folder and out_folder.is_dir():
            new = set(os.listdir(out_folder)) - listing_before
            res.leftovers = sorted(n for n in new if n.endswith(".tmp"))
        res.folder_created = case.probe == "o-missing" and (folder / "missing").exists()
    if case.probe == "o-symlink":
        res.notes.extend(_symlink_report(case, folder))
    if case.marker and (folder / case.marker).exists():
        res.notes.append("code-ran")
    if not keep:
        shutil.rmtree(folder, ignore_errors=True)
    return res


def _symlink_report(case: Case, folder: Path) -> list[str]:
    notes = []
    for rel, target in case.symlinks.items():
        link = folder / rel
        if link.is_symlink():
            t = folder / os.readlink(link) if not os.path.isabs(os.readlink(link)) else Path(os.readlink(link))
            notes.append(f"symlink {rel} kept, -> {os.readlink(link)}; target "
                         + (f"now {t.stat().st_size} bytes" if t.exists() else "missing"))
        elif link.exists():
            notes.append(f"symlink {rel} replaced by a regular file")
        else:
            notes.append(f"symlink {rel} removed")
    return notes


# ------------------------------------------------------------- classifying
def text(b: bytes | None) -> str:
    return (b or b"").decode("utf-8", "replace")


def _norm(s: str) -> str:
    """A message shape: file names, numbers and quoted values blanked."""
    s = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", s)
    s = re.sub(r"\b[\w./-]+\.(toml|json|md|html|txt|csv)\b", "FILE", s)
    s = re.sub(r"\d+", "N", s)
    return s[:160]


def _skeleton(s: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", s)


TRACEBACK = re.compile(r"Traceback \(most recent call last\)|Exception ignored in")
ERRORISH = re.compile(r"(?m)^replcheck:|Traceback|^\w*Error\b|\bError:|\berror:|^Usage:|Exception")
INCOMPLETE = re.compile(r"(?i)incomplete|cut|bound|max_states|max_seconds|max_depth|unavailable|not proved|"
                        r"timed out|interrupted|not compared|inconclusive|out of memory|undecided|unknown|n/a")
USAGE = re.compile(r"^Usage: .*\n(.*\n)*Error: ", re.M)


def traceback_signature(err: str) -> str:
    """``ExcType at file:function`` of the last frame inside replcheck."""
    frames = re.findall(r'File "([^"]+)", line (\d+), in (\S+)', err)
    ours = [f for f in frames if "site-packages" not in f[0] and "/lib/python" not in f[0]] or frames
    exc = ""
    for line in err.splitlines()[::-1]:
        m = re.match(r"^([A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning))\b", line.strip())
        if m:
            exc = m.group(1)
            break
    where = ""
    if ours:
        f, line, fn = ours[-1]
        try:
            f = str(Path(f).resolve().relative_to(ROOT))
        except ValueError:
            f = Path(f).name
        where = f"{f}:{line} {fn}"
    return f"{exc or 'traceback'} at {where}" if where else (exc or "traceback")


def internal_signature(err: str) -> str:
    m = re.search(r"internal error: (\w+): (.*?)(?: — this is a bug|$)", err, re.S)
    if not m:
        return "exit 4: " + _norm(err.strip().splitlines()[0] if err.strip() else "(no message)")
    return f"{m.group(1)}: {_norm(m.group(2).strip())}"


def classify(case: Case, res: Result) -> list[Finding]:
    out, err = text(res.stdout), text(res.stderr)
    found: list[Finding] = []

    def add(kind, rule, detail, signature=None):
        found.append(Finding(kind, rule, detail[:500], signature or f"{rule}"))

    # hangs and memory first: the rest is meaningless for a killed run
    if res.timed_out:
        add("hang", "timeout", f"no exit within {case.timeout:.0f} s" + ("" if case.bounded else " (after bounds)")
            + (f" (Ctrl-C after {case.interrupt_after} s)" if case.interrupt_after else ""), f"hang: {case.command}")
    elif case.interrupt_after and res.seconds - case.interrupt_after > CTRL_C_GRACE:
        add("hang", "ctrl-c-ignored", f"ran {res.seconds - case.interrupt_after:.0f} s more after Ctrl-C",
            f"ctrl-c-ignored: {case.command}")
    oom = "MemoryError" in err or "out of memory" in err.lower() or "std::bad_alloc" in err
    if res.rc is not None and res.rc < 0 and not res.timed_out:
        sig = -res.rc
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        if sig in (signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS) or oom:
            add("oom", "signal", f"killed by {name}", f"oom: {name}")
        else:
            add("wrong-exit", "signal", f"killed by {name}", f"killed by {name}")
    elif oom:
        add("oom", "memory", (err.strip().splitlines() or [""])[-1], "oom: " + _norm(
            (err.strip().splitlines() or [""])[-1]))
    if TRACEBACK.search(err) or TRACEBACK.search(out):
        add("traceback", "traceback", err[-400:], traceback_signature(err if TRACEBACK.search(err) else out))
    if res.rc == 4 or "internal error" in err:
        sig = internal_signature(err)
        if res.debug and TRACEBACK.search(res.debug):
            sig += " @ " + traceback_signature(res.debug).split(" at ", 1)[-1]
        add("internal", "exit-4", err.strip()[:400], sig)
    if not res.timed_out and res.rc is not None and res.rc >= 0:
        found += exit_findings(case, res, out, err)
        found += injection_findings(case, rendered_output(case, res) or "", err)
    found += file_findings(case, res)
    return found


def rendered_output(case: Case, res: Result) -> str | None:
    """What the command printed: stdout, or the -o file when the run wrote
    one; ``None`` when there is nothing to read (-o named an input, or the
    run wrote nothing)."""
    if not case.output:
        return text(res.stdout)
    if case.probe in ("o-input", "o-alias", "o-bundled") or res.output is None or res.rc not in (0, 1, 3):
        return None
    return text(res.output)


ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|.)?")


def _name_forms(name: str) -> list[str]:
    """A file name as an error line may show it: as is, without ANSI
    sequences or control characters, or escaped (repr)."""
    plain = ANSI.sub("", name)
    return [name, plain, re.sub(r"[\x00-\x1f\x7f-\x9f]", "", plain), repr(name)[1:-1]]


def _names_input(case: Case, line: str) -> bool:
    if case.output and f"{case.output}: -o:" in line:   # an -o error names the -o path (".", "d/")
        return True
    m = re.match(r"replcheck: (--?[a-z][a-z-]*)\b", line)
    if m and m.group(1) in case.argv:    # a clash of options names the option the user passed, e.g. --expect
        return True
    sk = _skeleton(line)
    for n in list(case.inputs) + list(case.names) + ([case.output] if case.output else []):
        if not n:
            continue
        for form in _name_forms(str(n)):
            s = _skeleton(form)
            if s and s in sk:
                return True
    return False


def multi_line_cause(lines: list[str]) -> str:
    """Why an error took several lines: click's usage format, a newline
    from the input echoed into the message, or several messages."""
    if not lines:
        return "empty stderr"
    if lines[0].startswith("Usage:"):
        return "click usage error: " + _norm(lines[-1])
    if all(not x.startswith("replcheck:") for x in lines[1:]):
        return "a line break from the input echoed into the message"
    return "several messages: " + _norm(lines[0])


#: Lines on stderr that inform, not err: what --allow-python will run (docs/resolvers.md) and what -o wrote.
NOTICES = ("replcheck: --allow-python: running ", "replcheck: wrote ")
#: When --total-seconds (which the harness passes to multi-run commands) is spent: which runs did not start
#: (checks/budget.py); the exit code stays the worst verdict's (a violation found first is still exit 1).
BUDGET_NOTICES = ("replcheck: --total-seconds ",)
#: After Ctrl-C: the line saying what the partial result is (README "Stopping"); the exit code stays the verdict's.
INTERRUPT_NOTICES = ("replcheck: interrupted (Ctrl-C or SIGTERM): ",)


def exit_findings(case: Case, res: Result, out: str, err: str) -> list[Finding]:
    """The exit-code rules of README "Exit codes"."""
    f: list[Finding] = []
    rc = res.rc
    # The --allow-python notice (what will run, docs/resolvers.md) is printed before any verdict or error.
    notices = NOTICES + (INTERRUPT_NOTICES if case.interrupt_after else ()) + \
        (BUDGET_NOTICES if "--total-seconds" in case.argv else ())
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith(notices)]
    err = "\n".join(lines)
    first = lines[0] if lines else ""

    def add(rule, detail, sig):
        f.append(Finding("wrong-exit", rule, detail[:500], f"{rule}: {case.command}: {sig}"))

    if rc not in (0, 1, 2, 3, 4):
        add("exit-code", f"exit {rc}" + (" after Ctrl-C" if case.interrupt_after else ""), f"exit {rc}")
        return f
    if case.interrupt_after and rc == 1 and "Aborted" in err:
        add("ctrl-c-aborted", "Ctrl-C ended the run with click's 'Aborted!' and exit 1 (violation)", "Aborted!")
        return f
    if rc in (0, 1) and ERRORISH.search(err):
        add("error-on-stderr", f"exit {rc} with stderr: {err.strip()[:300]}", _norm(first))
    if rc == 2:
        if USAGE.search(err):
            return f        # click's usage error (an option or argument the parser refused): its own format
        if len(lines) != 1 and not case.probe.startswith("o-"):   # the -o probes have their own rule
            add("multi-line", f"exit 2 with {len(lines)} lines on stderr: {err.strip()[:300]}",
                multi_line_cause(lines))
        elif not _names_input(case, first):
            add("unnamed", f"exit 2 without the file name: {first}", _norm(first))
        if out.strip() and case.output is None:
            add("stdout-on-error", f"exit 2 after printing {len(out)} characters", _norm(first))
    shown = rendered_output(case, res)
    if shown is None:       # nothing to read the verdict from (-o onto an input): only the exit rules above
        return f
    if rc in (0, 1) and not shown.strip() and case.command not in ("list",):
        add("silent-exit", f"exit {rc} with no output at all", f"exit {rc}, nothing printed")
    if rc == 1:
        if not case.violation or not re.search(case.violation, shown):
            add("exit-1-no-violation", f"exit 1 but the output reports no violation; stderr: {first[:200]}",
                _norm(first) if first else "no violation in the output")
    if rc == 0 and case.command == "replay" and re.search(r"not-judged|only judged|is not judged", shown):
        add("exit-0-not-judged", "replay exit 0 (holds) although the invariant was not judged at the trace's end",
            "not judged")
    if rc == 3 and case.fmt != "itf" and not INCOMPLETE.search(shown) and not (len(lines) == 1 and first.startswith("replcheck:")):
        add("exit-3-not-incomplete", f"exit 3 without an incomplete verdict; stderr: {first[:200]}", _norm(first))
    if case.fmt == "json" and case.command == "check" and rc in (0, 1, 3) and "--expect" not in case.argv:
        try:
            data = json.loads(shown)
            reps = data.get("reports", [data]) if isinstance(data, dict) else []
            verdicts = {r.get("verdict") for rep in reps for r in rep.get("results", [])}
            want = 1 if "violated" in verdicts else 3 if "incomplete" in verdicts else 0
            if want != rc:
                add("exit-vs-verdicts", f"exit {rc} but the JSON verdicts say {want} ({sorted(verdicts)})",
                    f"exit {rc} for {want}")
        except (ValueError, AttributeError):
            pass     # an unparseable JSON output is an injection finding
    return f


# ----------------------------------------------------------- injections
MARK_TAG = re.compile(r"<(?:x-inj|img src=x|!--x-inj)", re.I)
FENCE = re.compile(r"^(```+|~~~+)([^\n]*)\n(.*?)^\1[ \t]*$", re.M | re.S)
# A code span opens at a backtick run not escaped by a backslash (CommonMark 0.31 §6.1: "\\`" is a literal).
INLINE_CODE = re.compile(r"(?<!\\)(`+)(?:(?!\1).)+?\1", re.S)
TERMINAL = re.compile(r"[\x00-\x08\x0b-\x1a\x1c-\x1f]|\x1b|[\x80-\x9f]")
CSV_LEAD = tuple("=+-@\t\r")


def _backslash_escaped(text: str, i: int) -> bool:
    """Is ``text[i]`` escaped (an odd run of backslashes before it)?  A
    CommonMark backslash escape makes ``\\<`` a literal ``<`` (§2.4)."""
    n = 0
    while i - n - 1 >= 0 and text[i - n - 1] == "\\":
        n += 1
    return n % 2 == 1


def _md_outside_code(md: str) -> tuple[str, list[tuple[str, str]]]:
    fences = [(m.group(2).strip(), m.group(3)) for m in FENCE.finditer(md)]
    rest = FENCE.sub("", md)
    rest = INLINE_CODE.sub("", rest)
    return rest, fences


def _md_table_findings(md: str) -> list[str]:
    """Rows of a Markdown table with another cell count than its header
    (a '|' from the input not escaped)."""
    bad = []
    rest = FENCE.sub("", md)
    block: list[str] = []
    for line in rest.splitlines() + [""]:
        if line.startswith("|"):
            block.append(line)
            continue
        if len(block) >= 2:
            def cells(row):
                row = INLINE_CODE.sub("C", row)
                return len(re.findall(r"(?<!\\)\|", row))
            want = cells(block[0])
            for row in block[2:]:
                if cells(row) != want:
                    bad.append(row[:160])
        block = []
    return bad


def html_injection(page: str) -> str | None:
    """An element or comment the input smuggled into an HTML page, parsed
    as a browser tokenises it (script and style contents are data, so a
    '<x-inj>' inside a script's JSON is harmless unless a '</script>'
    before it closed the script)."""
    from html.parser import HTMLParser

    class P(HTMLParser):
        hit = None

        def handle_starttag(self, tag, attrs):
            if self.hit is None and (tag == "x-inj" or any("x-inj" in (v or "") or "x-inj" in k
                                                            for k, v in attrs if k in ("onerror", "x-inj"))
                                     or "x-inj" in tag):
                self.hit = f"<{tag} {attrs}>"

        def handle_comment(self, data):
            if self.hit is None and "x-inj" in data:
                self.hit = f"<!--{data}-->"

    p = P(convert_charrefs=True)
    try:
        p.feed(page)
        p.close()
    except Exception as e:  # noqa: BLE001 - html.parser is lenient; anything else is a broken page
        return f"unparseable {type(e).__name__}: {e}"
    return p.hit


def injection_findings(case: Case, rendered: str, err: str) -> list[Finding]:
    f: list[Finding] = []

    def add(rule, detail, sig):
        f.append(Finding("injection", rule, detail[:500], f"{rule}: {case.command} {case.fmt}: {sig}"))

    fmt = case.fmt
    if TERMINAL.search(err):
        c = TERMINAL.search(err).group(0)
        add("terminal-stderr", f"control character {c!r} on stderr: {err.strip()[:200]!r}", f"{c!r}")
    if fmt == "text" and TERMINAL.search(rendered):
        c = TERMINAL.search(rendered).group(0)
        i = rendered.find(c)
        add("terminal-stdout", f"control character {c!r} in text output: {rendered[max(0, i - 60):i + 60]!r}",
            f"{c!r}")
    if fmt in ("markdown", "html", "csv") and "\x1b" in rendered:
        add("terminal-file", f"ESC in {fmt} output", "ESC")
    if fmt == "markdown":
        rest, fences = _md_outside_code(rendered)
        m = next((m for m in MARK_TAG.finditer(rest) if not _backslash_escaped(rest, m.start())), None)
        if m:
            add("markdown-html", f"raw HTML from the input outside code: {rest[max(0, m.start() - 60):m.end() + 60]!r}",
                m.group(0))
        if re.search(r"(?m)^#+ x-inj-nl", rest):
            add("markdown-newline", "a newline from the input starts a heading", "heading")
        for row in _md_table_findings(rendered):
            add("markdown-table", f"table row with another cell count: {row!r}", "cell count")
            break
        for lang, body in fences:
            if lang != "mermaid":
                continue
            for line in body.splitlines():
                if "%%" in line and "x-inj" in line:
                    add("mermaid-comment", f"%% from the input in a mermaid block: {line.strip()[:160]!r}", "%%")
                    break
                if line.strip().startswith("x-inj"):
                    add("mermaid-newline", f"a newline from the input in a mermaid block: {line.strip()[:160]!r}",
                        "newline")
                    break
                if re.search(r"(?<!#\d\d)(?<!#\d\d\d);x-inj", line):
                    add("mermaid-semicolon", f"';' from the input in a mermaid block: {line.strip()[:160]!r}", ";")
                    break
    if fmt == "html":
        hit = html_injection(rendered)
        if hit:
            add("html-tag", f"an element or comment from the input: {hit}", hit.split()[0])
    if fmt == "csv" and rendered.strip():
        try:
            rows = list(csv.reader(io.StringIO(rendered)))
        except csv.Error as e:
            rows = []
            add("csv-parse", f"the CSV does not parse back: {e}", "parse")
        width = len(rows[0]) if rows else 0
        for row in rows:
            if row and len(row) != width:
                add("csv-shape", f"row of {len(row)} cells under a header of {width}: {row[:6]}", "shape")
                break
        for row in rows:
            bad = [c for c in row if c.startswith(CSV_LEAD) and not re.fullmatch(r"-|-?\d+(\.\d+)?", c)]
            if bad:
                add("csv-formula", f"cell starting with a formula character: {bad[0][:80]!r}", bad[0][:1])
                break
    if fmt in ("json", "itf") and rendered.strip():
        try:
            json.loads(rendered)
        except ValueError as e:
            add("json-parse", f"the {fmt} output does not parse back: {e}", "parse")
    return f


def file_findings(case: Case, res: Result) -> list[Finding]:
    f: list[Finding] = []

    def add(rule, detail):
        f.append(Finding("unsafe-file", rule, detail[:500], f"{rule}: {case.command}"))

    err = text(res.stderr)
    lines = [line for line in err.splitlines() if line.strip()]
    if res.changed:
        add("input-changed", f"changed by the run: {', '.join(Path(c).name for c in res.changed)}")
    if res.leftovers:
        add("temp-left", f"temporary files left: {res.leftovers}")
    if case.marker and "code-ran" in res.notes and "--allow-python" not in case.argv:
        add("code-without-allow-python", "the spec's Python module ran (it wrote its marker file) although"
                                         " --allow-python was not given")
    if res.timed_out:
        return f
    probe = "o-trailing-slash" if case.probe == "o-missing" and str(case.output).endswith("/") else case.probe
    if probe in ("o-input", "o-alias", "o-bundled", "o-dir", "o-missing", "o-trailing-slash"):
        if res.rc != 2:
            add(f"{probe}-not-refused", f"-o {case.output}: exit {res.rc}: {err.strip()[:200]}")
        elif len(lines) != 1:
            f.append(Finding("wrong-exit", "o-multi-line", f"-o {case.output} refused in {len(lines)} lines: "
                                                           f"{err.strip()[:300]}",
                             f"o-multi-line: {multi_line_cause(lines)}"))
    if case.probe == "o-missing" and res.folder_created:
        add(f"{probe}-created", f"-o {case.output}: 'missing' was created (a file or folder) although the folder"
                                 " did not exist")
    return f
