"""A wheel of the project carries what the server reads at run time, so `pip install .` serves pages."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Every file under these folders of the package is read by the server.
DATA = ("live/templates", "live/strings", "live/static")


def _tracked(*paths: str) -> list[str]:
    found = subprocess.run(["git", "ls-files", *paths], cwd=ROOT, check=True, capture_output=True, text=True)
    return found.stdout.split()


def test_the_wheel_holds_every_template_string_table_and_static_file(tmp_path):
    source = tmp_path / "source"  # the tracked files alone: no build left-overs to borrow a file list from
    for name in _tracked():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        check=True, capture_output=True, timeout=300,
    )
    [wheel] = tmp_path.glob("live-*.whl")
    inside = set(zipfile.ZipFile(wheel).namelist())
    data = _tracked(*DATA)
    assert len(data) > 40, data
    assert sorted(set(data) - inside) == []
