"""PostgreSQL change data capture against a real PostgreSQL 15 (tests/e2e/pg_server.py): the
initial snapshot, streamed inserts/updates/deletes (key changes, multi-table transactions,
unchanged TOASTed values, REPLICA IDENTITY FULL), every mapped type compared with PostgreSQL's
own values, restarts (SIGTERM and kill -9) without loss or duplicates, start-up errors, schema
changes while running, and `sluice clean` dropping what sluice created."""

import base64
import calendar
import json
import os
import re
import signal
import subprocess
import threading
import time

import harness
import pg_server

PG = None  # one server for the module; each test gets a fresh database `shop`


def setUpModule():
    global PG
    PG = pg_server.PgServer().start()
    PG.create_roles()


def tearDownModule():
    if PG is not None:
        PG.stop()


# -- values: what PostgreSQL says, in the form docs/rest.md promises -------------------------

MAX_SAFE = 2 ** 53
TIMESTAMP_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?Z$")
DURATION_RE = re.compile(r"^(-)?P(?:(\d+)D)?T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.(\d{1,6}))?S)?$")


def epoch_micros_of_rfc3339(text):
    m = TIMESTAMP_RE.match(text) if isinstance(text, str) else None
    if not m:
        return ("not an RFC 3339 UTC timestamp", text)
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    frac = int((m.group(7) or "0").ljust(6, "0"))
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * 1000000 + frac


def micros_of_iso_duration(text):
    m = DURATION_RE.match(text) if isinstance(text, str) else None
    if not m or text in ("PT", "-PT"):
        return ("not an ISO 8601 duration", text)
    sign, days, hours, minutes, secs, frac = m.groups()
    total = ((int(days or 0) * 24 + int(hours or 0)) * 60 + int(minutes or 0)) * 60 + int(secs or 0)
    total = total * 1000000 + int((frac or "0").ljust(6, "0"))
    return -total if sign else total


def hex_of_base64(text):
    try:
        return base64.b64decode(text, validate=True).hex()
    except Exception:  # noqa: BLE001 - any malformed value just compares unequal
        return ("not base64", text)


def expect_int(text):
    n = int(text)
    return str(n) if abs(n) > MAX_SAFE else n


def expect_float(text):
    if text in ("NaN", "Infinity", "-Infinity"):
        return text
    return float(text)


def actual_int(v):
    # The expected side decides number or string (beyond 2^53); a JSON bool must not pass for 1.
    if isinstance(v, bool):
        return ("bool for an int", v)
    return v


# kind: (SQL expression giving text, PostgreSQL text -> expected value,
#        REST value -> comparable value, REST field type)
KINDS = {
    "bool": ("{c}::text", lambda t: t == "true", lambda v: v, "boolean"),
    "int": ("{c}::text", expect_int, actual_int, "int"),
    "decimal": ("{c}::text", lambda t: t, lambda v: v, "decimal"),
    "float": ("{c}::text", expect_float, lambda v: v, "float"),
    "string": ("{c}", lambda t: t, lambda v: v, "string"),  # {c}: bpchar keeps its padding
    "binary": ("encode({c}, 'hex')", lambda t: t, hex_of_base64, "binary"),
    "date": ("{c}::text", lambda t: t, lambda v: v, "date"),
    "timestamp": ("(extract(epoch from {c}) * 1000000)::bigint::text", int,
                  epoch_micros_of_rfc3339, "timestamp"),
    "duration": ("(extract(epoch from {c}) * 1000000)::bigint::text", int,
                 micros_of_iso_duration, "duration"),
    "json": ("{c}::text", json.loads, lambda v: v, "json"),
    "array": ("array_to_json({c})::text", json.loads, lambda v: v, "json"),
}


def canon(v):
    """A strictly comparable form of a JSON value: True is not 1, "1" is not 1."""
    if v is None:
        return None
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, (int, float)):
        return ("num", v)
    if isinstance(v, str):
        return ("str", v)
    if isinstance(v, list):
        return ("list", tuple(canon(x) for x in v))
    if isinstance(v, dict):
        return ("obj", tuple(sorted((k, canon(x)) for k, x in v.items())))
    return ("other", repr(v))


class Table:
    """A captured PostgreSQL table: its columns and their kinds, so rows read from PostgreSQL
    and from an endpoint can be compared value by value."""

    def __init__(self, name, columns, key="id"):
        self.name = name          # schema-qualified
        self.columns = columns    # [(column, kind)]
        self.key = key            # None: compare as a multiset

    def expected_rows(self):
        exprs = ", ".join(KINDS[k][0].format(c='"%s"' % c) for c, k in self.columns)
        rows = []
        for r in PG.psql("SELECT %s FROM %s;" % (exprs, self.name), db="shop"):
            rows.append({c: (None if t is None else KINDS[k][1](t))
                         for (c, k), t in zip(self.columns, r)})
        return self.arrange(rows)

    def actual_rows(self, sluice, path):
        rows = []
        for r in fetch_all(sluice, path):
            out = {}
            for c, k in self.columns:
                v = r.pop(c, ("missing column", c))
                out[c] = None if v is None else KINDS[k][2](v)
            if r:
                out["<unexpected fields>"] = sorted(r)
            rows.append(out)
        return self.arrange(rows)

    def arrange(self, rows):
        if self.key:
            return {canon(r[self.key]): canon(r) for r in rows}
        return sorted((canon(r) for r in rows), key=repr)


def fetch_all(sluice, path):
    rows, skip = [], 0
    while True:
        page = sluice.get_json("%s?limit=10000&skip=%d" % (path, skip))
        rows.extend(page)
        if len(page) < 10000:
            return rows
        skip += len(page)


def describe_difference(expected, actual):
    if isinstance(expected, dict):
        lines = []
        for k in sorted(set(expected) | set(actual), key=repr):
            e, a = expected.get(k), actual.get(k)
            if e != a:
                if e and a and e[0] == a[0] == "obj":  # only the fields that differ
                    e, a = dict(e[1]), dict(a[1])
                    fields = [f for f in sorted(set(e) | set(a)) if e.get(f) != a.get(f)]
                    e = {f: e.get(f, "<absent>") for f in fields}
                    a = {f: a.get(f, "<absent>") for f in fields}
                lines.append("key %r:\n  postgres: %r\n  sluice:   %r" % (k, e, a))
        return "%d rows in postgres, %d in sluice; %d differ:\n%s" % (
            len(expected), len(actual), len(lines), "\n".join(lines[:8]))
    missing = list(expected)
    extra = []
    for r in actual:
        if r in missing:
            missing.remove(r)
        else:
            extra.append(r)
    return "%d rows in postgres, %d in sluice; missing %r ...; unexpected %r ..." % (
        len(expected), len(actual), missing[:4], extra[:4])


def shorten(text, n=4000):
    return text if len(text) <= n else text[:n // 2] + "\n...\n" + text[-n // 2:]


def wait_until(predicate, sluice, what, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        if sluice.proc is not None and sluice.proc.poll() is not None:
            raise AssertionError("sluice exited with %s while waiting for %s:\n%s"
                                 % (sluice.proc.returncode, what, shorten(sluice.logs())))
        time.sleep(0.1)
    raise AssertionError("timed out waiting for %s\n%s" % (what, shorten(sluice.logs())))


# -- test base ---------------------------------------------------------------------------------

class PgTestCase(harness.SluiceTestCase):
    def setUp(self):
        super().setUp()
        PG.recreate_database("shop")

    def sql(self, text, user="sluice"):
        return PG.psql(text, db="shop", user=user)

    def value(self, text):
        return PG.value(text, db="shop")

    def config(self, sources, connection=None, app_name=None):
        """sources: [(name, table)] or [(name, table, columns)]; every source gets an endpoint
        /name. connection: extra keys of the `pg` connection (url is filled in unless given)."""
        conn = {"publication": "sluice_pub", "slot": "sluice_slot", "snapshot": "initial"}
        conn.update(connection or {})
        if "url" not in conn and "host" not in conn:
            conn["url"] = PG.url()
        lines = []
        if app_name:
            lines.append("app_name: %s" % app_name)
        lines += ["home_dir: ./home", "connections:", "  - name: pg", "    kind: postgres"]
        lines += ["    %s: %s" % (k, v) for k, v in conn.items() if v is not None]
        lines.append("sources:")
        for s in sources:
            extra = ", columns: [%s]" % ", ".join(s[2]) if len(s) > 2 else ""
            lines.append("  - {name: %s, connection: pg, table: %s%s}" % (s[0], s[1], extra))
        lines.append("endpoints:")
        for s in sources:
            lines.append("  - {name: %s, path: /%s, table: %s}" % (s[0], s[0], s[0]))
        lines += ["api:", "  host: 127.0.0.1", "  rest: {port: 0}", ""]
        return "\n".join(lines)

    def wait_synced(self, sluice, table, path, timeout=120, what=None):
        """Polls until the endpoint holds exactly PostgreSQL's rows of `table`."""
        deadline = time.time() + timeout
        while True:
            expected = table.expected_rows()
            try:
                actual = table.actual_rows(sluice, path)
            except (ConnectionError, AssertionError) as e:
                actual = {"<error>": repr(e)}
            if expected == actual:
                return actual
            if time.time() > deadline:
                self.fail("%s: %s never matched PostgreSQL's %s within %ss: %s\n--- sluice log:\n%s"
                          % (what or "sync", path, table.name, timeout,
                             describe_difference(expected, actual), shorten(sluice.logs())))
            if sluice.proc is not None and sluice.proc.poll() is not None:
                self.fail("sluice exited with %s while waiting for %s:\n%s"
                          % (sluice.proc.returncode, path, shorten(sluice.logs())))
            time.sleep(0.1)

    def run_until_exit(self, config_text, timeout=120):
        """Runs `sluice run` on a config that must fail quickly; returns (exit code, output)."""
        self.write("sluice.yaml", config_text)
        try:
            r = subprocess.run([harness.SLUICE, "run", "-c", "sluice.yaml", "--port-file", "port"],
                               cwd=self.workdir, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            out = "".join(x.decode(errors="replace") if isinstance(x, bytes) else x
                          for x in (e.stdout or "", e.stderr or ""))
            self.fail("sluice did not exit within %ss:\n%s" % (timeout, shorten(out)))
        output = r.stdout + r.stderr
        self.assertNotEqual(r.returncode, 0, "sluice should fail but exited 0:\n" + output)
        return r.returncode, output


ORDERS_DDL = """
CREATE TABLE orders (
  id int PRIMARY KEY,
  customer_id int NOT NULL,
  total numeric(12,2),
  status text,
  created_at timestamptz
);
CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, since date);
"""

ORDERS = Table("public.orders", [("id", "int"), ("customer_id", "int"), ("total", "decimal"),
                                 ("status", "string"), ("created_at", "timestamp")])
CUSTOMERS = Table("public.customers", [("id", "int"), ("name", "string"), ("since", "date")])


def insert_orders(first, last):
    return ("INSERT INTO orders SELECT g, g %% 7, CASE WHEN g %% 10 = 0 THEN NULL ELSE g * 1.25 END, "
            "CASE WHEN g %% 3 = 0 THEN 'shipped' ELSE 'new' END, "
            "timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute 0.25 second' "
            "FROM generate_series(%d, %d) g;" % (first, last))


class Snapshot(PgTestCase):
    def test_initial_snapshot_serves_every_row_with_the_database_key(self):
        self.sql(ORDERS_DDL + insert_orders(1, 300))
        s = self.sluice(self.config([("orders", "public.orders")])).start()
        self.wait_synced(s, ORDERS, "/orders", what="initial snapshot")
        root = s.get_json("/")
        orders = [e for e in root["endpoints"] if e["path"] == "/orders"][0]
        self.assertEqual(orders["primary_key"], ["id"])
        self.assertEqual([(f["name"], f["type"]) for f in orders["fields"]],
                         [("id", "int"), ("customer_id", "int"), ("total", "decimal"),
                          ("status", "string"), ("created_at", "timestamp")])
        self.assertEqual(s.get_json("/orders/7"),
                         {"id": 7, "customer_id": 0, "total": "8.75", "status": "new",
                          "created_at": "2026-01-01T00:07:01.75Z"})
        self.assertIsNone(s.get_json("/orders/10")["total"])
        s.get_json("/orders/301", expect=404)
        self.assertEqual(s.post_json("/orders/count", {"$filter": {"status": "shipped"}}),
                         {"count": 100})
        self.assertEqual(s.stop(), 0)

    def test_snapshot_never_streams_only_later_changes(self):
        self.sql(ORDERS_DDL + insert_orders(1, 5))
        s = self.sluice(self.config([("orders", "public.orders")],
                                    {"snapshot": "never"})).start()
        # Wait for the slot: changes committed after it exists must arrive.
        wait_until(lambda: "sluice_slot" in PG.slots(), s, "the replication slot")
        self.sql(insert_orders(6, 8))
        s.wait_for(lambda: s.count("/orders") == 3, what="streamed inserts")
        self.assertEqual([r["id"] for r in fetch_all(s, "/orders")], [6, 7, 8])
        # Rows 1..5 were never loaded: changes to them are not an error. An update arrives as
        # the new row at most; a delete removes nothing.
        self.sql("UPDATE orders SET status = 'late' WHERE id IN (1, 6);"
                 "DELETE FROM orders WHERE id = 2;"
                 "UPDATE orders SET status = 'last' WHERE id = 7;")
        s.wait_for(lambda: s.get_json("/orders/7")["status"] == "last",
                   what="changes after ones to rows never loaded")
        ids = sorted(r["id"] for r in fetch_all(s, "/orders"))
        self.assertEqual(set(ids) - {1}, {6, 7, 8}, ids)
        self.assertEqual(s.get_json("/orders/6")["status"], "late")
        self.assertEqual(s.stop(), 0)

    def test_columns_subset_and_separate_connection_keys(self):
        self.sql(ORDERS_DDL + insert_orders(1, 20))
        conn = {"host": "127.0.0.1", "port": PG.port, "user": "sluice", "password": "secret",
                "database": "shop"}
        s = self.sluice(self.config([("orders", "public.orders", ["id", "total"])], conn)).start()
        subset = Table("public.orders", [("id", "int"), ("total", "decimal")])
        self.wait_synced(s, subset, "/orders", what="snapshot of two columns")
        self.sql("UPDATE orders SET total = 99.5, status = 'x' WHERE id = 3;"
                 "INSERT INTO orders VALUES (21, 1, 1.5, 'new', now());")
        self.wait_synced(s, subset, "/orders", what="streamed changes of two columns")
        self.assertEqual(s.get_json("/orders/3"), {"id": 3, "total": "99.50"})
        self.assertEqual(s.stop(), 0)


class Streaming(PgTestCase):
    def test_inserts_updates_deletes_and_key_changes(self):
        self.sql(ORDERS_DDL + insert_orders(1, 10))
        s = self.sluice(self.config([("orders", "public.orders")])).start()
        self.wait_synced(s, ORDERS, "/orders", what="snapshot")
        self.sql(insert_orders(11, 40))
        self.wait_synced(s, ORDERS, "/orders", what="inserts")
        self.sql("UPDATE orders SET status = 'paid', total = total + 0.01 WHERE id % 4 = 0;"
                 "UPDATE orders SET total = NULL WHERE id = 5;"
                 "DELETE FROM orders WHERE id IN (2, 3, 33);")
        self.wait_synced(s, ORDERS, "/orders", what="updates and deletes")
        s.get_json("/orders/33", expect=404)
        # A changed primary key moves the row.
        self.sql("UPDATE orders SET id = 1000, status = 'moved' WHERE id = 7;")
        s.wait_for(lambda: s.request("GET", "/orders/1000")[0] == 200, what="new key 1000")
        s.get_json("/orders/7", expect=404)
        self.assertEqual(s.get_json("/orders/1000")["status"], "moved")
        # Many changes in one transaction, and a row inserted, updated and deleted in it.
        self.sql("BEGIN;" + insert_orders(100, 400) +
                 "UPDATE orders SET status = 'bulk' WHERE id BETWEEN 100 AND 150;"
                 "INSERT INTO orders VALUES (999, 1, 1, 'gone', now());"
                 "UPDATE orders SET total = 2 WHERE id = 999;"
                 "DELETE FROM orders WHERE id = 999;"
                 "COMMIT;")
        self.wait_synced(s, ORDERS, "/orders", what="a large transaction")
        s.get_json("/orders/999", expect=404)
        self.assertEqual(s.stop(), 0)

    def test_composite_key_in_another_schema(self):
        self.sql("CREATE SCHEMA sales;"
                 "CREATE TABLE sales.line_items (order_id int, line int, sku text,"
                 " qty int, PRIMARY KEY (order_id, line));"
                 "INSERT INTO sales.line_items SELECT g / 3, g % 3, 'sku' || g, g"
                 " FROM generate_series(1, 30) g;")
        items = Table("sales.line_items", [("order_id", "int"), ("line", "int"),
                                           ("sku", "string"), ("qty", "int")], key=None)
        s = self.sluice(self.config([("items", "sales.line_items")])).start()
        self.wait_synced(s, items, "/items", what="snapshot")
        root = s.get_json("/")
        self.assertEqual([e for e in root["endpoints"] if e["path"] == "/items"][0]
                         ["primary_key"], ["order_id", "line"])
        self.sql("UPDATE sales.line_items SET qty = qty * 10 WHERE order_id = 2;"
                 "UPDATE sales.line_items SET line = line + 10 WHERE order_id = 3;"
                 "UPDATE sales.line_items SET order_id = 100 WHERE order_id = 4 AND line = 1;"
                 "DELETE FROM sales.line_items WHERE order_id = 5 AND line = 0;"
                 "INSERT INTO sales.line_items VALUES (5, 0, 'again', 1);")
        self.wait_synced(s, items, "/items", what="changes to a two-column key")
        self.assertEqual(s.count("/items"), 30)
        self.assertEqual(s.stop(), 0)

    def test_a_large_transaction(self):
        self.sql(ORDERS_DDL)
        s = self.sluice(self.config([("orders", "public.orders")])).start()
        wait_until(lambda: "sluice_slot" in PG.slots(), s, "the replication slot")
        self.sql("BEGIN;" + insert_orders(1, 100000) +
                 "UPDATE orders SET status = 'half' WHERE id % 2 = 0;"
                 "DELETE FROM orders WHERE id % 1000 = 0; COMMIT;")
        s.wait_for(lambda: s.post_json("/orders/count", {"$filter": {"status": "half"}})
                   == {"count": 49900}, timeout=120, what="100000 inserts, 50000 updates")
        self.wait_synced(s, ORDERS, "/orders", what="a large transaction")
        self.assertEqual(s.stop(), 0)

    def test_replica_identity_using_index(self):
        # No primary key: the replica identity index's columns identify rows (the endpoint's
        # key), and PostgreSQL sends only them for old rows.
        self.sql("CREATE TABLE items (code text NOT NULL, qty int, note text);"
                 "CREATE UNIQUE INDEX items_code ON items (code);"
                 "ALTER TABLE items REPLICA IDENTITY USING INDEX items_code;"
                 "INSERT INTO items SELECT 'c' || g, g, 'n' FROM generate_series(1, 50) g;")
        items = Table("public.items", [("code", "string"), ("qty", "int"), ("note", "string")],
                      key="code")
        s = self.sluice(self.config([("items", "public.items")])).start()
        self.wait_synced(s, items, "/items", what="snapshot")
        root = s.get_json("/")
        self.assertEqual([e["primary_key"] for e in root["endpoints"] if e["path"] == "/items"],
                         [["code"]])
        self.sql("UPDATE items SET qty = 0 WHERE code = 'c1';"
                 "UPDATE items SET code = 'moved' WHERE code = 'c2';"
                 "DELETE FROM items WHERE code = 'c3';")
        self.wait_synced(s, items, "/items", what="changes identified by the index")
        s.get_json("/items/c2", expect=404)
        self.assertEqual(s.get_json("/items/moved")["qty"], 2)
        self.assertEqual(s.stop(), 0)

    def test_truncate_deletes_every_row_downstream(self):
        # TRUNCATE names no rows; the endpoint and a SQL aggregate over the table must both
        # end equal to PostgreSQL's, also for a keyless REPLICA IDENTITY FULL table.
        self.sql(ORDERS_DDL + insert_orders(1, 200) +
                 "CREATE TABLE notes (body text, n int); ALTER TABLE notes REPLICA IDENTITY FULL;"
                 "INSERT INTO notes VALUES ('a', 1), ('a', 1), ('b', 2);")
        notes = Table("public.notes", [("body", "string"), ("n", "int")], key=None)
        config = self.config([("orders", "public.orders"), ("notes", "public.notes")]).replace(
            "api:", "sql: |\n  SELECT count(*) AS n, sum(total) AS total INTO stats FROM orders;\n"
            "api:").replace("endpoints:\n", "endpoints:\n  - {name: stats, path: /stats, "
                            "table: stats}\n")
        s = self.sluice(config).start()
        self.wait_synced(s, ORDERS, "/orders", what="snapshot")
        self.sql("TRUNCATE orders, notes; INSERT INTO orders VALUES (1000, 1, 2.50, 'new', now());"
                 "INSERT INTO notes VALUES ('c', 3);")
        self.wait_synced(s, ORDERS, "/orders", what="after TRUNCATE")
        self.wait_synced(s, notes, "/notes", what="keyless table after TRUNCATE")
        s.wait_for(lambda: s.get_json("/stats") == [{"n": 1, "total": "2.50"}],
                   what="the aggregate after TRUNCATE")
        self.assertEqual(s.stop(), 0)

    def test_a_transaction_across_two_tables_arrives_whole(self):
        self.sql(ORDERS_DDL + "INSERT INTO customers VALUES (1, 'Ada', '2020-01-01');")
        s = self.sluice(self.config([("orders", "public.orders"),
                                     ("customers", "public.customers")])).start()
        self.wait_synced(s, CUSTOMERS, "/customers", what="snapshot")
        for i in range(2, 7):
            self.sql("BEGIN;"
                     "INSERT INTO customers VALUES (%d, 'c%d', '2021-02-03');"
                     "INSERT INTO orders SELECT %d * 100 + g, %d, g, 'new', now() "
                     "  FROM generate_series(1, 50) g;"
                     "UPDATE customers SET name = name || '!' WHERE id = 1;"
                     "COMMIT;" % (i, i, i, i))
            # Orders is read first: once it shows the transaction, customers must too.
            deadline = time.time() + 120
            while True:
                orders_seen = s.count("/orders")
                customer = s.request("GET", "/customers/%d" % i)[0]
                if orders_seen % 50:
                    self.fail("half a transaction: %d orders" % orders_seen)
                if orders_seen == 50 * (i - 1):
                    self.assertEqual(customer, 200, "orders of transaction %d visible before "
                                                    "its customer" % i)
                    break
                self.assertLess(time.time(), deadline, "transaction %d never arrived:\n%s"
                                % (i, shorten(s.logs())))
                time.sleep(0.02)
        self.wait_synced(s, CUSTOMERS, "/customers")
        self.wait_synced(s, ORDERS, "/orders")
        self.assertEqual(s.get_json("/customers/1")["name"], "Ada!!!!!")
        self.assertEqual(s.stop(), 0)

    def test_unchanged_toasted_value_is_kept_on_update(self):
        # Random base64 does not compress (pglz needs 25% savings), so a value over ~2 kB is
        # moved out of line into the TOAST table; pgoutput then sends it as 'unchanged' (u) in
        # updates that do not touch it, under REPLICA IDENTITY DEFAULT.
        big = [base64.b64encode(os.urandom(12000)).decode() for _ in range(3)]
        self.sql("CREATE TABLE docs (id int PRIMARY KEY, title text, body text, n int);"
                 "INSERT INTO docs VALUES (1, 'one', '%s', 0), (2, 'small', 'tiny', 0);"
                 % big[0])
        toast = self.value("SELECT reltoastrelid::regclass FROM pg_class "
                           "WHERE oid = 'public.docs'::regclass;")
        self.assertGreater(int(self.value("SELECT count(*) FROM %s;" % toast)), 0)
        self.assertIsNone(self.value("SELECT pg_column_compression(body) FROM docs WHERE id = 1;"))
        docs = Table("public.docs", [("id", "int"), ("title", "string"), ("body", "string"),
                                     ("n", "int")])
        s = self.sluice(self.config([("documents", "public.docs")])).start()
        self.wait_synced(s, docs, "/documents", what="snapshot")
        self.sql("INSERT INTO docs VALUES (3, 'three', '%s', 0);" % big[1])
        self.wait_synced(s, docs, "/documents", what="streamed insert of a big value")
        self.sql("UPDATE docs SET title = 'ONE', n = n + 1 WHERE id = 1;"
                 "UPDATE docs SET n = 5 WHERE id = 3;"
                 "UPDATE docs SET n = 6 WHERE id = 3;")
        self.wait_synced(s, docs, "/documents", what="updates that leave the big value alone")
        self.assertEqual(s.get_json("/documents/1")["body"], big[0])
        self.assertEqual(s.get_json("/documents/3")["body"], big[1])
        # A primary key change with the big value unchanged, then a change of the big value.
        self.sql("UPDATE docs SET id = 30 WHERE id = 3;"
                 "UPDATE docs SET body = '%s' WHERE id = 1;" % big[2])
        self.wait_synced(s, docs, "/documents", what="key change and new big value")
        self.assertEqual(s.get_json("/documents/30")["body"], big[1])
        self.assertEqual(s.get_json("/documents/1")["body"], big[2])
        self.assertEqual(s.stop(), 0)

    def test_replica_identity_full_without_key_is_a_multiset(self):
        big = base64.b64encode(os.urandom(9000)).decode()
        self.sql("CREATE TABLE events (kind text, n int, note text);"
                 "ALTER TABLE events REPLICA IDENTITY FULL;"
                 "INSERT INTO events VALUES ('a', 1, NULL), ('a', 1, NULL), ('b', 2, 'x'),"
                 " ('c', 3, '%s');" % big)
        events = Table("public.events", [("kind", "string"), ("n", "int"), ("note", "string")],
                       key=None)
        s = self.sluice(self.config([("events", "public.events")])).start()
        self.wait_synced(s, events, "/events", what="snapshot with duplicate rows")
        root = s.get_json("/")
        self.assertIsNone([e for e in root["endpoints"] if e["path"] == "/events"][0]
                          ["primary_key"])
        self.sql("INSERT INTO events VALUES ('d', 4, 'y'), ('d', 4, 'y'), ('d', 4, 'y');")
        self.wait_synced(s, events, "/events", what="streamed duplicates")
        # Delete one of three identical rows, update one of two identical rows.
        self.sql("DELETE FROM events WHERE ctid = (SELECT min(ctid) FROM events WHERE kind = 'd');"
                 "UPDATE events SET n = 10 "
                 " WHERE ctid = (SELECT min(ctid) FROM events WHERE kind = 'a');"
                 "UPDATE events SET note = 'z' WHERE kind = 'b';"
                 "UPDATE events SET n = 30 WHERE kind = 'c';")  # big note unchanged (TOASTed)
        self.wait_synced(s, events, "/events", what="updates and deletes of duplicates")
        self.sql("DELETE FROM events WHERE kind = 'a'; UPDATE events SET kind = 'e' "
                 "WHERE kind = 'd';")
        self.wait_synced(s, events, "/events", what="more updates and deletes")
        self.assertEqual(s.stop(), 0)


class Types(PgTestCase):
    COLUMNS = [
        ("id", "int", "int PRIMARY KEY"),
        ("b", "bool", "bool"),
        ("i2", "int", "int2"),
        ("i4", "int", "int4"),
        ("i8", "int", "int8"),
        ("n_fixed", "decimal", "numeric(20,4)"),
        ("n_free", "decimal", "numeric"),
        ("f4", "float", "float4"),
        ("f8", "float", "float8"),
        ("t", "string", "text"),
        ("vc", "string", "varchar(10)"),
        ("ch", "string", "char(3)"),
        ("bin", "binary", "bytea"),
        ("u", "string", "uuid"),
        ("d", "date", "date"),
        ("tm", "string", "time"),
        ("ts", "timestamp", "timestamp"),
        ("tstz", "timestamp", "timestamptz"),
        ("iv", "duration", "interval"),
        ("js", "json", "json"),
        ("jsb", "json", "jsonb"),
        ("ints", "array", "int[]"),
        ("texts", "array", "text[]"),
        ("mood", "string", "mood"),
    ]
    ROWS = [
        # Every column NULL but the key.
        "(1" + ", NULL" * 23 + ")",
        r"""(2, true, -32768, 2147483647, 9223372036854775807, 1234567890123456.7891, 0.000001,
            3.14, 0.1, E'line\nnext "q" \\ é ☃', 'héllo', 'ab', '\x00ff10'::bytea,
            'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '2026-02-28', '12:34:56.789',
            '2026-11-23 10:15:30.5', '2026-11-23 10:15:30.5+05:30',
            '1 year 2 mons 3 days 04:05:06.789', '{"a": [1, 2.50, "x"], "b": null}',
            '{"k": {"n": 12345678901234567890}, "e": []}', '{1,NULL,3}',
            '{"a b","c,d",NULL,"\"q\"","",NULL}', 'happy')""",
        r"""(3, false, 0, -1, -9007199254740993, -0.5, 12345678901234567890.123456789012345678,
            'NaN', 'Infinity', '', '', '', ''::bytea, '00000000-0000-0000-0000-000000000000',
            '0001-01-01', '00:00:00', '1999-12-31 23:59:59.999999', '1970-01-01 00:00:00+00',
            '-1 day -02:00:00.5', '[]', 'null', '{}', '{}', 'sad')""",
        r"""(4, true, 7, 42, 9007199254740992, 0, 100, '-Infinity', -1.5e300, 'x', '0123456789',
            'abc', decode('%s', 'hex'), gen_random_uuid(), '9999-12-31', '23:59:59.999999',
            '2000-02-29 12:00:00', '1969-07-20 20:17:40-04', '0 seconds', '3', '"s"',
            '{{1,2},{3,4}}', '{{a,b},{c,NULL}}', 'ok')""" % os.urandom(64).hex(),
    ]

    def test_every_type_in_snapshot_and_stream_matches_postgres(self):
        ddl = ", ".join("%s %s" % (c, t) for c, _, t in self.COLUMNS)
        self.sql("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');"
                 "CREATE TABLE types (%s);" % ddl +
                 "INSERT INTO types VALUES %s;" % ", ".join(self.ROWS))
        table = Table("public.types", [(c, k) for c, k, _ in self.COLUMNS])
        s = self.sluice(self.config([("types", "public.types")])).start()
        self.wait_synced(s, table, "/types", what="snapshot of every type")
        fields = [e for e in s.get_json("/")["endpoints"] if e["path"] == "/types"][0]["fields"]
        self.assertEqual([(f["name"], f["type"]) for f in fields],
                         [(c, KINDS[k][3]) for c, k, _ in self.COLUMNS])
        # The same rows again, streamed (ids + 100), then updates in both directions of NULL.
        self.sql("INSERT INTO types SELECT id + 100, b, i2, i4, i8, n_fixed, n_free, f4, f8, t,"
                 " vc, ch, bin, u, d, tm, ts, tstz, iv, js, jsb, ints, texts, mood FROM types;")
        self.wait_synced(s, table, "/types", what="streamed rows of every type")
        self.sql("UPDATE types SET (b, i2, i4, i8, n_fixed, n_free, f4, f8, t, vc, ch, bin, u, d,"
                 " tm, ts, tstz, iv, js, jsb, ints, texts, mood) = (SELECT b, i2, i4, i8,"
                 " n_fixed, n_free, f4, f8, t, vc, ch, bin, u, d, tm, ts, tstz, iv, js, jsb,"
                 " ints, texts, mood FROM types WHERE id = 2) WHERE id IN (101, 103);"
                 "UPDATE types SET (b, n_free, ts, js, ints, mood) ="
                 " (NULL, NULL, NULL, NULL, NULL, NULL) WHERE id = 102;")
        self.wait_synced(s, table, "/types", what="streamed updates of every type")
        row = s.get_json("/types/2")
        # A few spelled out, as docs/rest.md writes them.
        self.assertEqual(row["i8"], "9223372036854775807")
        self.assertEqual(row["n_fixed"], "1234567890123456.7891")
        self.assertEqual(row["ch"], "ab ")
        self.assertEqual(row["u"], "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
        self.assertEqual(row["ts"], "2026-11-23T10:15:30.5Z")
        self.assertEqual(row["tstz"], "2026-11-23T04:45:30.5Z")
        self.assertEqual(row["bin"], "AP8Q")
        self.assertEqual(s.get_json("/types/3")["f4"], "NaN")
        self.assertEqual(s.get_json("/types/4")["i8"], 9007199254740992)
        self.assertEqual(s.get_json("/types/3")["iv"], "-PT26H0.5S")
        self.assertEqual(s.stop(), 0)


class Restart(PgTestCase):
    def test_sigterm_and_kill_9_lose_and_duplicate_nothing(self):
        self.sql("CREATE TABLE ticks (seq int NOT NULL, part int, payload text);"
                 "ALTER TABLE ticks REPLICA IDENTITY FULL;"
                 "INSERT INTO ticks SELECT g, 0, 'pre' FROM generate_series(1, 500) g;")
        ticks = Table("public.ticks", [("seq", "int"), ("part", "int"), ("payload", "string")],
                      key=None)
        stop = threading.Event()
        errors = []

        def write():
            # Small transactions, some with identical rows (a multiset keeps both), and now and
            # then an update and a delete, until told to stop.
            w = PG.writer(db="shop", user="sluice")
            try:
                seq = 1000
                while not stop.is_set():
                    seq += 1
                    if seq % 10 == 0:
                        w.execute("BEGIN; INSERT INTO ticks VALUES (%d, 1, 'dup'), (%d, 1, 'dup');"
                                  " UPDATE ticks SET payload = 'upd' WHERE seq = %d;"
                                  " DELETE FROM ticks WHERE seq = %d; COMMIT"
                                  % (seq, seq, seq - 5, seq - 7))
                    else:
                        w.execute("INSERT INTO ticks VALUES (%d, 2, 'w')" % seq)
                    if seq % 50 == 0:
                        w.sync()
                    time.sleep(0.008)
                w.sync()
            except Exception as e:  # noqa: BLE001 - reported by the test thread
                errors.append(e)
            finally:
                try:
                    w.close()
                except Exception as e:  # noqa: BLE001
                    errors.append(e)

        writer = threading.Thread(target=write)
        writer.start()  # before the first start: the snapshot is taken under load
        try:
            s = self.sluice(self.config([("ticks", "public.ticks")]))
            s.start()
            s.wait_for(lambda: s.count("/ticks") > 600, what="snapshot and first changes")
            # The slot's confirmed_flush_lsn advances while changes are committed.
            first = pg_server.lsn_to_int(PG.slots()["sluice_slot"][1])
            wait_until(lambda: pg_server.lsn_to_int(PG.slots()["sluice_slot"][1]) > first, s,
                    "confirmed_flush_lsn to advance")
            self.assertTrue(PG.slots()["sluice_slot"][0], "slot should be active")
            self.assertEqual(s.stop(signal.SIGTERM), 0)
            wait_until(lambda: not PG.slots()["sluice_slot"][0], s, "the slot to be released")
            s.start()
            n = s.count("/ticks")
            s.wait_for(lambda: s.count("/ticks") > n + 100, what="progress after SIGTERM")
            for delay in (0.1, 0.4, 0.9):  # kill -9 at different points of the stream
                time.sleep(delay)
                s.stop(signal.SIGKILL)
                s.start()
                n = s.count("/ticks")
                s.wait_for(lambda: s.count("/ticks") > n + 50, what="progress after kill -9")
        finally:
            stop.set()
            writer.join(timeout=120)
            if writer.is_alive():
                errors.append(AssertionError("the writer did not finish within 120 s"))
        self.assertEqual(errors, [])
        self.wait_synced(s, ticks, "/ticks", what="after the writer stopped")
        total = int(self.value("SELECT count(*) FROM ticks;"))
        self.assertEqual(s.count("/ticks"), total)
        self.assertEqual(s.stop(), 0)
        # Once more: a restart with nothing new replays nothing. A row inserted after the
        # restart comes after anything the restart could replay, so once it is served a
        # replayed change (a duplicate row: ticks is a multiset) would be served too.
        s.start()
        self.assertEqual(s.count("/ticks"), total)
        self.sql("INSERT INTO ticks VALUES (0, 3, 'after the idle restart');")
        s.wait_for(lambda: s.post_json("/ticks/count", {"$filter": {"seq": 0}})["count"] > 0,
                   what="a row inserted after an idle restart")
        self.assertEqual(s.count("/ticks"), total + 1)
        self.wait_synced(s, ticks, "/ticks", what="after an idle restart")
        self.assertEqual(s.stop(), 0)


    def test_twenty_kill_9s_with_sql_count_and_sum(self):
        # An insert-only table under a steady writer; sluice is killed with SIGKILL 20 times at
        # random moments. Its SQL (an aggregate, restored from its checkpoint at each start) and
        # the table itself must end equal to PostgreSQL's: no loss, no duplicate.
        import random
        self.sql("CREATE TABLE events (id bigint PRIMARY KEY, amount numeric(12,2) NOT NULL);"
                 "INSERT INTO events SELECT g, g * 0.5 FROM generate_series(1, 2000) g;")
        events = Table("public.events", [("id", "int"), ("amount", "decimal")])
        config = self.config([("events", "public.events")]).replace(
            "api:", "sql: |\n  SELECT count(*) AS n, sum(amount) AS total INTO stats FROM events;\n"
            "api:").replace("endpoints:\n", "endpoints:\n  - {name: stats, path: /stats, "
                            "table: stats}\n")
        stop = threading.Event()
        errors = []

        def write():
            w = PG.writer(db="shop", user="sluice")
            try:
                next_id = 2001
                while not stop.is_set():
                    w.execute("INSERT INTO events SELECT g, g * 0.5 FROM generate_series(%d, %d) g"
                              % (next_id, next_id + 19))
                    next_id += 20
                    time.sleep(0.01)
                w.sync()
            except Exception as e:  # noqa: BLE001 - reported by the test thread
                errors.append(e)
            finally:
                w.close()

        rng = random.Random(20261123)
        writer = threading.Thread(target=write)
        writer.start()
        try:
            s = self.sluice(config)
            s.start()
            for _ in range(20):
                # The kill lands anywhere, the first snapshot and start-up included: only the
                # end state is asserted, which must hold wherever the kills land.
                time.sleep(rng.uniform(0.05, 0.8))
                s.stop(signal.SIGKILL)
                s.start()
        finally:
            stop.set()
            writer.join(timeout=120)
            if writer.is_alive():
                errors.append(AssertionError("the writer did not finish within 120 s"))
        self.assertEqual(errors, [])
        self.wait_synced(s, events, "/events", what="after 20 kills")
        n, total = self.sql("SELECT count(*), sum(amount) FROM events")[0]
        s.wait_for(lambda: s.get_json("/stats?limit=5") == [{"n": int(n), "total": total}],
                   timeout=120, what="count and sum equal to PostgreSQL's")
        self.assertEqual(s.stop(), 0)

    def test_restart_with_another_table_loads_it_and_streams_both(self):
        # Beyond the step-3 issue's list: the endpoint definitions change between runs, so the
        # cache is rebuilt (docs/config.md, Restarts); the publication must then cover the new
        # table too.
        self.sql(ORDERS_DDL + insert_orders(1, 50) + "INSERT INTO customers VALUES (1, 'Ada', NULL);")
        s = self.sluice(self.config([("orders", "public.orders")])).start()
        self.wait_synced(s, ORDERS, "/orders", what="first run")
        self.assertEqual(s.stop(), 0)
        self.sql(insert_orders(51, 60) + "UPDATE orders SET status = 'while stopped' WHERE id < 5;"
                 "INSERT INTO customers VALUES (2, 'Bob', '2022-02-02');")
        s2 = self.sluice(self.config([("orders", "public.orders"),
                                      ("customers", "public.customers")]))
        s2.start()
        self.wait_synced(s2, ORDERS, "/orders", what="orders after the config changed")
        self.wait_synced(s2, CUSTOMERS, "/customers", what="the added table")
        self.sql("BEGIN;" + insert_orders(61, 70) + "UPDATE customers SET name = 'Bo' WHERE id = 2;"
                 "COMMIT;")
        self.wait_synced(s2, ORDERS, "/orders", what="streamed orders")
        self.wait_synced(s2, CUSTOMERS, "/customers", what="streamed customers")
        self.assertEqual(s2.stop(), 0)


class Errors(PgTestCase):
    def test_unreachable_server(self):
        port = pg_server.free_port()
        code, out = self.run_until_exit(self.config([("orders", "public.orders")],
                                                       {"url": PG.url(port=port)}))
        self.assertIn(str(port), out)

    def test_wrong_password(self):
        self.sql(ORDERS_DDL)
        code, out = self.run_until_exit(self.config([("orders", "public.orders")],
                                                       {"url": PG.url(password="wrongpass")}))
        self.assertIn("password", out.lower())
        self.assertNotIn("wrongpass", out, "the password must not be logged")

    def test_wal_level_replica(self):
        with pg_server.PgServer(wal_level="replica") as other:
            other.create_roles()
            other.recreate_database("shop")
            other.psql(ORDERS_DDL, db="shop", user="sluice")
            code, out = self.run_until_exit(self.config([("orders", "public.orders")],
                                                           {"url": other.url()}))
        self.assertIn("wal_level", out)
        self.assertIn("logical", out)

    def test_user_without_replication(self):
        # The publication exists, so the first thing the role lacks is REPLICATION.
        self.sql(ORDERS_DDL + "CREATE PUBLICATION sluice_pub FOR TABLE orders;"
                 "GRANT SELECT ON orders TO noreplication;")
        code, out = self.run_until_exit(self.config(
            [("orders", "public.orders")], {"url": PG.url(user="noreplication")}))
        self.assertIn("replication", out.lower().replace("noreplication", ""))

    def test_missing_table_is_named(self):
        self.sql(ORDERS_DDL)
        code, out = self.run_until_exit(self.config([("orders", "public.orders"),
                                                        ("gone", "public.no_such_table")]))
        self.assertIn("no_such_table", out)

    def test_table_without_key_needs_replica_identity_full(self):
        self.sql("CREATE TABLE plain_log (n int, msg text);")
        code, out = self.run_until_exit(self.config([("log", "public.plain_log")]))
        self.assertIn("plain_log", out)
        lower = out.lower()
        self.assertTrue("replica identity full" in lower or "primary key" in lower, out)


class SchemaChange(PgTestCase):
    def check_stops_on(self, alter, column):
        self.sql("CREATE TABLE items (id int PRIMARY KEY, quantity int, note_to_drop text);"
                 "INSERT INTO items VALUES (1, 1, 'a'), (2, 2, 'b');")
        s = self.sluice(self.config([("items", "public.items")])).start()
        s.wait_for(lambda: s.count("/items") == 2, what="snapshot")
        logged = len(s.logs())
        # pgoutput sends the new Relation message with the next change to the table.
        self.sql(alter + "; INSERT INTO items (id) VALUES (3);")

        def reported():
            new = s.logs()[logged:]
            return any("items" in line and column in line for line in new.splitlines())

        deadline = time.time() + 120
        while not reported():
            if time.time() > deadline:
                self.fail("no log line names table items and column %s after `%s`:\n%s"
                          % (column, alter, shorten(s.logs()[logged:])))
            time.sleep(0.1)
        code = s.proc.poll()
        if code is None:
            self.assertEqual(s.get_json("/health"), {"status": "ok"})
            s.stop()
        else:
            self.assertNotEqual(code, 0, "exited 0 after a schema change:\n" + s.logs())

    def test_drop_column_stops_the_pipeline_naming_table_and_column(self):
        self.check_stops_on("ALTER TABLE items DROP COLUMN note_to_drop", "note_to_drop")

    def test_alter_column_type_stops_the_pipeline_naming_table_and_column(self):
        self.check_stops_on("ALTER TABLE items ALTER COLUMN quantity TYPE text", "quantity")


class Clean(PgTestCase):
    def test_clean_drops_the_slot_and_publication_sluice_created(self):
        self.sql(ORDERS_DDL + insert_orders(1, 3))
        text = self.config([("orders", "public.orders")],
                           {"publication": None, "slot": None}, app_name="shop")
        s = self.sluice(text).start()
        s.wait_for(lambda: s.count("/orders") == 3, what="snapshot")
        self.assertEqual(set(PG.slots()), {"sluice_shop_pg"})
        self.assertEqual(PG.publications(), {"sluice_shop_pg"})
        self.assertEqual(self.sql("SELECT schemaname, tablename FROM pg_publication_tables "
                                  "WHERE pubname = 'sluice_shop_pg';"), [["public", "orders"]])
        self.assertEqual(s.stop(), 0)
        r = self.run_cli("clean", "-c", "sluice.yaml")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(PG.slots(), {})
        self.assertEqual(PG.publications(), set())

    def test_clean_keeps_a_publication_that_existed(self):
        self.sql(ORDERS_DDL + insert_orders(1, 3) + "CREATE PUBLICATION keep_pub FOR TABLE orders;")
        text = self.config([("orders", "public.orders")], {"publication": "keep_pub", "slot": None})
        s = self.sluice(text).start()
        s.wait_for(lambda: s.count("/orders") == 3, what="snapshot")
        self.assertEqual(set(PG.slots()), {"sluice_sluice_pg"})  # app_name defaults to sluice
        self.assertEqual(s.stop(), 0)
        r = self.run_cli("clean", "-c", "sluice.yaml")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(PG.slots(), {})
        self.assertEqual(PG.publications(), {"keep_pub"})


if __name__ == "__main__":
    harness.main()
