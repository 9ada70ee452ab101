"""Throwaway nats-server processes with JetStream for end-to-end tests: one server, or a
cluster of three on loopback (each with its own store directory, client port and route port).
`kill(i)` SIGKILLs a node; `stop()` kills all and deletes their directories.

    with NatsCluster(nodes=3) as nats:
        config_line = "servers: '%s'" % nats.urls()
"""

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import reaper

BINARY = "/usr/sbin/nats-server"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read(path):
    with open(path) as f:
        return f.read()


def wait_for_port(port, proc, log, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("nats-server exited:\n" + read(log))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nats-server did not listen on %d:\n%s" % (port, read(log)))


class NatsCluster:
    def __init__(self, nodes=1):
        self.count = nodes
        self.dir = None
        self.ports = []
        self.route_ports = []
        self.procs = []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="sluice_nats_")
        atexit.register(self.stop)
        reaper.watch_path(self.dir)  # also when the test process is killed
        self.ports = [free_port() for _ in range(self.count)]
        self.route_ports = [free_port() for _ in range(self.count)]
        self.procs = [None] * self.count
        for i in range(self.count):
            self.start_node(i)
        for i in range(self.count):
            wait_for_port(self.ports[i], self.procs[i], self.log(i))
        if self.count > 1:
            self.wait_for_meta_leader()
        return self

    def log(self, i):
        return os.path.join(self.dir, "n%d.log" % i)

    def start_node(self, i):
        args = [BINARY, "-a", "127.0.0.1", "-p", str(self.ports[i]), "-js",
                "-sd", os.path.join(self.dir, "n%d" % i), "-n", "n%d" % i]
        if self.count > 1:
            routes = ",".join("nats://127.0.0.1:%d" % p for p in self.route_ports)
            args += ["--cluster_name", "sluice", "--cluster",
                     "nats://127.0.0.1:%d" % self.route_ports[i], "--routes", routes]
        with open(self.log(i), "a") as log:
            self.procs[i] = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        reaper.watch_process(self.procs[i].pid)

    def wait_for_meta_leader(self, timeout=120):
        # JetStream in a cluster serves requests once the nodes elected a meta leader.
        deadline = time.time() + timeout
        while time.time() < deadline:
            logs = "".join(read(self.log(i)) for i in range(self.count))
            if "JetStream cluster new metadata leader" in logs or \
               "Self is new JetStream cluster metadata leader" in logs:
                return
            time.sleep(0.1)
        raise RuntimeError("no JetStream meta leader:\n" + read(self.log(0)))

    def urls(self):
        return ",".join("nats://127.0.0.1:%d" % p for p in self.ports)

    def kill(self, i):
        self.procs[i].send_signal(signal.SIGKILL)
        self.procs[i].wait()
        reaper.forget_process(self.procs[i].pid)

    def stop(self):
        for p in self.procs:
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
            if p is not None:
                reaper.forget_process(p.pid)
        self.procs = []
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            reaper.forget_path(self.dir)
            self.dir = None
