"""Staff login throttling and the audit log, on a real SQLite file shared like the app shares it."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from assistant.access import AuditLog, LoginGuard
from assistant.config import StaffSettings
from tests.conftest import ROOT


class Clock:
    """A settable clock, so back-off and lock-out are checked without sleeping."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _guard(path: Path, clock: Clock, **limits: float) -> LoginGuard:
    settings = StaffSettings(
        login_max_failures=int(limits.get("per_address", 3)),
        login_global_max_failures=int(limits.get("overall", 100)),
        login_lockout_s=limits.get("lockout", 600.0),
        login_backoff_s=limits.get("backoff", 1.0),
    )
    return LoginGuard(path, settings, clock=clock)


def _fail(guard: LoginGuard, address: str) -> float:
    wait = guard.attempt(address)
    if wait == 0:
        guard.failed(address)
    return wait


def test_wait_doubles_then_the_address_is_locked_out(tmp_path: Path) -> None:
    clock = Clock()
    guard = _guard(tmp_path / "staff.sqlite3", clock)
    assert _fail(guard, "10.0.0.1") == 0, "the first attempt is allowed"
    assert guard.waiting("10.0.0.1") == pytest.approx(1.0), "one failure: wait 1 s"
    assert _fail(guard, "10.0.0.1") > 0, "an attempt during the wait is refused"
    clock.now += 1.0
    assert _fail(guard, "10.0.0.1") == 0, "after the wait the next attempt is allowed"
    assert guard.waiting("10.0.0.1") == pytest.approx(2.0), "two failures: wait 2 s"
    clock.now += 2.0
    assert _fail(guard, "10.0.0.1") == 0
    assert guard.waiting("10.0.0.1") == pytest.approx(600.0), "three failures: locked out"
    assert guard.waiting("10.0.0.2") == 0, "another address is not locked"
    clock.now += 600.0
    assert guard.waiting("10.0.0.1") == 0, "the lock-out ends"


def test_a_correct_password_clears_the_address(tmp_path: Path) -> None:
    clock = Clock()
    guard = _guard(tmp_path / "staff.sqlite3", clock)
    _fail(guard, "10.0.0.1")
    clock.now += 1.0
    assert guard.attempt("10.0.0.1") == 0
    guard.succeeded("10.0.0.1")
    assert guard.waiting("10.0.0.1") == 0, "a success forgets the failures"


def test_failures_from_many_addresses_lock_everyone(tmp_path: Path) -> None:
    clock = Clock()
    guard = _guard(tmp_path / "staff.sqlite3", clock, per_address=3, overall=5)
    for n in range(5):
        assert _fail(guard, f"10.0.1.{n}") == 0, "one guess per address is allowed"
    assert guard.waiting("192.168.0.9") > 0, "a sixth address meets the global lock"


def test_parallel_sessions_cannot_guess_past_the_limit(tmp_path: Path) -> None:
    """Forty threads, each its own guard object on the shared file (as sessions of several
    processes would be), all guessing at once from one address: exactly three get through."""
    path = tmp_path / "staff.sqlite3"
    _guard(path, Clock())  # create the schema once
    allowed: list[float] = []
    barrier = threading.Barrier(40)

    def guess() -> None:
        guard = _guard(path, Clock(), backoff=0.0)
        barrier.wait()
        if guard.attempt("10.0.0.1") == 0:
            allowed.append(1.0)

    threads = [threading.Thread(target=guess) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 3, f"{len(allowed)} guesses got through; the limit is 3"


def test_another_process_sees_the_lockout(tmp_path: Path) -> None:
    path = tmp_path / "staff.sqlite3"
    guard = LoginGuard(path, StaffSettings(login_max_failures=3, login_backoff_s=0.0))
    for _ in range(3):
        _fail(guard, "10.0.0.1")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from assistant.access import LoginGuard\n"
        "from assistant.config import StaffSettings\n"
        "guard = LoginGuard(Path(sys.argv[1]), StaffSettings(login_max_failures=3))\n"
        "print(guard.attempt('10.0.0.1'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert float(result.stdout) > 0, f"the other process must see the lock: {result.stdout}"


def test_each_failure_is_logged_with_its_address(tmp_path: Path, caplog) -> None:
    guard = _guard(tmp_path / "staff.sqlite3", Clock())
    with caplog.at_level("WARNING", logger="assistant.access"):
        _fail(guard, "203.0.113.7")
    assert any("203.0.113.7" in r.getMessage() for r in caplog.records), caplog.text


def test_audit_log_keeps_the_newest_entries_bounded(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "staff.sqlite3", max_rows=5)
    for n in range(8):
        audit.record("upload", f"news/{n}.md", address="10.0.0.1")
    entries = audit.recent(10)
    assert [e.detail for e in entries] == [f"news/{n}.md" for n in (7, 6, 5, 4, 3)], (
        "newest first, and only the newest max_rows are kept"
    )
    assert all(e.address == "10.0.0.1" and e.action == "upload" for e in entries)
