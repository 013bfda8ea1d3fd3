"""axe-core in a real page: the accessibility rules the browser tests hold every page to."""

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parent / "js"
AXE = TOOLS / "node_modules" / "axe-core" / "axe.min.js"


def axe_source() -> str:
    """axe-core's script, installed from tests/js/package-lock.json on first use; the suite's
    processes take turns (a lock on the lock file), so only one of them installs."""
    with open(TOOLS / "package-lock.json") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not AXE.exists():
            npm = shutil.which("npm")
            if npm is None:
                if os.environ.get("CI"):
                    pytest.fail("npm is required in CI to install axe-core: .ci/run installs nodejs")
                pytest.skip("npm is not installed (apt-get install npm): axe-core was not run")
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=TOOLS, check=True,
                           capture_output=True, timeout=300)
    return AXE.read_text()


async def violations(page, *, exclude: tuple[str, ...] = ()) -> list[dict]:
    """Every WCAG 2.x A/AA rule axe-core breaks on the page as it is now, as {id, nodes}.

    The script is evaluated, not injected: the page's Content-Security-Policy (rightly) refuses
    inline scripts, and an evaluated one is not subject to it.
    """
    await page.evaluate(axe_source())
    found = await page.evaluate(
        """async (exclude) => {
            const result = await axe.run({exclude: exclude.map((s) => [s])}, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']},
            });
            return result.violations.map((v) => ({
                id: v.id, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')),
            }));
        }""",
        list(exclude),
    )
    return found
