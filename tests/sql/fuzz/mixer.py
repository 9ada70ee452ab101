"""Builds one mix: initial rows, a handful of generated statements that PostgreSQL runs and
`sluice check` accepts (each refusal counted by reason), and rounds of changes.

Checking costs ~0.15 s per `sluice check`, so the candidates are checked together: a refusal
names its position in the config, which names the statement; that one is dropped (with the
statements reading its INTO table) and the rest checked again."""

import collections
import threading

import data
import refusals
import sluice_process
from case import Case
from generator import Source, StatementGen
from pg_client import QueryError
from pipeline import prepare_database
from schema import (BOOL, DATE, FLOAT, INT, INTERVAL, JSON, MARKER_TABLE, NUM, TABLE_BY_NAME,
                    TEXT, TS)
from values import pg_kind

MAX_RESULT_ROWS = 5000
CATEGORY_OF_KIND = {"bool": BOOL, "float": FLOAT, "timestamp": TS, "date": DATE,
                    "interval": INTERVAL, "json": JSON, "text": TEXT}


class Stats:
    """Counters of a run (shared by the worker threads)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = collections.Counter()
        self.pg_invalid = collections.Counter()
        self.refused = collections.Counter()
        self.type_notes = collections.Counter()
        self.examples = {}  # refusal reason or type note -> the shortest statement showing it

    def add(self, key, n=1):
        with self.lock:
            self.counts[key] += n

    def refuse(self, reason_text, sql):
        with self.lock:
            self.refused[reason_text] += 1
            self.keep_example(reason_text, sql)

    def keep_example(self, key, sql):
        """Keeps the shortest statement seen for `key` (call with the lock held)."""
        if key not in self.examples or len(sql) < len(self.examples[key]):
            self.examples[key] = sql

    def pg_error(self, message):
        with self.lock:
            self.pg_invalid[message] += 1


class Options:
    def __init__(self, mix_min=3, mix_max=8, max_internal=1, rounds=(2, 4), changes=(20, 60),
                 restart_chance=0.2, raw_chance=0.3, generator=None):
        self.mix_min = mix_min
        self.mix_max = mix_max
        self.max_internal = max_internal  # statements with internal statements per mix (0: any)
        self.rounds = rounds
        self.changes = changes
        self.restart_chance = restart_chance
        self.raw_chance = raw_chance
        self.generator = generator


def category_of(oid):
    kind = pg_kind(oid)
    if kind == "exact":
        return INT if oid in (20, 21, 23) else NUM
    return CATEGORY_OF_KIND[kind]


def build_mix(rng, worker, stats, options, skip_statement=None, budget=None):
    """(case, database, check crashes) of a new mix; case and database are None when no
    statement survived. The database is fresh and holds the initial rows; run_case may run on
    it directly. A check crash is (statements, message): `sluice check` must never crash.
    `skip_statement(st)` tells statements of a known bug's shape to leave out; `budget()`
    says how many more statements may be generated."""
    model = data.RowModel()
    rows = data.initial_rows(rng, model)
    literal_rows = {t: [data.row_literals(TABLE_BY_NAME[t], r) for r in rs]
                    for t, rs in rows.items()}
    base = Case([], literal_rows, [])
    db = prepare_database(worker, base)
    gen = StatementGen(rng, options.generator)
    target = rng.randint(options.mix_min, options.mix_max)
    candidates, internal = [], 0
    for attempt in range(target * 3):
        if len(candidates) >= target or (budget is not None and budget() <= 0):
            break
        earlier = [Source(s.name, s.columns, None, s) for s in candidates]
        st = None
        for _ in range(10):  # respect the limit on statements with internal statements
            st = gen.statement("out%d" % attempt, earlier)
            if st is not None and not (options.max_internal and st.internal
                                       and internal >= options.max_internal):
                break
            st = None
        if st is None:
            continue
        stats.add("generated")
        if skip_statement is not None and skip_statement(st):
            stats.add("skipped (known bug shape)")
            continue
        if not validate(db, base.copy(statements=candidates + [st]), st, stats):
            continue
        candidates.append(st)
        internal += st.internal
    crashes = []
    accepted = check_all(worker, candidates, stats, crashes)
    if not accepted:
        db.close()
        return None, None, crashes
    n_rounds = rng.randint(*options.rounds)
    rounds = [data.generate_round(rng, model, rng.randint(*options.changes))
              for _ in range(n_rounds)]
    restart = rng.randint(1, n_rounds) if rng.random() < options.restart_chance else None
    case = base.copy(statements=accepted, rounds=rounds, restart_after=restart,
                     serve_raw=rng.random() < options.raw_chance)
    case.restart_kill = rng.random() < 0.5
    return case, db, crashes


def validate(db, case, st, stats):
    """Runs `st` as a plain SELECT in PostgreSQL; records its output columns."""
    try:
        names, oids, rows = db.query(case.postgres_sql(st), max_rows=MAX_RESULT_ROWS)
    except QueryError as e:
        stats.pg_error(refusals.reason(str(e)))
        stats.add("postgres-invalid")
        return False
    if len(rows) > MAX_RESULT_ROWS:
        stats.add("too large (> %d rows)" % MAX_RESULT_ROWS)
        return False
    if len(set(names)) != len(names):  # SELECT INTO refuses them; a plain SELECT does not
        stats.pg_error("duplicate output column names")
        stats.add("postgres-invalid")
        return False
    try:
        st.columns = [(n, category_of(o)) for n, o in zip(names, oids)]
    except KeyError:
        st.columns = [(n, TEXT) for n in names]
    stats.add("postgres-valid")
    return True


def dependents(statements, name):
    """Names of the statements that read `name`, directly or not."""
    out, changed = {name}, True
    while changed:
        changed = False
        for s in statements:
            if s.name not in out and any(d in out for d in s.deps):
                out.add(s.name)
                changed = True
    return out


def check_config(worker, statements):
    text = sluice_process.config_text(worker.server.url(worker.db_name),
                                      [s.sluice_sql() for s in statements],
                                      [MARKER_TABLE] + [s.name for s in statements])
    first_sql_line = text.splitlines().index("sql: |") + 2 if statements else None
    code, output = sluice_process.check(worker.binary, worker.dir, text)
    return code, output, first_sql_line


def check_all(worker, candidates, stats, crashes):
    """The candidates `sluice check` accepts; refusals counted by reason, check crashes
    counted and appended to `crashes`."""
    pending = list(candidates)
    while pending:
        code, output, first = check_config(worker, pending)
        if code == 0:
            stats.add("accepted by check", len(pending))
            return pending
        message = refusals.error_message(output)
        pos = refusals.position(message)
        index = pos[0] - first if pos and code == 2 else None
        if index is None or not 0 <= index < len(pending):
            return check_one_by_one(worker, pending, stats, crashes)
        culprit = pending[index]
        stats.refuse(refusals.reason(message), culprit.sluice_sql())
        stats.add("refused by check")
        gone = dependents(pending, culprit.name)
        stats.add("dropped with a refused input", len(gone) - 1)
        pending = [s for s in pending if s.name not in gone]
    return []


def check_one_by_one(worker, pending, stats, crashes):
    accepted = []
    for st in pending:
        if any(d not in [a.name for a in accepted] for d in st.deps):
            stats.add("dropped with a refused input")
            continue
        code, output, _ = check_config(worker, accepted + [st])
        if code == 0:
            accepted.append(st)
            stats.add("accepted by check")
        elif code == 2:
            stats.refuse(refusals.reason(refusals.error_message(output)), st.sluice_sql())
            stats.add("refused by check")
        else:
            message = "sluice check exited with %s: %s" % (code, refusals.error_message(output))
            crashes.append((accepted + [st], message))
            stats.add("check crashed")
    return accepted
