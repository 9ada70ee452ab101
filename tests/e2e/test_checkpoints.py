"""Operator checkpoints end to end: SQL with joins, an aggregate and a top-n over PostgreSQL
tables that only SQL reads, under a writer that inserts, updates and deletes, with sluice
killed by SIGKILL at random moments. Every restart must restore the operators from their
checkpoints (no new snapshot, no rebuild) and the results must end equal to what PostgreSQL
computes for the same SQL."""

import decimal
import random
import signal
import threading
import time

import harness
import pg_server

PG = None


def setUpModule():
    global PG
    PG = pg_server.PgServer().start()
    PG.create_roles()


def tearDownModule():
    if PG is not None:
        PG.stop()


# The statements sluice runs; PostgreSQL answers the same SELECTs without INTO.
REGION_STATS = ("SELECT c.region, count(*) AS orders, sum(o.amount) AS revenue, "
                "max(o.amount) AS largest FROM orders o JOIN customers c ON o.customer_id = c.id "
                "WHERE o.status <> 'cancelled' GROUP BY c.region")
TOP_ORDERS = ("SELECT o.id, c.name, o.amount FROM orders o JOIN customers c "
              "ON o.customer_id = c.id ORDER BY o.amount DESC, o.id LIMIT 5")


def into(select, table):
    return select.replace(" FROM orders", " INTO %s FROM orders" % table, 1)


def canonical(rows):
    """Rows as sorted tuples of strings, numbers compared by value."""
    out = []
    for row in rows:
        values = []
        for v in row:
            if v is None:
                values.append(None)
            else:
                try:
                    values.append(str(decimal.Decimal(str(v)).normalize()))
                except decimal.InvalidOperation:
                    values.append(str(v))
        out.append(tuple(values))
    return sorted(out)


def create_shop(pg):
    pg.psql("""
        CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, region text);
        CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL,
                             amount numeric(12,2) NOT NULL, status text NOT NULL);
        INSERT INTO customers SELECT g, 'customer ' || g, 'region ' || (g % 4)
          FROM generate_series(1, 40) g;
        INSERT INTO orders SELECT g, g % 45, (g * 7 % 1000) * 0.25, 'new'
          FROM generate_series(1, 3000) g;
    """, db="shop", user="sluice")


class OrdersWriter:
    """A thread of transactions that insert, re-price, cancel and delete orders, and move
    customers between regions (which moves their orders between groups of the aggregate).
    pause() returns once no transaction is in flight, so PostgreSQL's answer stands still."""

    def __init__(self, pg, seed=7):
        self.pg = pg
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.running = threading.Event()
        self.running.set()
        self.idle = threading.Event()
        self.errors = []
        self.thread = threading.Thread(target=self.run)

    def start(self):
        self.thread.start()

    def pause(self):
        self.running.clear()
        if not self.idle.wait(timeout=120):
            raise AssertionError("the writer did not pause within 120 s")

    def resume(self):
        self.idle.clear()
        self.running.set()

    def finish(self):
        self.stop.set()
        self.running.set()
        self.thread.join(timeout=120)
        if self.thread.is_alive():
            self.errors.append(AssertionError("the writer did not finish within 120 s"))

    def transaction(self, next_id):
        rng = self.rng
        statements = []
        for _ in range(rng.randint(1, 4)):
            pick = rng.random()
            some = rng.randint(1, next_id - 1)
            if pick < 0.45:
                statements.append("INSERT INTO orders VALUES (%d, %d, %s, 'new')"
                                  % (next_id, rng.randint(1, 50), rng.randint(1, 400000) / 100))
                next_id += 1
            elif pick < 0.65:
                statements.append("UPDATE orders SET amount = amount + 1.5 WHERE id = %d" % some)
            elif pick < 0.75:
                statements.append("UPDATE orders SET status = 'cancelled' WHERE id = %d" % some)
            elif pick < 0.88:
                statements.append("DELETE FROM orders WHERE id = %d" % some)
            elif pick < 0.95:
                statements.append("UPDATE customers SET region = 'region %d' WHERE id = %d"
                                  % (rng.randint(0, 5), rng.randint(1, 40)))
            else:
                cid = rng.randint(41, 50)
                statements.append("INSERT INTO customers VALUES (%d, 'late %d', 'region 9') "
                                  "ON CONFLICT (id) DO UPDATE SET region = 'region 8'"
                                  % (cid, cid))
        return statements, next_id

    def run(self):
        w = self.pg.writer(db="shop", user="sluice")
        try:
            next_id = 3001
            while not self.stop.is_set():
                if not self.running.is_set():
                    w.sync()
                    self.idle.set()
                    self.running.wait()
                    continue
                statements, next_id = self.transaction(next_id)
                w.execute("BEGIN; %s; COMMIT" % "; ".join(statements))
                time.sleep(0.005)
            w.sync()
        except Exception as e:  # noqa: BLE001 - reported by the test thread
            self.errors.append(e)
            self.idle.set()
        finally:
            w.close()


def shop_config(pg, api_lines=()):
    return "\n".join([
        "home_dir: ./home",
        "connections:",
        "  - {name: pg, kind: postgres, url: '%s', publication: sluice_pub, "
        "slot: sluice_slot}" % pg.url(),
        "sources:",
        "  - {name: orders, connection: pg, table: public.orders}",
        "  - {name: customers, connection: pg, table: public.customers}",
        "sql: |",
        "  %s;" % into(REGION_STATS, "region_stats"),
        "  %s;" % into(TOP_ORDERS, "top_orders"),
        "endpoints:",
        "  - {name: regions, path: /regions, table: region_stats, primary_key: [region]}",
        "  - {name: top, path: /top, table: top_orders}",
        "api:",
        "  host: 127.0.0.1",
        "  rest: {port: 0}",
        *api_lines,
        ""])


def served(s):
    """What sluice serves for REGION_STATS and TOP_ORDERS."""
    regions = [[r["region"], r["orders"], r["revenue"], r["largest"]]
               for r in s.get_json("/regions?limit=1000")]
    top = [[r["id"], r["name"], r["amount"]] for r in s.get_json("/top?limit=1000")]
    return canonical(regions), canonical(top)


def expected(pg):
    """PostgreSQL's answer to the same SELECTs."""
    return (canonical(pg.psql(REGION_STATS + ";", db="shop")),
            canonical(pg.psql(TOP_ORDERS + ";", db="shop")))


# Logged by a restarted process once its operators are restored from their checkpoints (after
# it announced its port: harness.Sluice.start() returns before this).
RESTORED = "restored the state of 4 sql operator(s)"


def streamed_past_snapshot(pg, node, timeout=120):
    """Changes an order and waits until `node` serves PostgreSQL's new answer (no writer may be
    running). The initial snapshot's end is committed after its rows, so rows being served do
    not mean a restart resumes; a change streamed after the snapshot commits after that end,
    so once it is served a kill can no longer legitimately start over with a new snapshot."""
    pg.psql("UPDATE orders SET amount = amount + 0.25 WHERE id = 1;", db="shop")
    want = expected(pg)
    node.wait_for(lambda: served(node) == want, timeout=timeout,
                  what="a change streamed after the initial snapshot")


def restored_before_streaming(runs):
    """The runs (texts of harness.Sluice.run_logs(), restarts only) that began streaming
    without restoring their operators first; a run killed before either counts as neither."""
    bad = []
    for i, run in enumerate(runs):
        streaming = run.find("streaming changes from")
        restored = run.find(RESTORED)
        if streaming >= 0 and not 0 <= restored < streaming:
            bad.append(i)
    return bad


def converge(pg, writer, node, what, timeout=120):
    """Pauses `writer` and waits until `node` serves PostgreSQL's answer, then resumes it."""
    writer.pause()
    try:
        want = expected(pg)
        node.wait_for(lambda: served(node) == want, timeout=timeout, what=what)
    finally:
        writer.resume()


class Checkpoints(harness.SluiceTestCase):
    def setUp(self):
        super().setUp()
        PG.recreate_database("shop")

    def test_kill_9_at_random_moments_restores_operators_and_matches_postgres(self):
        create_shop(PG)
        writer = OrdersWriter(PG)
        s = self.sluice(shop_config(PG))
        s.start()
        # Kills start once the snapshot is committed: from then on every restart must resume.
        want = expected(PG)
        s.wait_for(lambda: served(s) == want, timeout=120, what="the initial snapshot")
        streamed_past_snapshot(PG, s)
        rng = random.Random(20261123)
        writer.start()
        kills = 12
        try:
            for _ in range(kills):
                time.sleep(rng.uniform(0.1, 1.0))  # the kill lands anywhere in normal running
                s.stop(signal.SIGKILL)
                s.start()
                # start() returns once the port is announced, before the operators are
                # restored: each kill is of a process that restarted from its checkpoints.
                s.wait_for_log(RESTORED, timeout=120)
        finally:
            writer.finish()
        self.assertEqual(writer.errors, [])
        want = expected(PG)
        s.wait_for(lambda: served(s) == want, timeout=120,
                   what="results equal to PostgreSQL's after %d kills" % kills)
        logs = s.logs()
        self.assertEqual(logs.count("created replication slot"), 1, "a new snapshot was taken")
        self.assertNotIn("rebuilding the cache", logs)
        restarts = s.run_logs()[1:]
        self.assertEqual([run.count(RESTORED) for run in restarts], [1] * kills)
        self.assertEqual(restored_before_streaming(restarts), [])
        self.assertEqual(s.stop(), 0)
        # A clean restart restores too and keeps following changes.
        s.start()
        s.wait_for_log(RESTORED, timeout=120)
        PG.psql("UPDATE orders SET amount = amount + 1000 WHERE id = 17;", db="shop")
        want = expected(PG)
        s.wait_for(lambda: served(s) == want, timeout=120,
                   what="a change after a clean restart")
        self.assertEqual(s.stop(), 0)


if __name__ == "__main__":
    harness.main()
