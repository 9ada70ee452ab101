"""Runs the real sluice binary for end-to-end tests: a temp directory, a free loopback port
(port 0 + --port-file), and HTTP helpers. Only the standard library is used."""

import argparse
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


def sluice_binary():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sluice", required=True)
    args, rest = parser.parse_known_args()
    sys.argv[1:] = rest
    return os.path.abspath(args.sluice)


SLUICE = None


def main():
    global SLUICE
    SLUICE = sluice_binary()
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

    def start(self, timeout=20):
        port_file = os.path.join(self.workdir, self.name + ".port")
        if os.path.exists(port_file):
            os.remove(port_file)
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [SLUICE, "run", *self.run_args, "-c", self.config, "--port-file", port_file],
            cwd=self.workdir, stdout=self.log, stderr=subprocess.STDOUT)
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
        self.proc = None
        self.log.close()
        return code

    def logs(self):
        with open(self.log_path) as f:
            return f.read()

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

    def wait_for(self, predicate, timeout=10, what="condition"):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                last = predicate()
                if last:
                    return last
            except (ConnectionError, AssertionError) as e:
                last = e
            time.sleep(0.05)
        raise AssertionError("timed out waiting for %s (last: %r)\n%s" % (what, last, self.logs()))


class SluiceTestCase(unittest.TestCase):
    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="sluice_e2e_")
        self.instances = []

    def tearDown(self):
        for s in self.instances:
            if s.proc is not None:
                s.proc.kill()
                s.proc.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)

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
