"""A throwaway PostgreSQL 15 server for end-to-end tests (Python standard library only).

initdb in a temp directory, a free loopback port, fsync off, wal_level=logical by default; local
(unix socket) connections are trusted, TCP connections need a SCRAM password, so tests can check
bad credentials. `stop()` kills the server (-m immediate) and deletes the directory; so does
reaper.py's watchdog when the test process dies without stopping it (e.g. SIGKILLed by ctest's
timeout: pg_ctl starts the server in a session of its own, which such a kill misses). When the
tests run as root (CI), initdb and the server run as the `postgres` system user via runuser,
because PostgreSQL refuses to run as root (as tests/support/postgres_server.cc does).

Roles made by `create_roles()`: `sluice` (password `secret`, LOGIN REPLICATION) and
`noreplication` (password `secret`, LOGIN, no REPLICATION); `recreate_database("shop")` gives a
fresh database owned by `sluice` (dropping its replication slots first, which DROP DATABASE
requires).

    with PgServer() as pg:            # or PgServer(wal_level="replica")
        pg.create_roles()
        pg.recreate_database("shop")
        pg.psql("CREATE TABLE t (id int PRIMARY KEY)", db="shop", user="sluice")
        rows = pg.psql("SELECT id, NULL FROM t", db="shop")   # [["1", None], ...]
"""

import atexit
import csv
import io
import os
import shutil
import socket
import subprocess
import tempfile
import time

import reaper

BIN = "/usr/lib/postgresql/15/bin"

# psql prints NULL as this (set with \pset null), so NULL and the empty string stay apart.
NULL_MARKER = "\x01NULL\x01"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def quote_literal(text):
    return "'" + text.replace("'", "''") + "'"


class PsqlError(AssertionError):
    pass


class PgServer:
    """One PostgreSQL 15 server. Not thread-safe to start/stop; `psql` may be called from any
    thread (each call is its own psql process)."""

    def __init__(self, wal_level="logical", extra_settings=None):
        self.wal_level = wal_level
        self.extra_settings = dict(extra_settings or {})
        self.dir = None
        self.port = None
        self.as_postgres_user = os.geteuid() == 0
        self.prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres_user else []

    @property
    def data_dir(self):
        return os.path.join(self.dir, "data")

    @property
    def socket_dir(self):
        return self.dir

    def _run(self, args, **kwargs):
        return subprocess.run(self.prefix + args, capture_output=True, text=True, timeout=120,
                              **kwargs)

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="sluice_pg_")
        atexit.register(self.stop)  # also when a test run is interrupted
        # And when the test process is killed: the server and the directory go with it.
        reaper.watch_path(self.dir)
        reaper.watch_postgres(self.data_dir)
        if self.as_postgres_user:
            shutil.chown(self.dir, user="postgres")
        r = self._run([os.path.join(BIN, "initdb"), "-D", self.data_dir, "-U", "postgres",
                       "--auth-local=trust", "--auth-host=scram-sha-256", "--locale=C", "-E",
                       "UTF8", "--no-sync"])
        if r.returncode != 0:
            self.stop()
            raise RuntimeError("initdb failed:\n" + r.stdout + r.stderr)
        settings = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": self.socket_dir,
            "fsync": "off",
            "wal_level": self.wal_level,
            "max_wal_senders": "10",
            "max_replication_slots": "10",
            "timezone": "UTC",
        }
        settings.update(self.extra_settings)
        options = " ".join("-c %s=%s" % kv for kv in settings.items())
        log = os.path.join(self.dir, "server.log")
        last = None
        for _ in range(5):  # another process may take the port between picking and binding
            self.port = free_port()
            r = self._run([os.path.join(BIN, "pg_ctl"), "-D", self.data_dir, "-l", log, "-w",
                           "-t", "60", "-o", "-p %d %s" % (self.port, options), "start"])
            if r.returncode == 0:
                return self
            last = r.stdout + r.stderr
        text = open(log).read() if os.path.exists(log) else ""
        self.stop()
        raise RuntimeError("PostgreSQL did not start:\n%s\n%s" % (last, text))

    def stop(self):
        if self.dir is None:
            return
        if os.path.exists(os.path.join(self.data_dir, "postmaster.pid")):
            self._run([os.path.join(BIN, "pg_ctl"), "-D", self.data_dir, "-m", "immediate", "-w",
                       "stop"])
        shutil.rmtree(self.dir, ignore_errors=True)
        reaper.forget_postgres(self.data_dir)
        reaper.forget_path(self.dir)
        self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- SQL --------------------------------------------------------------------------------

    def psql_args(self, db="postgres", user="postgres"):
        return [os.path.join(BIN, "psql"), "-X", "-q", "-t", "--csv", "-v", "ON_ERROR_STOP=1",
                "-P", "null=" + NULL_MARKER, "-h", self.socket_dir, "-p", str(self.port),
                "-U", user, "-d", db]

    def psql(self, sql, db="postgres", user="postgres", timeout=60):
        """Runs `sql` (any number of statements, each in autocommit unless the text says BEGIN)
        and returns the rows of every result as lists of strings, None for NULL."""
        env = dict(os.environ, PGTZ="UTC", PGDATESTYLE="ISO", PGOPTIONS="-c intervalstyle=postgres")
        r = subprocess.run(self.psql_args(db, user) + ["-f", "-"], input=sql, env=env,
                           capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise PsqlError("psql (%s@%s) failed: %s\nSQL: %s" % (user, db, r.stderr.strip(),
                                                                  sql[:2000]))
        rows = []
        for row in csv.reader(io.StringIO(r.stdout, newline="")):
            rows.append([None if v == NULL_MARKER else v for v in row])
        return rows

    def value(self, sql, db="postgres", user="postgres"):
        """The single value of a one-row, one-column query."""
        rows = self.psql(sql, db=db, user=user)
        if len(rows) != 1 or len(rows[0]) != 1:
            raise PsqlError("expected one value from %r, got %r" % (sql, rows))
        return rows[0][0]

    def writer(self, db="postgres", user="postgres"):
        """A long-running psql reading statements from its stdin (see PsqlWriter)."""
        return PsqlWriter(self.psql_args(db, user))

    # -- roles and databases -----------------------------------------------------------------

    def create_roles(self):
        self.psql("""
            CREATE ROLE sluice LOGIN REPLICATION PASSWORD 'secret';
            CREATE ROLE noreplication LOGIN PASSWORD 'secret';
        """)

    def recreate_database(self, name="shop", owner="sluice"):
        """Drops `name` (with its replication slots and connections) and creates it empty."""
        lit = quote_literal(name)
        self.psql("""
            SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots
             WHERE database = %s AND active_pid IS NOT NULL;
        """ % lit)
        # A slot's walsender may take a moment to go; dropping the slot retries until it has.
        for _ in range(100):
            try:
                self.psql("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                          "WHERE database = %s;" % lit)
                break
            except PsqlError as e:
                if "is active" not in str(e):
                    raise
                time.sleep(0.05)
        self.psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE);' % name)
        self.psql('CREATE DATABASE "%s" OWNER "%s";' % (name, owner))

    def url(self, user="sluice", password="secret", db="shop", port=None):
        return "postgres://%s:%s@127.0.0.1:%d/%s" % (user, password, port or self.port, db)

    def slots(self, db="shop"):
        """{slot_name: (active, confirmed_flush_lsn)} of the logical slots on `db`."""
        rows = self.psql("SELECT slot_name, active, confirmed_flush_lsn FROM pg_replication_slots "
                         "WHERE database = %s;" % quote_literal(db))
        return {r[0]: (r[1] == "t", r[2]) for r in rows}

    def publications(self, db="shop"):
        return {r[0] for r in self.psql("SELECT pubname FROM pg_publication;", db=db)}


def lsn_to_int(lsn):
    hi, lo = lsn.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)


class PsqlWriter:
    """A psql process fed statements through stdin, so a steady stream of small transactions
    does not start a process per statement. `sync()` waits until everything sent so far has run
    (psql echoes a marker back)."""

    def __init__(self, args):
        self.proc = subprocess.Popen(args + ["-f", "-"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     bufsize=1)
        self.syncs = 0

    def execute(self, sql):
        self.proc.stdin.write(sql.rstrip().rstrip(";") + ";\n")
        self.proc.stdin.flush()

    def sync(self):
        self.syncs += 1
        marker = "sync-%d" % self.syncs
        self.execute("SELECT '%s'" % marker)
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise PsqlError("psql writer exited: " + self.proc.stderr.read())
            if line.strip() == marker:
                return

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        if self.proc.returncode != 0:
            raise PsqlError("psql writer failed (%s): %s" % (self.proc.returncode, err))
