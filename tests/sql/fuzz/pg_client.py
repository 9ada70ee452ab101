"""PostgreSQL access for the fuzzer (psycopg2): one throwaway server for the whole run
(tests/e2e/pg_server.py), a fresh database per mix, every value read back as PostgreSQL's own
text with its type OID (values.py turns both sides into comparable forms)."""

import os
import sys

import psycopg2
import psycopg2.extensions

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "e2e"))
import pg_server  # noqa: E402

from schema import MARKER_TABLE, PUBLICATION, TABLES, schema_ddl  # noqa: E402


class QueryError(Exception):
    pass


def _raw_text_casters(conn):
    """Every type comes back as PostgreSQL's text (arrays and json included)."""
    with conn.cursor() as cur:
        cur.execute("SELECT oid FROM pg_type")
        oids = tuple(r[0] for r in cur.fetchall())
    raw = psycopg2.extensions.new_type(oids, "FUZZ_RAW", lambda value, cur: value)
    psycopg2.extensions.register_type(raw, conn)


class Server:
    """The PostgreSQL server of a run; `database(name)` gives a fresh database."""

    def __init__(self):
        self.pg = pg_server.PgServer(extra_settings={"max_replication_slots": "20",
                                                     "max_wal_senders": "20"}).start()
        self.pg.create_roles()

    def stop(self):
        self.pg.stop()

    def url(self, db):
        return self.pg.url(db=db)

    def connect(self, db, user="sluice"):
        if user == "postgres":  # the superuser: over the unix socket (trusted)
            conn = psycopg2.connect(host=self.pg.socket_dir, port=self.pg.port, user=user,
                                    dbname=db)
        else:
            conn = psycopg2.connect(host="127.0.0.1", port=self.pg.port, user=user,
                                    password="secret", dbname=db)
        conn.autocommit = True
        return conn

    def recreate_database(self, db):
        """Drops `db` (its replication slots first) and creates it empty, owned by sluice."""
        self.pg.recreate_database(db)


class Database:
    """A connection to one fresh database of the mix: schema, rows, changes and queries."""

    def __init__(self, server, name):
        self.server = server
        self.name = name
        server.recreate_database(name)
        self.conn = server.connect(name)
        _raw_text_casters(self.conn)
        with self.conn.cursor() as cur:
            cur.execute("SET intervalstyle = 'iso_8601'; SET TimeZone = 'UTC'; "
                        "SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 1")

    def close(self):
        self.conn.close()

    def execute(self, sql):
        with self.conn.cursor() as cur:
            cur.execute(sql)

    def create_schema(self, insert_statements):
        tables = ", ".join([t.name for t in TABLES] + [MARKER_TABLE])
        self.execute(schema_ddl())
        for sql in insert_statements:
            self.execute(sql)
        self.execute("INSERT INTO %s VALUES (1, 0)" % MARKER_TABLE)
        self.execute("CREATE PUBLICATION %s FOR TABLE %s" % (PUBLICATION, tables))

    def apply_transaction(self, changes):
        """Runs `changes` in one transaction; a change that fails (possible once a shrinker
        dropped the changes it relied on) is skipped under a savepoint. Returns the changes
        that ran."""
        applied = []
        with self.conn.cursor() as cur:
            cur.execute("BEGIN")
            for i, sql in enumerate(changes):
                cur.execute("SAVEPOINT s%d" % i)
                try:
                    cur.execute(sql)
                    applied.append(sql)
                except psycopg2.Error:
                    cur.execute("ROLLBACK TO SAVEPOINT s%d" % i)
            cur.execute("COMMIT")
        return applied

    def query(self, sql, timeout_ms=5000, max_rows=None):
        """(column names, type OIDs, rows of text/None); QueryError on any failure."""
        with self.conn.cursor() as cur:
            try:
                cur.execute("SET statement_timeout = %d" % timeout_ms)
                cur.execute(sql)
                names = [d.name for d in cur.description]
                oids = [d.type_code for d in cur.description]
                rows = cur.fetchmany(max_rows + 1) if max_rows else cur.fetchall()
            except psycopg2.Error as e:
                raise QueryError((e.pgerror or str(e)).strip().splitlines()[0]) from None
            finally:
                cur.execute("SET statement_timeout = 0")
        return names, oids, [list(r) for r in rows]

    def replication_slot_ready(self, slot):
        with self.conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_replication_slots WHERE slot_name = %s",
                        (slot,))
            return int(cur.fetchone()[0]) > 0
