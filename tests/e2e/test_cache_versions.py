"""Cache versions: when an endpoint's definition changes between runs, the new cache is built
in the background while the old one keeps answering (same rows, old plan), the switch is
atomic, and the old version's files are deleted; a crash while building leaves the old version
current."""

import json
import os
import signal
import time

import harness

CONFIG = """
app_name: versions
home_dir: ./home
connections:
  - {name: gen, kind: generator, events: %(events)d, rate: %(rate)d, seed: 7}
sources:
  - {name: bid, connection: gen}
endpoints:
  - name: bids
    path: /bids
    table: bid
%(indexes)s
api:
  host: 127.0.0.1
  rest: {port: 0}
"""

EVENTS = 40000


class CacheVersions(harness.SluiceTestCase):
    def config(self, indexes="", rate=0):
        return CONFIG % {"events": EVENTS, "rate": rate, "indexes": indexes}

    def cache_dir(self):
        return os.path.join(self.workdir, "home", "cache")

    def current(self):
        with open(os.path.join(self.cache_dir(), "CURRENT")) as f:
            return f.read().strip()

    def versions(self):
        return sorted(n for n in os.listdir(self.cache_dir()) if n.startswith("v"))

    def explain(self, s):
        return s.post_json("/bids/explain", {"$filter": {"auction": 1000}})["plan"]["access"]

    def load_first_version(self):
        s = self.sluice(self.config())
        s.start()
        s.wait_for(lambda: "all sources are done" in s.logs(), timeout=120, what="first load")
        full = s.count("/bids")
        self.assertGreater(full, 30000)
        self.assertEqual(self.explain(s), "rows_scan")
        self.assertEqual(s.stop(), 0)
        self.assertEqual(self.versions(), ["v1"])
        return full

    def test_old_version_serves_while_the_new_one_builds(self):
        full = self.load_first_version()
        # New definition (an index), built slowly (~4 s at 10000 events/s).
        s = self.sluice(self.config(indexes="    indexes: [{fields: [auction]}]", rate=10000))
        s.start()
        seen_old = 0
        switching = False
        deadline = time.time() + 120
        while True:
            self.assertLess(time.time(), deadline, "no switch to the new version")
            # CURRENT is read first: the switch names v2 current, then serves it, so an old
            # plan seen after reading v1 was served while v1 was current.
            current = self.current()
            count, plan = s.count("/bids"), self.explain(s)
            if plan == "index_ranges":
                break
            # Until the switch: the old version, complete, with its old plan.
            self.assertEqual(count, full)
            self.assertIn("v2", self.versions())
            if current == "v2":
                switching = True  # named current, not served yet: the switch is under way
            else:
                self.assertEqual(current, "v1")
                self.assertFalse(switching, "CURRENT went back from v2 to v1")
                seen_old += 1
            time.sleep(0.1)
        # The build takes at least 4 s (40000 events at 10000/s).
        self.assertGreater(seen_old, 5, "the old version was not served while building")
        # After the switch: the new version, complete at once (it switched when caught up).
        self.assertEqual(s.count("/bids"), full)
        self.assertEqual(self.current(), "v2")
        s.wait_for(lambda: self.versions() == ["v2"], what="old version deleted")
        s.wait_for_log("cache version ./home/cache/v2 caught up and is now served")
        self.assertEqual(s.stop(), 0)

    def test_live_subscribers_of_the_old_version_are_told_to_reconnect(self):
        self.load_first_version()
        s = self.sluice(self.config(indexes="    indexes: [{fields: [auction]}]", rate=10000))
        s.start()
        import socket
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=30)
        sock.sendall(b"GET /bids/live?snapshot=false HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while b"reconnect" not in data:
            chunk = sock.recv(65536)
            self.assertTrue(chunk, "closed without saying why: %r" % data[-300:])
            data += chunk
        self.assertIn(b"event: error", data)
        sock.close()
        self.assertEqual(s.stop(), 0)

    def test_a_crash_while_building_keeps_the_old_version(self):
        full = self.load_first_version()
        s = self.sluice(self.config(indexes="    indexes: [{fields: [auction]}]", rate=5000))
        s.start()
        self.assertIn("v2", self.versions())
        time.sleep(1)  # the kill point: a second into the build, which takes 8 s or more
        s.stop(signal.SIGKILL)
        # Read with the process gone: whenever the kill landed, the half-built v2 did not
        # become current.
        self.assertEqual(self.current(), "v1")
        s = self.sluice(self.config(indexes="    indexes: [{fields: [auction]}]", rate=0))
        s.start()
        self.assertEqual(s.count("/bids"), full)  # served by v1 at once or by the finished v3
        s.wait_for(lambda: self.explain(s) == "index_ranges", timeout=120, what="switch")
        self.assertEqual(s.count("/bids"), full)
        s.wait_for(lambda: len(self.versions()) == 1, what="cleanup")
        self.assertNotEqual(self.current(), "v1")
        self.assertEqual(s.stop(), 0)


if __name__ == "__main__":
    harness.main()
