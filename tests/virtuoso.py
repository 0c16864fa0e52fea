"""A private, loopback-only Virtuoso 7 (Debian's ``virtuoso-opensource``) for tests and benchmarks.

``VirtuosoServer`` writes its own ini and database folder, starts ``virtuoso-t`` in the foreground as a
child process on 127.0.0.1 with free ports (never the system service), sets the dba password, creates a
user with the SPARQL_SELECT and SPARQL_UPDATE roles (never granted to the anonymous "SPARQL" account) and
stops it afterwards: ``shutdown`` through isql-vt, SIGTERM (then SIGKILL) as fallback.

    with VirtuosoServer(tmp_path / "virtuoso") as v:
        env = v.env()   # OPENNESS_SPARQL_URL, OPENNESS_UPDATE_URL, OPENNESS_GSP_URL, user, password
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

VIRTUOSO = shutil.which("virtuoso-t")
ISQL = shutil.which("isql-vt")
VSP_ROOT = "/var/lib/virtuoso-opensource-7/vsp"
SKIP_REASON = ("virtuoso-t / isql-vt not installed: apt-get install -y --no-install-recommends "
               "virtuoso-opensource")


def available() -> bool:
    return bool(VIRTUOSO and ISQL)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


INI = """\
[Database]
DatabaseFile = {db}/virtuoso.db
ErrorLogFile = {db}/virtuoso.log
LockFile = {db}/virtuoso.lck
TransactionFile = {db}/virtuoso.trx
xa_persistent_file = {db}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {db}/virtuoso-temp.db
TransactionFile = {db}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
LiteMode = 0
DisableUnixSocket = 1
DisableTcpSocket = 0
ServerThreads = 20
CheckpointInterval = 60
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
ThreadsPerQuery = 2
AsyncQueueMaxThreads = 10
DirsAllowed = ., {dirs_allowed}
TransactionAfterImageLimit = 500000000
MaxMemPoolSize = 200000000

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {vsp}
ServerThreads = 20
MaxKeepAlives = 10
KeepAliveTimeout = 10
MaxCachedProxyConnections = 10
ProxyConnectionCacheTimeout = 15
HTTPThreadSize = 280000
HttpPrintWarningsInOutput = 0
Charset = UTF-8
MaintenancePage = atomic.html
EnabledGzipContent = 1

[AutoRepair]
BadParentLinks = 0

[Client]
SQL_PREFETCH_ROWS = 100
SQL_PREFETCH_BYTES = 16000
SQL_QUERY_TIMEOUT = 0
SQL_TXN_TIMEOUT = 0

[SPARQL]
ResultSetMaxRows = {max_rows}
MaxQueryCostEstimationTime = {max_cost_estimate}
MaxQueryExecutionTime = 120
DefaultQuery = select distinct ?Concept where {{[] a ?Concept}} LIMIT 100
DeferInferenceRulesInit = 0
"""


class VirtuosoServer:
    """One Virtuoso instance in ``folder``; a context manager (``start`` / ``stop``)."""

    def __init__(self, folder: Path, *, user: str = "openness", buffers: int = 170000,
                 dirs_allowed: str = "/tmp", max_rows: int = 1_000_000, max_cost_estimate: int = 400) -> None:
        self.folder = Path(folder)
        self.http_port = free_port()
        self.sql_port = free_port()
        while self.sql_port == self.http_port:
            self.sql_port = free_port()
        self.user = user
        self.password = "pw" + secrets.token_hex(8)
        self.dba_password = "dba" + secrets.token_hex(8)
        self.buffers = buffers
        self.dirs_allowed = dirs_allowed
        self.max_rows = max_rows  # [SPARQL] ResultSetMaxRows: above the largest fact query (benchmarks)
        # [SPARQL] MaxQueryCostEstimationTime: queries Virtuoso estimates slower than this many seconds are refused
        # before they start. Its estimates grow with the machine's load (the same cross product: under 400 s on
        # a quiet machine, 457-934 s beside other work), so a test that needs a query to run uses a high one.
        self.max_cost_estimate = max_cost_estimate
        self.process: subprocess.Popen | None = None
        self._dba = "dba"  # the login's password before it is changed

    # --- addresses -------------------------------------------------------------------------------------

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def sparql_url(self) -> str:
        return f"{self.base}/sparql-auth"

    @property
    def gsp_url(self) -> str:
        return f"{self.base}/sparql-graph-crud-auth"

    def env(self, **extra: str) -> dict[str, str]:
        """The OPENNESS_* settings that point the product at this instance."""
        return {"OPENNESS_SPARQL_URL": self.sparql_url, "OPENNESS_UPDATE_URL": self.sparql_url,
                "OPENNESS_GSP_URL": self.gsp_url, "OPENNESS_SPARQL_USER": self.user,
                "OPENNESS_SPARQL_PASSWORD": self.password, "OPENNESS_SPARQL_AUTH": "digest", **extra}

    # --- life cycle ------------------------------------------------------------------------------------

    def start(self, timeout: float = 60) -> VirtuosoServer:
        if not available():
            raise RuntimeError(SKIP_REASON)
        db = self.folder / "db"
        db.mkdir(parents=True, exist_ok=True)
        ini = self.folder / "virtuoso.ini"
        ini.write_text(INI.format(db=db, sql_port=self.sql_port, http_port=self.http_port,
                                  buffers=self.buffers, dirty=self.buffers * 3 // 4,
                                  dirs_allowed=self.dirs_allowed, vsp=VSP_ROOT,
                                  max_rows=self.max_rows, max_cost_estimate=self.max_cost_estimate))
        self._log = open(self.folder / "stdout.log", "wb")  # noqa: SIM115  (closed in stop)
        self.process = subprocess.Popen([VIRTUOSO, "+foreground", "+configfile", str(ini)], cwd=self.folder,
                                        stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            self._wait_ready(timeout)
            self.isql(f"USER_SET_PASSWORD('dba', '{self.dba_password}'); checkpoint;")
            self._dba = self.dba_password
            self.isql(f"DB.DBA.USER_CREATE('{self.user}', '{self.password}');"
                      f'GRANT SPARQL_SELECT TO "{self.user}";'
                      f'GRANT SPARQL_UPDATE TO "{self.user}";'
                      # the Graph Store endpoint writes through DB.DBA.SPARQL_... procedures and the
                      # RDF_QUAD table; SPARQL_UPDATE covers both on Virtuoso 7.2
                      "checkpoint;")
        except BaseException:
            self.stop()
            raise
        return self

    def kill(self) -> None:
        """SIGKILL the server, as a crash would (the database folder stays for ``restart``)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(20)

    def restart(self, timeout: float = 60) -> VirtuosoServer:
        """Start again on the same ini and database folder (after ``kill``): Virtuoso replays its
        transaction log, so only committed transactions survive; the accounts are already there."""
        self.kill()
        self.process = subprocess.Popen([VIRTUOSO, "+foreground", "+configfile", str(self.folder / "virtuoso.ini")],
                                        cwd=self.folder, stdout=self._log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"virtuoso-t exited with {self.process.returncode}: " + self.log_tail())
            try:
                response = httpx.get(f"{self.base}/sparql", params={"query": "ASK {}"}, timeout=2)
                if response.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"virtuoso-t not ready after {timeout:.0f} s: " + self.log_tail())

    def isql(self, sql: str, timeout: float = 120) -> str:
        """Run SQL through isql-vt as dba; raises on an error reported by isql."""
        done = subprocess.run([ISQL, f"127.0.0.1:{self.sql_port}", "dba", self._dba, f"exec={sql}"],
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if done.returncode != 0 or "*** Error" in done.stdout + done.stderr:
            raise RuntimeError(f"isql-vt failed ({done.returncode}): {(done.stdout + done.stderr).strip()[-800:]}")
        return done.stdout

    def bulk_load(self, folder: Path, pattern: str, graph: str) -> None:
        """Virtuoso's bulk loader (``folder`` must be under DirsAllowed)."""
        self.isql(f"ld_dir('{folder}', '{pattern}', '{graph}'); rdf_loader_run(); checkpoint;", timeout=600)

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = (self.folder / "db" / "virtuoso.log").read_text(errors="replace")
        except OSError:
            text = ""
        return " | ".join(text.strip().splitlines()[-lines:])

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            try:
                subprocess.run([ISQL, f"127.0.0.1:{self.sql_port}", "dba", self._dba, "exec=shutdown;"],
                               capture_output=True, timeout=20, stdin=subprocess.DEVNULL)
            except (OSError, subprocess.SubprocessError):
                pass
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)
        log = getattr(self, "_log", None)
        if log is not None:
            log.close()

    def __enter__(self) -> VirtuosoServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without any OPENNESS_* setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENNESS_")}
    env.update(extra)
    return env
