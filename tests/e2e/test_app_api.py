"""The app/API split: `sluice run app` captures PostgreSQL, runs the SQL (a join and an
aggregate, and a join with a top-n) and serves its change log; `sluice run api --app` nodes
build their own caches from that log and serve the APIs. The app, and separately an API node,
are killed with SIGKILL at random moments 30 times each under a writer; after every restart the
API answers must equal PostgreSQL's answer to the same queries."""

import os
import random
import signal
import threading
import time

import harness
import pg_server
from test_checkpoints import (RESTORED, OrdersWriter, converge, create_shop, expected,
                              restored_before_streaming, served, shop_config,
                              streamed_past_snapshot)

PG = None
KILLS = 30


def setUpModule():
    global PG
    PG = pg_server.PgServer().start()
    PG.create_roles()


def tearDownModule():
    if PG is not None:
        PG.stop()


class AppApiSplit(harness.SluiceTestCase):
    def setUp(self):
        super().setUp()
        PG.recreate_database("shop")
        create_shop(PG)
        self.app_port = harness.free_port()
        config = shop_config(PG, ["  app_grpc: {port: %d}" % self.app_port])
        self.app = self.sluice(config, ["app"], name="app")
        self.nodes = [
            self.sluice(config, ["api", "--app", "127.0.0.1:%d" % self.app_port,
                                 "--home-dir", "./node%d" % i], name="node%d" % i)
            for i in range(2)]

    def test_app_killed_30_times_is_a_pause_for_api_clients(self):
        self.app.start()
        for node in self.nodes:
            node.start()
        for node in self.nodes:
            node.wait_for(lambda n=node: n.count("/regions") >= 4, timeout=120,
                          what="the snapshot reaching the API node")
        # From here on an app restart must resume (no new snapshot, no new log generation).
        streamed_past_snapshot(PG, self.nodes[0])
        writer = OrdersWriter(PG)
        writer.start()
        # API clients keep being answered while the app dies and comes back.
        failures = []
        polling = threading.Event()

        def poll():
            while not polling.is_set():
                try:
                    self.nodes[1].get_json("/regions?limit=1000")
                except Exception as e:  # noqa: BLE001 - counted and reported below
                    failures.append(repr(e))
                time.sleep(0.05)

        poller = threading.Thread(target=poll)
        poller.start()
        rng = random.Random(30)
        try:
            for kill in range(KILLS):
                # The kill lands anywhere, start-up included: every assertion below holds
                # wherever it lands.
                time.sleep(rng.uniform(0.05, 0.6))
                self.app.stop(signal.SIGKILL)
                self.app.start()
                converge(PG, writer, self.nodes[kill % 2],
                         "node %d equal to PostgreSQL after app kill %d" % (kill % 2, kill + 1))
        finally:
            polling.set()
            poller.join()
            writer.finish()
        self.assertEqual(writer.errors, [])
        self.assertEqual(failures, [], "API clients saw errors while the app restarted")
        want = expected(PG)
        for node in self.nodes:
            node.wait_for(lambda n=node: served(n) == want, timeout=120, what="final equality")
            self.assertEqual(node.logs().count("building cache"), 1, "an API node rebuilt")
        self.app.wait_for_log(RESTORED, timeout=120)
        app_logs = self.app.logs()
        self.assertEqual(app_logs.count("created replication slot"), 1, "a new snapshot was taken")
        self.assertNotIn("rebuilding the cache", app_logs)
        # Every restart that got as far as streaming restored its operators first.
        self.assertEqual(restored_before_streaming(self.app.run_logs()[1:]), [],
                         "app runs (1 = first restart) that streamed without restoring")
        self.assertEqual(self.app.stop(), 0)
        for node in self.nodes:
            self.assertEqual(node.stop(), 0)

    def test_api_node_killed_30_times_resumes_from_its_log_position(self):
        self.app.start()
        node = self.nodes[0]
        node.start()
        node.wait_for(lambda: node.count("/regions") >= 4, timeout=120, what="the snapshot")
        writer = OrdersWriter(PG, seed=11)
        writer.start()
        rng = random.Random(31)
        try:
            for kill in range(KILLS):
                time.sleep(rng.uniform(0.05, 0.6))
                node.stop(signal.SIGKILL)
                node.start()
                converge(PG, writer, node,
                         "the node equal to PostgreSQL after kill %d" % (kill + 1))
        finally:
            writer.finish()
        self.assertEqual(writer.errors, [])
        want = expected(PG)
        node.wait_for(lambda: served(node) == want, timeout=120, what="final equality")
        logs = node.logs()
        self.assertEqual(logs.count("building cache"), 1, "the node rebuilt instead of resuming")
        # Logged before the node announces its port, so every restart has logged it.
        self.assertEqual(logs.count("resuming after it"), KILLS)
        self.assertEqual(node.stop(), 0)
        self.assertEqual(self.app.stop(), 0)

    def test_new_app_generation_is_followed_into_a_new_cache_version(self):
        self.app.start()
        node = self.nodes[0]
        node.start()
        node.wait_for(lambda: node.count("/regions") >= 4, timeout=120, what="the snapshot")
        self.assertEqual(self.app.stop(), 0)
        # The app's cache is gone (say, its disk was replaced): it rebuilds with a new log.
        self.assertEqual(self.run_cli("clean", "-c", "app.yaml").returncode, 0)
        PG.psql("UPDATE orders SET amount = amount + 100 WHERE id < 50;", db="shop")
        self.app.start()
        want = expected(PG)
        node.wait_for(lambda: served(node) == want, timeout=120, what="the rebuilt app's results")
        self.assertEqual(node.logs().count("building cache"), 2)
        # Logged after the switch and the old version's removal: once for the first version,
        # once for the new one.
        node.wait_for_log("is now served", count=2)
        # The old version goes right after the switch (v<N> and CURRENT stay).
        cache = os.path.join(self.workdir, "node0", "cache")
        node.wait_for(lambda: len(os.listdir(cache)) == 2, what="the old cache version removed")
        self.assertEqual(node.stop(), 0)
        self.assertEqual(self.app.stop(), 0)

    def last_segment(self):
        cache = os.path.join(self.workdir, "home", "cache")
        with open(os.path.join(cache, "CURRENT")) as f:
            log_dir = os.path.join(cache, f.read().strip(), "log")
        segments = sorted(n for n in os.listdir(log_dir) if n.endswith(".log"))
        return os.path.join(log_dir, segments[-1])

    def test_torn_or_corrupt_log_tail_is_recovered(self):
        self.app.start()
        node = self.nodes[0]
        node.start()
        node.wait_for(lambda: node.count("/regions") >= 4, timeout=120, what="the snapshot")
        PG.psql("UPDATE orders SET amount = amount + 7 WHERE id < 100;", db="shop")
        want = expected(PG)
        node.wait_for(lambda: served(node) == want, timeout=120, what="an update")
        self.assertEqual(self.app.stop(), 0)
        # A crash mid-append leaves half a frame: cut at the next start, nothing else lost.
        with open(self.last_segment(), "ab") as f:
            f.write(b"\x40\x00\x00\x00\x12\x34")
        self.app.start()
        PG.psql("UPDATE orders SET amount = amount + 7 WHERE id < 200;", db="shop")
        want = expected(PG)
        node.wait_for(lambda: served(node) == want, timeout=120, what="changes after a torn tail")
        logs = self.app.logs()
        self.assertIn("ends in a torn or corrupt entry", logs)
        self.assertNotIn("rebuilding the cache", logs)
        self.assertEqual(self.app.stop(), 0)
        # A damaged last entry the cache already applied: the log cannot continue the cache, so
        # the app rebuilds both (a new snapshot, a new log generation) and the node follows.
        segment = self.last_segment()
        size = os.path.getsize(segment)
        with open(segment, "r+b") as f:
            f.seek(size - 3)
            f.write(b"\xff\xff\xff")
        self.app.start()
        PG.psql("DELETE FROM orders WHERE id < 30;", db="shop")
        want = expected(PG)
        node.wait_for(lambda: served(node) == want, timeout=120, what="results after a rebuild")
        self.assertIn("rebuilding the cache with a new change log", self.app.logs())
        self.assertEqual(node.logs().count("building cache"), 2)
        self.assertEqual(node.stop(), 0)
        self.assertEqual(self.app.stop(), 0)

    def test_api_node_without_app_says_what_is_missing(self):
        r = self.run_cli("run", "api", "-c", "app.yaml")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("needs --app host:port", r.stdout + r.stderr)


if __name__ == "__main__":
    harness.main()
