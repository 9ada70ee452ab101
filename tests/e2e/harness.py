"""Runs the real sluice binary for end-to-end tests: a temp directory, a free loopback port
(port 0 + --port-file), and HTTP helpers. Only the standard library is used.

Waiting: tests wait for conditions with deadlines (`wait_for`, `wait_for_log`), never for a
sleep to have been long enough. Deadlines are generous (a busy two-core machine) and only bound
how long a failing test takes. `start()` returns once the REST port is announced, which is
before a restarted pipeline has restored its state: wait for that step's log line (this run's
lines: `run_log()`, `wait_for_log()`) before relying on it.

Processes and the temp directory are registered with reaper.py, so they go when the test
process dies, even by SIGKILL (ctest's timeout)."""

import argparse
import atexit
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import reaper

# How long a wait may take by default: long enough for a busy machine, since it only bounds
# the time a failing test takes.
WAIT_TIMEOUT = 60
START_TIMEOUT = 120


def sluice_binary():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sluice", required=True)
    args, rest = parser.parse_known_args()
    sys.argv[1:] = rest
    return os.path.abspath(args.sluice)


SLUICE = None     # the binary the tests run: a copy of the built one (see stable_copy)
BUILD_DIR = None  # the directory of the built binary (the build tree)


def stable_copy(path, timeout=300):
    """A private copy of the binary at `path`, taken once it is a complete executable: someone
    may rebuild it while tests run (it is then missing, half-written or not executable for a
    moment), and one test process should run one binary throughout. The copy goes when the
    test process ends, however it ends."""
    deadline = time.time() + timeout
    last = None
    while True:
        try:
            st = os.stat(path)
            if st.st_size > 0 and os.access(path, os.X_OK):
                if last == (st.st_size, st.st_mtime):
                    directory = tempfile.mkdtemp(prefix="sluice_e2e_bin_")
                    atexit.register(shutil.rmtree, directory, True)
                    reaper.watch_path(directory)
                    target = os.path.join(directory, os.path.basename(path))
                    shutil.copy2(path, target)
                    if os.stat(path).st_mtime == st.st_mtime:
                        return target
                    shutil.rmtree(directory, ignore_errors=True)  # rebuilt while copying
                    last = None
                    continue
                last = (st.st_size, st.st_mtime)
            else:
                last = None
        except OSError:
            last = None
        if time.time() > deadline:
            raise RuntimeError("no complete sluice binary at %s within %ds" % (path, timeout))
        time.sleep(1)


def main():
    global SLUICE, BUILD_DIR
    built = sluice_binary()
    BUILD_DIR = os.path.dirname(built)
    SLUICE = stable_copy(built)
    unittest.main(verbosity=2)


def free_port():
    """A loopback port nothing listens on right now (for a port that must stay the same
    across restarts, which port 0 would not)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sluice:
    """One sluice process on a config written into `workdir`. `run_args` follow `sluice run`
    (e.g. ["app"]); `name` keeps the files of several processes in one workdir apart."""

    def __init__(self, workdir, config_text, run_args=(), name="sluice"):
        self.workdir = workdir
        self.config = os.path.join(workdir, name + ".yaml")
        with open(self.config, "w") as f:
            f.write(config_text)
        self.run_args = list(run_args)
        self.name = name
        self.proc = None
        self.port = None
        self.log_path = os.path.join(workdir, name + ".log")
        self.run_offsets = []  # where each start's lines begin in the log

    def start(self, timeout=START_TIMEOUT):
        port_file = os.path.join(self.workdir, self.name + ".port")
        if os.path.exists(port_file):
            os.remove(port_file)
        self.run_offsets.append(os.path.getsize(self.log_path)
                                if os.path.exists(self.log_path) else 0)
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [SLUICE, "run", *self.run_args, "-c", self.config, "--port-file", port_file],
            cwd=self.workdir, stdout=self.log, stderr=subprocess.STDOUT)
        reaper.watch_process(self.proc.pid)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("sluice exited with %s:\n%s" % (self.proc.returncode, self.logs()))
            if os.path.exists(port_file):
                with open(port_file) as f:
                    self.port = int(f.read())
                return self
            time.sleep(0.05)
        raise AssertionError("sluice did not start listening:\n" + self.logs())

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        reaper.forget_process(self.proc.pid)
        self.proc = None
        self.log.close()
        return code

    def logs(self):
        with open(self.log_path) as f:
            return f.read()

    def run_logs(self):
        """The log split by start: one text per run (a killed run's text ends where it died)."""
        with open(self.log_path, "rb") as f:
            data = f.read()
        bounds = self.run_offsets + [len(data)]
        return [data[a:b].decode(errors="replace") for a, b in zip(bounds, bounds[1:])]

    def run_log(self):
        """The lines of the current (or last) run only."""
        runs = self.run_logs()
        return runs[-1] if runs else ""

    def wait_for_log(self, text, count=1, timeout=WAIT_TIMEOUT, this_run=True):
        """Waits until `text` occurs `count` times in this run's log (the whole log when
        this_run is False); fails at once if the process exits first."""
        def seen():
            log = self.run_log() if this_run else self.logs()
            return log.count(text) >= count
        return self.wait_for(seen, timeout=timeout, what="%d x %r in the log" % (count, text))

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            data = body if isinstance(body, (bytes, type(None))) else body.encode()
            conn.request(method, path, body=data, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read().decode(), dict(resp.getheaders())
        finally:
            conn.close()

    def get_json(self, path, expect=200):
        status, body, _ = self.request("GET", path)
        if status != expect:
            raise AssertionError("GET %s: %d %s" % (path, status, body))
        return json.loads(body)

    def post_json(self, path, payload, expect=200):
        body = payload if isinstance(payload, str) else json.dumps(payload)
        status, text, _ = self.request("POST", path, body, {"Content-Type": "application/json"})
        if status != expect:
            raise AssertionError("POST %s %s: %d %s" % (path, body, status, text))
        return json.loads(text)

    def count(self, path):
        return self.post_json(path + "/count", {})["count"]

    def wait_for(self, predicate, timeout=WAIT_TIMEOUT, what="condition"):
        """Polls `predicate` until it returns a true value (returned), for at most `timeout`
        seconds. A process that exited meanwhile (not by stop()) fails the wait at once."""
        deadline = time.time() + timeout
        last = None
        while True:
            exited = self.proc is not None and self.proc.poll() is not None
            try:
                last = predicate()
                if last:
                    return last
            except (ConnectionError, AssertionError) as e:
                last = e
            if exited:
                raise AssertionError("sluice exited with %s while waiting for %s (last: %r)\n%s"
                                     % (self.proc.returncode, what, last, self.logs()))
            if time.time() >= deadline:
                break
            time.sleep(0.05)
        raise AssertionError("timed out after %ss waiting for %s (last: %r)\n%s"
                             % (timeout, what, last, self.logs()))


class SluiceTestCase(unittest.TestCase):
    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="sluice_e2e_")
        reaper.watch_path(self.workdir)
        self.instances = []

    def tearDown(self):
        for s in self.instances:
            if s.proc is not None:
                s.proc.kill()
                s.proc.wait()
                reaper.forget_process(s.proc.pid)
                s.proc = None
                s.log.close()
        shutil.rmtree(self.workdir, ignore_errors=True)
        reaper.forget_path(self.workdir)

    def sluice(self, config_text, run_args=(), name="sluice"):
        s = Sluice(self.workdir, config_text, run_args, name)
        self.instances.append(s)
        return s

    def write(self, relative, text, mode="w"):
        path = os.path.join(self.workdir, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, mode) as f:
            f.write(text)
        return path

    def run_cli(self, *args):
        return subprocess.run([SLUICE, *args], cwd=self.workdir, capture_output=True, text=True,
                              timeout=60)
