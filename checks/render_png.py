"""PNG slides: the SVG pages (checks/render_svg.py) photographed by chromium.

replcheck draws no pixels itself: ``--format png`` hands each SVG page to
Debian's chromium (``apt-get install chromium``), run headless with
``--screenshot`` at the page's size and twice its pixel density (a 1600 x
900 page gives a 3200 x 1800 PNG, sharp on a projector), with a throwaway
profile and no background network (the pages hold no script and refer to
nothing outside themselves).  Nothing is downloaded; without chromium the command stops
before any work with one line saying how to get it, or to use ``--format
svg``.  ``REPLCHECK_CHROMIUM`` names another chromium binary (as for the
browser tests).

Each PNG is first written beside its target under a temporary name and then
renamed over it, so an interrupted or failed run never leaves half a file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from replcheck.checks.atomic import replacing
from replcheck.model.errors import ReplcheckError

SCALE = 2          # device pixels per SVG px
TIMEOUT = 120      # seconds per page (a cold chromium on a loaded 2-core machine takes a few)
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-sync",
         "--disable-background-networking", "--disable-component-update", "--disable-extensions",
         "--default-background-color=ffffffff",
         f"--force-device-scale-factor={SCALE}")


class PngError(ReplcheckError):
    """``--format png`` cannot be made here (no chromium, or it failed):
    one line, exit 2, saying what to do instead."""


def chromium() -> str:
    """The chromium to run: ``REPLCHECK_CHROMIUM``, else ``chromium`` (or
    ``chromium-browser``) on the PATH; else :class:`PngError`."""
    given = os.environ.get("REPLCHECK_CHROMIUM")
    if given:
        if Path(given).is_file() and os.access(given, os.X_OK):
            return given
        raise PngError(f"--format png: REPLCHECK_CHROMIUM={given} is not an executable file; point it at chromium,"
                       " or unset it, or use --format svg")
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise PngError("--format png: needs chromium to draw the PNG and none is installed; install it"
                       " (sudo apt-get install chromium) or use --format svg")
    return found


def write(pages, paths, browser: str | None = None) -> None:
    """Each SVG page of ``pages`` (:class:`checks.render_svg.Page`) as a PNG
    at the matching path of ``paths``."""
    browser = browser or chromium()
    with tempfile.TemporaryDirectory(prefix="replcheck-png-") as work:
        for i, (page, path) in enumerate(zip(pages, paths), 1):
            source = Path(work) / f"page-{i}.svg"
            source.write_text(page.svg, encoding="utf-8")
            _shoot(browser, source, page.width, page.height, Path(path), Path(work) / "profile")


def _shoot(browser: str, source: Path, width: int, height: int, target: Path, profile: Path) -> None:
    with replacing(target, ".png") as tmp:   # checks/atomic.py: a failed draw never leaves a broken file
        cmd = [browser, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
               f"--screenshot={tmp}", source.as_uri()]
        try:
            done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  timeout=TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise PngError(f"--format png: chromium did not draw {target.name} within {TIMEOUT} s; try again, or"
                           " use --format svg") from None
        except OSError as e:
            raise PngError(f"--format png: cannot run {browser} ({e.strerror or e}); use --format svg") from None
        if done.returncode != 0 or os.path.getsize(tmp) == 0:
            last = (done.stderr.decode("utf-8", "replace").strip().splitlines() or [""])[-1][:200]
            raise PngError(f"--format png: chromium failed to draw {target.name} (exit {done.returncode}"
                           + (f": {last}" if last else "") + "); use --format svg")
