"""A local clamd for the sandbox, the tests and the benchmarks: Debian's `clamav-daemon` with a small
signature database this repository builds itself (the real one cannot be downloaded here, and clamd
refuses to start without any database).

The database holds one signature per documented format (docs/reference/malware-engines.md#test-signatures):

  .hdb  MD5:size:name          the EICAR test file (68 bytes)
  .hsb  SHA256:size:name       ClamAV's own test executable `clam.exe` (544 bytes, Debian clamav-testfiles),
                               which clamd also finds inside mail (base64, uuencode), BinHex, HTML, RTF,
                               OLE2, PDF, zip and other containers it unpacks
  .ndb  name:target:offset:hex a marker string anywhere in a file
  .ldb  logical                two markers that must both be present

clamd listens on 127.0.0.1 only (TCP, no authentication: never expose it) with the limits and alerts
the production service uses (infra/clamav/clamd.conf): an oversized or encrypted input is an alert,
never `stream: OK`.

`python -m sandbox.clamd` runs one in the foreground and prints its address.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from sandbox.ports import HOST, Reservation

# EICAR's standard test string, assembled here so that this source file is not itself a detection.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-" + b"TEST-FILE!$H+H*"
# ClamAV's test executable (GPL-2.0 test data from ClamAV; Debian package clamav-testfiles, /usr/share/clamav-testfiles).
CLAM_EXE_SHA256 = "71e7b604d18aefd839e51a39c88df8383bb4c071dc31f87f00a2b5df580d4495"
CLAM_EXE_SIZE = 544
MARKER = b"CG-TEST-MARKER-7f3a"  # any file holding it is "malware" to the test database
LOGICAL_PARTS = (b"CG-LDB-PART-A-91c2", b"CG-LDB-PART-B-91c2")  # both needed
SIGNATURES = {
    "connect-guard-test.hdb": f"{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:Local.Test.EICAR_HDB\n",
    "connect-guard-test.hsb": f"{CLAM_EXE_SHA256}:{CLAM_EXE_SIZE}:Local.Test.ClamExe_HSB\n",
    "connect-guard-test.ndb": f"Local.Test.Marker_NDB:0:*:{MARKER.hex()}\n",
    "connect-guard-test.ldb": (
        f"Local.Test.Logical_LDB;Engine:51-255,Target:0;0&1;{LOGICAL_PARTS[0].hex()};{LOGICAL_PARTS[1].hex()}\n"
    ),
}
# What clamd names each detection (unsigned custom databases get `.UNOFFICIAL`).
EICAR_SIGNATURE = "Local.Test.EICAR_HDB.UNOFFICIAL"
CLAM_EXE_SIGNATURE = "Local.Test.ClamExe_HSB.UNOFFICIAL"

# The production limits (infra/clamav/clamd.conf): above Connect's 100 MB maximum, alerts on.
CONFIG = {
    "StreamMaxLength": "105M",
    "MaxFileSize": "105M",
    "MaxScanSize": "400M",
    "AlertExceedsMax": "yes",
    "AlertEncrypted": "yes",
    "AlertBrokenExecutables": "no",
    "MaxThreads": "4",
    "SelfCheck": "3600",
    "ConcurrentDatabaseReload": "no",
}


def binary() -> str | None:
    """Debian's clamd, when installed (the Makefile installs clamav-daemon as it installs Chromium)."""
    found = shutil.which("clamd")
    if found:
        return found
    return "/usr/sbin/clamd" if os.access("/usr/sbin/clamd", os.X_OK) else None


def build_database(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in SIGNATURES.items():
        (directory / name).write_text(text)
    return directory


class LocalClamd:
    """One clamd process on 127.0.0.1 with the test database; a context manager."""

    def __init__(self, workdir: Path | None = None, **overrides: str):
        self._own_dir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="cg-clamd-"))
        self._port = Reservation()  # held until stop(): clamd binds it with SO_REUSEADDR (sandbox/ports.py)
        self.port = self._port.port
        self.config = {**CONFIG, **overrides}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def start(self, timeout: float = 60.0) -> LocalClamd:
        try:
            return self._start(timeout)
        except BaseException:
            self._port.release()  # clamd is not running (it exited, or never started): its log, if any, stays
            raise

    def _start(self, timeout: float) -> LocalClamd:
        executable = binary()
        if executable is None:
            raise RuntimeError("clamd is not installed: `make clamav` installs Debian's clamav-daemon")
        database = build_database(self.workdir / "db")
        conf = self.workdir / "clamd.conf"
        lines = {
            "Foreground": "yes",
            "DatabaseDirectory": str(database),
            "TCPSocket": str(self.port),
            "TCPAddr": HOST,
            "LogFile": str(self.workdir / "clamd.log"),
            "PidFile": str(self.workdir / "clamd.pid"),
            **self.config,
        }
        conf.write_text("".join(f"{key} {value}\n" for key, value in lines.items()))
        self.process = subprocess.Popen(
            [executable, "--config-file", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"clamd exited with {self.process.returncode}: see {self.workdir / 'clamd.log'}")
            if self.ping():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("clamd did not answer PING in time")

    def ping(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=1.0) as conn:
                conn.sendall(b"zPING\0")
                return conn.recv(16) == b"PONG\0"
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None
        self._port.release()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> LocalClamd:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def main() -> int:
    with LocalClamd() as clamd:
        print(
            f"clamd ready at {clamd.address} (SCAN_ANTIVIRUS=clamav SCAN_CLAMAV_ADDRESS={clamd.address}); Ctrl-C stops",
            flush=True,
        )
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
