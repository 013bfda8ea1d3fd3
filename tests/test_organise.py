"""The organisers' console: named accounts, sign-in, sessions, CSRF, and its forms over real HTTP."""

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

PASSWORD = re.compile(r"Password \(shown once, keep it safe\): (\S+)")


def live(*args: str, db: Path, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "live", *args, "--db", str(db)],
        capture_output=True, text=True, timeout=30, check=check,
    )


def add_organiser(db: Path, name: str) -> str:
    """Add an account from the shell, as an operator would; return the password it printed."""
    out = live("organiser", "add", name, db=db).stdout
    return PASSWORD.search(out).group(1)


def test_organiser_add_prints_a_strong_password_once_and_stores_only_its_hash(tmp_path):
    db = tmp_path / "cli.db"
    out = live("organiser", "add", "Priya Shah", db=db).stdout
    password = PASSWORD.search(out).group(1)
    assert len(password) >= 20 and "/organise" in out
    listing = live("organiser", "list", db=db).stdout
    assert "Priya Shah" in listing and password not in listing
    with sqlite3.connect(db) as conn:
        (stored,) = conn.execute("SELECT password_hash FROM organisers").fetchone()
    assert stored.startswith("$argon2id$") and password not in stored


def test_organiser_names_are_unique_whatever_their_case_and_removal_frees_them(tmp_path):
    db = tmp_path / "cli.db"
    add_organiser(db, "Priya")
    again = live("organiser", "add", "PRIYA", db=db, check=False)
    assert again.returncode == 2 and "already exists" in again.stdout
    assert live("organiser", "add", "  ", db=db, check=False).returncode == 2
    assert "Priya removed" in live("organiser", "remove", "priya", db=db).stdout
    assert "No organiser accounts yet" in live("organiser", "list", db=db).stdout
    gone = live("organiser", "remove", "Priya", db=db, check=False)
    assert gone.returncode == 2 and "No organiser is called" in gone.stdout
    add_organiser(db, "Priya")
    assert "Priya" in live("organiser", "list", db=db).stdout
