"""The sluice binary as the fuzzer uses it: configs, `sluice check`, and `sluice run` processes
(each in its own process group, always stopped) with a small HTTP client.

The binary is copied once per run into the run's temp dir: another engineer may rebuild
build/sluice meanwhile, and a run should test one binary throughout."""

import atexit
import decimal
import http.client
import json
import os
import shutil
import signal
import subprocess
import time

from schema import MARKER_TABLE, PUBLICATION, TABLES, slot_name

# Log lines that mean the process is broken, whatever the exit status.
CRASH_MARKERS = ("terminate called", "Segmentation fault", "AddressSanitizer", "Assertion",
                 "core dumped", "panic")


def stable_copy(path, into_dir, timeout=300):
    """Copies the binary at `path` once it is a complete executable (a rebuild may have it
    missing or half-written for a moment)."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            st = os.stat(path)
            if st.st_size > 0 and os.access(path, os.X_OK):
                if last == (st.st_size, st.st_mtime):
                    target = os.path.join(into_dir, "sluice")
                    shutil.copy2(path, target)
                    return target
                last = (st.st_size, st.st_mtime)
        except OSError:
            last = None
        time.sleep(1)
    raise RuntimeError("no usable sluice binary at %s within %ds" % (path, timeout))


def config_text(db_url, statements_sql, endpoint_tables, home="./home"):
    """A config over every fuzz table (one postgres connection), the given SQL statements and
    an endpoint per table in `endpoint_tables` (path /<table>)."""
    lines = ["app_name: fuzz", "home_dir: %s" % home, "log_level: info", "connections:",
             '  - {name: pg, kind: postgres, url: "%s", publication: %s, slot: %s}'
             % (db_url, PUBLICATION, slot_name(db_url.rsplit("/", 1)[-1])), "sources:"]
    for t in [t.name for t in TABLES] + [MARKER_TABLE]:
        lines.append("  - {name: %s, connection: pg, table: public.%s}" % (t, t))
    if statements_sql:
        lines.append("sql: |")
        lines += ["  %s;" % s.rstrip(";") for s in statements_sql]
    lines.append("endpoints:")
    for t in endpoint_tables:
        lines.append("  - {name: %s, path: /%s, table: %s}" % (t, t, t))
    lines += ["api:", "  host: 127.0.0.1", "  rest: {port: 0}", ""]
    return "\n".join(lines)


def check(binary, workdir, text, timeout=60):
    """(exit code, output) of `sluice check` on a config."""
    path = os.path.join(workdir, "check-%d-%d.yaml" % (os.getpid(), time.monotonic_ns()))
    with open(path, "w") as f:
        f.write(text)
    try:
        r = subprocess.run([binary, "check", "-c", path], cwd=workdir, capture_output=True,
                           text=True, timeout=timeout)
        return r.returncode, r.stdout + r.stderr
    except subprocess.TimeoutExpired:
        return "timeout", "sluice check did not finish within %ds" % timeout
    finally:
        os.remove(path)


_RUNNING = set()


@atexit.register
def _kill_leftovers():
    for p in list(_RUNNING):
        p.kill()


class HttpError(Exception):
    pass


class Process:
    """One `sluice run` on a config in `workdir`."""

    def __init__(self, binary, workdir, text):
        self.binary = binary
        self.workdir = workdir
        self.config = os.path.join(workdir, "sluice.yaml")
        with open(self.config, "w") as f:
            f.write(text)
        self.log_path = os.path.join(workdir, "sluice.log")
        self.proc = None
        self.port = None
        self.starts = 0

    def start(self, timeout=30):
        port_file = os.path.join(self.workdir, "port")
        if os.path.exists(port_file):
            os.remove(port_file)
        self.starts += 1
        with open(self.log_path, "a") as log:
            log.write("---- start %d\n" % self.starts)
            self.proc = subprocess.Popen([self.binary, "run", "-c", self.config, "--port-file",
                                          port_file], cwd=self.workdir, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        _RUNNING.add(self)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with open(port_file) as f:
                    text = f.read().strip()
                if text:
                    self.port = int(text)
                    return True
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def exit_code(self):
        return None if self.proc is None else self.proc.poll()

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Stops the process; its exit status (None if it had to be killed)."""
        if self.proc is None:
            return None
        code = None
        try:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, sig)
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        finally:
            _RUNNING.discard(self)
            self.proc = None
        return code

    def kill(self):
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            _RUNNING.discard(self)
            self.proc = None

    def logs(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def request(self, method, path, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path)
            resp = conn.getresponse()
            return resp.status, resp.read().decode("utf-8", errors="replace")
        except (OSError, http.client.HTTPException) as e:
            raise HttpError("%s %s: %s" % (method, path, e)) from None
        finally:
            conn.close()

    def get_json(self, path):
        status, body = self.request("GET", path)
        if status != 200:
            raise HttpError("GET %s: %d %s" % (path, status, body[:500]))
        return json.loads(body, parse_float=decimal.Decimal)

    def fetch_all(self, path, page=10000):
        rows, skip = [], 0
        while True:
            batch = self.get_json("%s?limit=%d&skip=%d" % (path, page, skip))
            rows.extend(batch)
            if len(batch) < page:
                return rows
            skip += len(batch)

    def fields(self):
        """{table: [(field, type)]} of the served endpoints."""
        root = self.get_json("/")
        return {e["table"]: [(f["name"], f["type"]) for f in e["fields"]]
                for e in root["endpoints"]}
