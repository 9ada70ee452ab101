"""A server no client can stop: connections beyond the cap get a quick 503 with Retry-After,
running out of file handles makes the acceptor back off (no busy loop, no log flood), and
the server serves again once handles are free."""

import os
import resource
import select
import socket
import time

import harness

CONFIG = """
home_dir: ./home
connections:
  - {name: gen, kind: generator, events: 2000, seed: 3}
sources:
  - {name: person, connection: gen}
endpoints:
  - {name: people, path: /people, table: person}
api:
  host: 127.0.0.1
  rest: {port: 0}
"""


def open_idle(port, n):
    """n connected sockets that send nothing (a careless or hostile client)."""
    out = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        out.append(s)
    return out


def cpu_seconds(pid):
    """User + system CPU time the process has used so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_with_file_limit(s, limit):
    """Starts `s` with a soft RLIMIT_NOFILE of `limit` (inherited by the child only: the
    limit of this process is restored right after)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    try:
        s.start()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


class HostileClients(harness.SluiceTestCase):
    def test_connections_over_the_cap_get_503_with_retry_after(self):
        s = self.sluice(CONFIG)
        start_with_file_limit(s, 300)  # the cap defaults to the limit less a reserve: 172
        s.wait_for(lambda: s.get_json("/health") == {"status": "ok"}, timeout=30, what="health")
        idle = open_idle(s.port, 250)
        try:
            # Every refused connection gets its answer at once; the accepted ones stay silent.
            answers = {}
            deadline = time.time() + 10
            while time.time() < deadline and len(answers) < 78:
                ready, _, _ = select.select([c for c in idle if c not in answers], [], [], 0.5)
                for c in ready:
                    answers[c] = c.recv(4096)
            refused = 0
            for data in answers.values():
                self.assertTrue(data.startswith(b"HTTP/1.1 503"), data)
                self.assertIn(b"Retry-After: 1", data)
                refused += 1
            # 250 - 172 connections (give or take the ones the test's own probes used).
            self.assertGreaterEqual(refused, 60)
            self.assertLessEqual(refused, 90)
            status, body, headers = s.request("GET", "/health")
            self.assertEqual(status, 503, body)
            self.assertEqual(headers.get("Retry-After"), "1")
        finally:
            for c in idle:
                c.close()
        # Slots are given back as connections close.
        s.wait_for(lambda: s.get_json("/health") == {"status": "ok"}, timeout=30,
                   what="health after the idle clients left")
        self.assertLessEqual(s.logs().count("over api.max_connections"), 3, s.logs()[-2000:])

    def test_running_out_of_file_handles_backs_off_and_recovers(self):
        s = self.sluice(CONFIG)
        start_with_file_limit(s, 4096)
        s.wait_for(lambda: s.get_json("/health") == {"status": "ok"}, timeout=30, what="health")
        # Lower the running process's limit under what it holds plus the connections below:
        # accept() then fails with EMFILE while the cap (sized at start) is not reached.
        harness.subprocess.run(["prlimit", "--pid", str(s.proc.pid), "--nofile=96:4096"],
                               check=True)
        idle = []
        try:
            for _ in range(200):
                try:
                    idle.append(socket.create_connection(("127.0.0.1", s.port), timeout=5))
                except OSError:
                    break  # the listen backlog is full: the point is made
            s.wait_for(lambda: "accept failed" in s.logs(), timeout=30,
                       what="accept to run out of file handles")
            # A window to observe, not a wait for a condition: a busy loop would log thousands
            # of lines in it, the backoff with its rate-limited log one or two.
            cpu_before = cpu_seconds(s.proc.pid)
            time.sleep(3)
            self.assertLessEqual(s.logs().count("accept failed"), 3, "accept errors flood the log")
            # Retrying accept() at once would spin a core; the backoff costs next to nothing.
            self.assertLess(cpu_seconds(s.proc.pid) - cpu_before, 0.3, "the acceptor spins")
        finally:
            for c in idle:
                c.close()
        harness.subprocess.run(["prlimit", "--pid", str(s.proc.pid), "--nofile=4096:4096"],
                               check=True)
        s.wait_for(lambda: s.get_json("/health") == {"status": "ok"}, timeout=30,
                   what="health after handles were released")
        self.assertEqual(s.stop(), 0)


if __name__ == "__main__":
    harness.main()
