"""Runs one case for real: a fresh PostgreSQL database with the initial rows, `sluice run` over
it (PostgreSQL CDC, every statement served by an endpoint), rounds of changes applied to
PostgreSQL, and after the snapshot and after every round a comparison of every endpoint with
PostgreSQL's answer to the same SELECT.

Knowing Sluice caught up: each round ends with a transaction bumping the one row of
fuzz_marker, a table served raw. Sluice commits a PostgreSQL transaction whole and every
epoch (all sources, all SQL outputs) in one cache transaction, in commit order; so once the
endpoint shows the new counter, every earlier change is in every served result. The first
bump is made only once Sluice's replication slot exists, so it arrives after the snapshot."""

import os
import re
import shutil
import signal
import time

import compare
from data import marker_update
from pg_client import Database, QueryError
from schema import MARKER_TABLE, TABLES, slot_name
from sluice_process import CRASH_MARKERS, HttpError, Process, config_text

FAILED_STATEMENT = re.compile(r"\(INTO ([^)]+)\) failed[^\n]*")


class Failure:
    def __init__(self, kind, statement, round_, detail, symptom=None):
        # kind: mismatch | crash | stall | statement-failed | endpoint-error | exit-status
        self.kind = kind
        self.statement = statement  # the INTO table concerned, or None for the whole process
        self.round = round_         # 0 = after the snapshot
        self.detail = detail
        self.symptom = symptom      # mismatches: columns | missing | unexpected | both

    def signature(self):
        return (self.kind, self.statement)

    def __repr__(self):
        return "Failure(%s, %s, round %s)" % (self.kind, self.statement, self.round)


class Outcome:
    def __init__(self):
        self.failures = []
        self.invalid = None         # why the case could not run as meant (refused, PG error)
        self.pg_errors = {}         # statement -> PostgreSQL's error at some point
        self.compared = {}          # statement -> comparisons that were equal
        self.type_notes = {}        # statement -> ["pg type -> sluice type"]
        self.log = ""

    def failed_statements(self):
        return {f.statement for f in self.failures}


class Worker:
    """What one fuzzing thread owns: a database name and a scratch directory."""

    def __init__(self, server, binary, root, index):
        self.server = server
        self.binary = binary
        self.db_name = "fuzz%d" % index
        self.dir = os.path.join(root, "w%d" % index)
        os.makedirs(self.dir, exist_ok=True)


class Run:
    """The state of one case's run (kept apart from run_case for readability)."""

    def __init__(self, worker, case, outcome, timeout):
        self.worker = worker
        self.case = case
        self.out = outcome
        self.timeout = timeout
        self.db = None
        self.proc = None
        self.marker = 0
        self.fields = {}
        self.targets = [(s.name, case.postgres_sql(s)) for s in case.statements]
        if case.serve_raw:
            self.targets += [(t.name, "SELECT * FROM %s" % t.name) for t in TABLES]
        self.done = set()  # targets failed or not comparable any more

    def fail(self, kind, statement, round_, detail, symptom=None):
        self.out.failures.append(Failure(kind, statement, round_, detail, symptom))
        if statement is not None:
            self.done.add(statement)

    def wait_caught_up(self, round_):
        """Waits until the marker shows self.marker; False (with a failure recorded) if Sluice
        died, a statement failed or the deadline passed."""
        deadline = time.time() + self.timeout
        next_log_check = time.time() + 0.5
        while True:
            if not self.proc.alive():
                self.fail("crash", None, round_, "sluice exited with status %s"
                          % self.proc.exit_code())
                return False
            try:
                rows = self.proc.get_json("/" + MARKER_TABLE)
                if rows and rows[0].get("n") == self.marker:
                    return True
            except (HttpError, ValueError):
                pass
            now = time.time()
            if now > next_log_check:
                next_log_check = now + 0.5
                if self.statement_failed(round_):
                    return False
            if now > deadline:
                if not self.statement_failed(round_):
                    self.fail("stall", None, round_, "the marker did not reach %d within %ds"
                              % (self.marker, self.timeout))
                return False
            time.sleep(0.02)

    def statement_failed(self, round_):
        m = FAILED_STATEMENT.search(self.proc.logs())
        if not m:
            return False
        name = m.group(1).lstrip("#").split(".")[0]  # an internal statement: its owner
        sql = dict(self.targets).get(name)
        if sql is not None:
            try:
                self.db.query(sql)
            except QueryError as e:  # PostgreSQL fails too: not a Sluice bug
                self.out.invalid = "runtime error in both: sluice %s; postgres %s" % (m.group(0), e)
                return True
        self.fail("statement-failed", name, round_, m.group(0))
        return True

    def bump_marker(self):
        self.marker += 1
        self.db.apply_transaction([marker_update(self.marker)])

    def compare_all(self, round_):
        if not self.fields:
            try:
                self.fields = self.proc.fields()
            except (HttpError, ValueError) as e:
                self.fail("endpoint-error", None, round_, "GET /: %s" % e)
                return
        for name, sql in self.targets:
            if name in self.done:
                continue
            try:
                names, oids, rows = self.db.query(sql, timeout_ms=20000)
            except QueryError as e:
                self.out.pg_errors[name] = str(e)
                self.done.add(name)
                continue
            expected = compare.Result(names, oids, rows)
            try:
                served = compare.Served(self.fields[name], self.proc.fetch_all("/" + name))
            except (HttpError, ValueError, KeyError) as e:
                self.fail("endpoint-error", name, round_, str(e))
                continue
            diff = compare.difference(expected, served)
            if diff:
                self.fail("mismatch", name, round_, *diff)
            else:
                self.out.compared[name] = self.out.compared.get(name, 0) + 1
                if name not in self.out.type_notes:
                    self.out.type_notes[name] = compare.type_notes(expected, served)

    def restart(self, round_):
        sig = signal.SIGKILL if self.case.restart_kill else signal.SIGTERM
        code = self.proc.stop(sig)
        if sig == signal.SIGTERM and code != 0:
            self.fail("exit-status", None, round_, "sluice exited with %s on SIGTERM" % code)
            return False
        self.fields = {}
        if not self.proc.start():
            self.fail("crash", None, round_, "sluice did not restart (status %s)"
                      % self.proc.exit_code())
            return False
        return self.wait_caught_up(round_)

    def wait_for_slot(self):
        deadline = time.time() + self.timeout
        while time.time() < deadline:
            if not self.proc.alive():
                return False
            if self.db.replication_slot_ready(slot_name(self.worker.db_name)):
                return True
            time.sleep(0.02)
        return False

    def execute(self, db=None):
        case, out = self.case, self.out
        self.db = db or prepare_database(self.worker, case)
        if self.db is None:
            out.invalid = "initial rows failed to load"
            return
        workdir = os.path.join(self.worker.dir, "run")
        shutil.rmtree(workdir, ignore_errors=True)
        os.makedirs(workdir)
        endpoints = [MARKER_TABLE] + [name for name, _ in self.targets]
        text = config_text(self.worker.server.url(self.worker.db_name),
                           [s.sluice_sql() for s in case.statements], endpoints)
        self.proc = Process(self.worker.binary, workdir, text)
        if not self.proc.start() or not self.wait_for_slot():
            code = self.proc.exit_code()
            if code == 2:
                out.invalid = "refused: " + last_error(self.proc.logs())
            else:
                self.fail("crash", None, 0, "sluice did not start (status %s)" % code)
            return
        self.bump_marker()
        if not self.wait_caught_up(0):
            return
        self.compare_all(0)
        for r, transactions in enumerate(case.rounds, 1):
            for tx in transactions:
                self.db.apply_transaction(tx)
            self.bump_marker()
            if not self.wait_caught_up(r):
                return
            self.compare_all(r)
            if case.restart_after == r:
                if not self.restart(r):
                    return
                self.compare_all(r)
        code = self.proc.stop()
        if code != 0:
            self.fail("exit-status", None, len(case.rounds), "sluice exited with %s on SIGTERM"
                      % code)

    def close(self):
        if self.proc is not None:
            self.proc.kill()
            self.out.log = self.proc.logs()
            for marker in CRASH_MARKERS:
                if marker in self.out.log and not any(f.kind == "crash" for f in self.out.failures):
                    self.fail("crash", None, None, "the log says %r" % marker)
        if self.db is not None:
            self.db.close()


def last_error(log):
    errors = [line for line in log.splitlines() if " error " in line]
    text = errors[-1] if errors else (log.strip().splitlines() or [""])[-1]
    return text.split(" error ", 1)[-1]


def prepare_database(worker, case):
    """A fresh database with the schema and `case`'s initial rows (None if they fail)."""
    db = Database(worker.server, worker.db_name)
    try:
        db.create_schema(case.insert_statements())
    except QueryError:
        db.close()
        return None
    return db


def run_case(worker, case, timeout=30, db=None):
    """Runs `case` (on `db` when prepare_database made it already, else on a fresh one); its
    Outcome: failures, comparisons, or why it could not run."""
    out = Outcome()
    run = Run(worker, case, out, timeout)
    try:
        run.execute(db)
    finally:
        run.close()
    return out
