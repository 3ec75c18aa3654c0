"""A throwaway PostgreSQL server for the tests: initdb in a temp dir, start, connect, stop and remove.

The binaries are found with `pg_config --bindir`, else under /usr/lib/postgresql/*/bin (Debian's
layout, newest first), else on PATH. initdb and the server refuse to run as root: as root they run
as the `postgres` OS user (created by Debian's package; `nobody` when there is none) and the temp dir
is handed to that user. The server listens on a unix socket in its own dir and on a free port of
127.0.0.1, with durability off (fsync, synchronous commit, full-page writes): fast, and nothing to
keep. `start()` returns a running `PgServer`; it is stopped and removed by `stop()` or at exit, and
by a watchdog process when the test process dies without either (SIGTERM from `timeout`, SIGKILL).

    server = pgserver.start()
    with server.connect() as con:
        con.execute("SELECT 1")
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl) were not found (looked at `pg_config --bindir`, "
    "/usr/lib/postgresql/*/bin and PATH). Install them: `apt-get install postgresql` "
    "(Debian/Ubuntu; .ci/run does it)."
)
SUPERUSER = "postgres"
DATABASE = "postgres"
_TOOLS = ("initdb", "pg_ctl", "postgres")


class PostgresNotFoundError(RuntimeError):
    pass


# Run in its own session: waits for EOF on stdin (the test process closed the pipe, or died), then shuts
# down the server whose postmaster.pid is given (SIGQUIT: immediate shutdown) and removes its dir.
_WATCHDOG = """
import os, shutil, signal, sys, time
root, pidfile = sys.argv[1], sys.argv[2]
sys.stdin.read()
try:
    with open(pidfile) as f:
        pid = int(f.readline())
except (OSError, ValueError):
    pid = None
if pid:
    try:
        os.kill(pid, signal.SIGQUIT)
        for _ in range(200):
            os.kill(pid, 0)
            time.sleep(0.05)
    except OSError:
        pass
shutil.rmtree(root, ignore_errors=True)
"""


def _has_tools(bindir: str | Path) -> bool:
    return all(os.access(Path(bindir) / t, os.X_OK) for t in _TOOLS)


def _version_key(path: str) -> tuple[int, ...]:
    # /usr/lib/postgresql/15/bin -> (15,)
    parts = Path(path).parent.name.split(".")
    return tuple(int(p) for p in parts if p.isdigit())


def find_bindir() -> Path:
    """The directory holding initdb, pg_ctl and postgres; raises PostgresNotFoundError with an install hint."""
    candidates: list[str] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=30, check=True)
            candidates.append(out.stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    on_path = [shutil.which(t) for t in _TOOLS]
    if all(on_path):
        candidates.append(str(Path(os.path.realpath(on_path[0])).parent))
    for c in candidates:
        if c and _has_tools(c):
            return Path(c)
    raise PostgresNotFoundError(INSTALL_HINT)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as() -> pwd.struct_passwd | None:
    """The OS user the server runs as when we are root (None: ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PostgresNotFoundError("running as root and there is no `postgres` (or `nobody`) user to run PostgreSQL as")


def _temp_parent(user: pwd.struct_passwd | None) -> str | None:
    """Where the cluster dir goes: the usual temp dir, unless another user could not reach it."""
    base = tempfile.gettempdir()
    if user is None:
        return None
    path = Path(base).resolve()
    for p in (path, *path.parents):
        if not os.stat(p).st_mode & 0o001:  # not traversable by others
            return "/tmp"
    return base


@dataclass
class PgServer:
    bindir: Path
    root: Path  # temp dir: data/, the socket, the log
    port: int
    user: pwd.struct_passwd | None = None
    _stopped: bool = field(default=False, repr=False)
    _watchdog: subprocess.Popen | None = field(default=None, repr=False)

    def watch(self) -> None:
        """Start the watchdog that cleans up after a test process that dies without `stop()`."""
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(self.root), str(self.data / "postmaster.pid")],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # not killed with the test process's group
        )

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    @property
    def dsn(self) -> str:
        """A libpq connection string over TCP (127.0.0.1)."""
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={DATABASE}"

    @property
    def socket_dsn(self) -> str:
        return f"host={self.socket_dir} port={self.port} user={SUPERUSER} dbname={DATABASE}"

    def connect(self, dbname: str = DATABASE, **kwargs):
        """A psycopg 3 connection (autocommit unless told otherwise) over the unix socket."""
        import psycopg

        kwargs.setdefault("autocommit", True)
        return psycopg.connect(host=str(self.socket_dir), port=self.port, user=SUPERUSER, dbname=dbname, **kwargs)

    def __call__(self, dbname: str = DATABASE, **kwargs):
        return self.connect(dbname, **kwargs)

    # ---- process control ----

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        kwargs: dict = {}
        env = dict(os.environ, LC_ALL="C", LANG="C")
        env.pop("PGDATA", None)
        if self.user is not None:
            kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
            env["HOME"] = str(self.root)
        return subprocess.run(
            args, capture_output=True, text=True, timeout=timeout, env=env, cwd=self.root, check=False, **kwargs
        )

    def _fail(self, what: str, result: subprocess.CompletedProcess | None = None) -> RuntimeError:
        detail = ""
        if result is not None:
            detail += f"\n{result.stdout}\n{result.stderr}"
        if self.log.exists():
            detail += "\n-- server log --\n" + "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])
        return RuntimeError(f"PostgreSQL ({self.bindir}): {what}{detail}")

    def initdb(self) -> None:
        result = self._run(
            str(self.bindir / "initdb"),
            "-D", str(self.data),
            "--username", SUPERUSER,
            "--auth", "trust",
            "--encoding", "UTF8",
            "--locale", "C",
            "--no-sync",
        )  # fmt: skip
        if result.returncode != 0:
            raise self._fail("initdb failed", result)

    def start(self, timeout: float = 60) -> None:
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-c port={self.port}",
                f"-c unix_socket_directories='{self.socket_dir}'",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=40",
                "-c shared_buffers=32MB",
                "-c log_min_messages=warning",
            ]
        )
        result = self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "-t", str(int(timeout)), "start",
            timeout=timeout + 30,
        )  # fmt: skip
        if result.returncode != 0:
            raise self._fail("the server did not start", result)
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.connect(connect_timeout=5) as con:
                    con.execute("SELECT 1")
                return
            except psycopg.OperationalError as e:
                if time.monotonic() > deadline:
                    raise self._fail(f"no connection after {timeout:.0f} s: {e}") from e
                time.sleep(0.1)

    def _postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        """Stop the server (fast, then immediate, then SIGKILL of its postmaster) and remove the temp dir."""
        if self._stopped:
            return
        self._stopped = True
        try:
            if (self.data / "postmaster.pid").exists():
                for mode in ("fast", "immediate"):
                    try:
                        r = self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop",
                                      timeout=60)  # fmt: skip
                    except subprocess.TimeoutExpired:
                        continue
                    if r.returncode == 0:
                        break
                else:
                    pid = self._postmaster_pid()
                    if pid:
                        try:
                            os.kill(pid, 9)
                        except OSError:
                            pass
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            if self._watchdog is not None:
                self._watchdog.stdin.close()  # it wakes up, finds nothing left and exits
                try:
                    self._watchdog.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self._watchdog.kill()


def start(bindir: Path | None = None) -> PgServer:
    """initdb and start a new server; it is stopped and removed at exit unless stopped before."""
    bindir = bindir or find_bindir()
    user = _run_as()
    root = Path(tempfile.mkdtemp(prefix="modelc-pg-", dir=_temp_parent(user)))
    if user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
    os.chmod(root, 0o700)
    last: Exception | None = None
    server = PgServer(bindir, root, _free_port(), user)
    atexit.register(server.stop)
    server.watch()
    try:
        server.initdb()
        for _attempt in range(3):  # the free port may be taken between choosing and binding it
            try:
                server.start()
                return server
            except RuntimeError as e:
                last = e
                server.port = _free_port()
        raise last or RuntimeError("PostgreSQL did not start")
    except BaseException:
        server.stop()
        raise


if __name__ == "__main__":  # a quick check: python tests/pgserver.py
    t0 = time.monotonic()
    s = start()
    with s.connect() as c:
        print(c.execute("SELECT version()").fetchone()[0])
    print(f"{s.dsn}  ({time.monotonic() - t0:.1f} s)")
    s.stop()
