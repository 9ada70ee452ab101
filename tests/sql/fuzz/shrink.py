"""Reduces a failing case to a small one that fails the same way: fewer statements, no
restart, fewer rounds, transactions, changes and initial rows, then simpler expressions in
the failing statement (optional clauses dropped, list items removed, expressions replaced by
a same-typed child or a literal). Every candidate is run for real (pipeline.run_case), within
a budget of trials and seconds; a flaky failure just stops shrinking early."""

import time

from expressions import null_of, simplest_literal
from generator import Statement
from pipeline import prepare_database, run_case
from pg_client import QueryError
from tree import EMPTY, replaced, without_item

PROCESS_KINDS = {"crash", "stall", "exit-status", "statement-failed", "endpoint-error"}


def same_failure(failure, outcome):
    """Whether `outcome` fails like `failure`: a mismatch of the same statement with the same
    symptom, or (for a process-level failure) any process-level failure."""
    if outcome.invalid:
        return False
    for f in outcome.failures:
        if failure.kind in PROCESS_KINDS and f.kind in PROCESS_KINDS:
            if failure.statement is None or f.statement in (None, failure.statement):
                return True
        elif f.kind == failure.kind and f.statement == failure.statement and \
                f.symptom == failure.symptom:
            return True
    return False


class Shrinker:
    def __init__(self, worker, failure, seconds=300, max_trials=120, log=None, timeout=20,
                 avoid_tags=()):
        self.worker = worker
        self.failure = failure
        self.avoid_tags = set(avoid_tags)  # constructs of known bugs: not to slide into
        self.deadline = time.time() + seconds
        self.trials_left = max_trials
        self.log = log or (lambda text: None)
        self.timeout = timeout
        self.trials = 0
        self.last_outcome = None

    def exhausted(self):
        return self.trials_left <= 0 or time.time() > self.deadline

    def reproduces(self, case):
        if self.exhausted():
            return False
        if any(self.avoid_tags & s.tags for s in case.statements):
            return False
        self.trials_left -= 1
        self.trials += 1
        db = prepare_database(self.worker, case)
        if db is None:
            return False
        target = case.by_name().get(self.failure.statement)
        if target is not None:
            try:  # most broken candidates fail here, long before a whole run
                db.query(case.postgres_sql(target))
            except QueryError:
                db.close()
                return False
        outcome = run_case(self.worker, case, self.timeout, db=db)
        ok = same_failure(self.failure, outcome)
        if ok:
            self.last_outcome = outcome
        return ok

    # -- passes --------------------------------------------------------------------------------

    def shrink(self, case):
        case = self.statements(case)
        for changes in (dict(restart_after=None), dict(serve_raw=False)):
            if any(getattr(case, k) != v for k, v in changes.items()):
                candidate = case.copy(**changes)
                if self.reproduces(candidate):
                    case = candidate
        case = self.rounds(case)
        case = self.transactions(case)
        case = self.changes(case)
        case = self.rows(case)
        case = self.statements(case)  # a smaller case may need fewer (timing) companions
        case = self.expressions(case)
        case = self.changes(case)
        case = self.rows(case)
        return case

    def statements(self, case):
        keep = self.failure.statement
        needed = set()
        if keep is not None and keep in case.by_name():
            needed = closure(case, {keep})
            alone = case.copy(statements=[s for s in case.statements if s.name in needed])
            if len(alone.statements) < len(case.statements) and self.reproduces(alone):
                return alone
        names = [s.name for s in case.statements if s.name not in needed]

        def test(kept):
            wanted = closure(case, set(kept) | needed)
            return self.reproduces(case.copy(statements=[s for s in case.statements
                                                         if s.name in wanted]))
        kept = reduce_list(names, test, self.exhausted)
        wanted = closure(case, set(kept) | needed)
        return case.copy(statements=[s for s in case.statements if s.name in wanted])

    def rounds(self, case):
        while len(case.rounds) > 0 and not self.exhausted():
            candidate = case.copy(rounds=case.rounds[:-1])
            if not self.reproduces(candidate):
                break
            case = candidate
        return case

    def transactions(self, case):
        items = [(r, t) for r, rnd in enumerate(case.rounds) for t in range(len(rnd))]

        def build(kept):
            rounds = [[] for _ in case.rounds]
            for r, t in kept:
                rounds[r].append(case.rounds[r][t])
            return case.copy(rounds=rounds)
        kept = reduce_list(items, lambda k: self.reproduces(build(k)), self.exhausted)
        return drop_empty_rounds(build(kept))

    def changes(self, case):
        items = [(r, t, c) for r, rnd in enumerate(case.rounds) for t, tx in enumerate(rnd)
                 for c in range(len(tx))]

        def build(kept):
            rounds = [[[] for _ in rnd] for rnd in case.rounds]
            for r, t, c in kept:
                rounds[r][t].append(case.rounds[r][t][c])
            return case.copy(rounds=[[tx for tx in rnd if tx] for rnd in rounds])
        kept = reduce_list(items, lambda k: self.reproduces(build(k)), self.exhausted)
        return drop_empty_rounds(build(kept))

    def rows(self, case):
        items = [(t, i) for t, rows in sorted(case.rows.items()) for i in range(len(rows))]

        def build(kept):
            rows = {t: [] for t in case.rows}
            for t, i in kept:
                rows[t].append(case.rows[t][i])
            return case.copy(rows=rows)
        return build(reduce_list(items, lambda k: self.reproduces(build(k)), self.exhausted))

    def expressions(self, case):
        """Simplifies the failing statement's tree, then those of the statements it reads."""
        name = self.failure.statement
        if name is None and len(case.statements) == 1:
            name = case.statements[0].name
        if name is None or name not in case.by_name():
            return case
        for n in [name] + sorted(closure(case, {name}) - {name}):
            case = self.expressions_of(case, n)
        return case

    def expressions_of(self, case, name):
        """Simplifies one statement's tree, biggest nodes first, until nothing helps."""
        index = [s.name for s in case.statements].index(name)
        progress = True
        while progress and not self.exhausted():
            progress = False
            st = case.statements[index]
            for path, node in sorted(st.tree.walk(), key=lambda pn: -pn[1].size()):
                for simpler in simplifications(node):
                    if self.exhausted():
                        return case
                    tree = replaced(st.tree, path, simpler)
                    if tree.render() == st.tree.render():
                        continue
                    candidate = case.copy(statements=case.statements[:index] + [
                        with_tree(st, tree)] + case.statements[index + 1:])
                    if self.reproduces(candidate):
                        case = candidate
                        progress = True
                        break
                if progress:
                    break
        return case


def simplifications(node):
    """Smaller replacements for `node`: nothing (optional parts), the list without one item,
    a same-typed child, a literal or NULL of its type."""
    out = []
    if node.optional:
        out.append(EMPTY)
    if node.sep is not None and len(node.kids) > 1:
        out += [without_item(node, i) for i in range(len(node.kids))]
    if node.type is not None and node.size() > 1:
        out += [k for k in node.kids if k.type == node.type]
        out += [simplest_literal(node.type), null_of(node.type)]
    return out


def with_tree(st, tree):
    out = Statement(st.name, tree, st.deps, st.internal, {"shape:" + st.shape}, st.shape)
    out.columns = st.columns
    return out


def closure(case, names):
    """`names` and every statement they read, transitively."""
    by_name = case.by_name()
    out, todo = set(), list(names)
    while todo:
        n = todo.pop()
        if n in out or n not in by_name:
            continue
        out.add(n)
        todo += by_name[n].deps
    return out


def drop_empty_rounds(case):
    rounds = [r for r in case.rounds if r]
    restart = case.restart_after
    if restart is not None:
        restart = min(restart, len(rounds)) or None
    return case.copy(rounds=rounds, restart_after=restart)


def reduce_list(items, test, exhausted):
    """Delta debugging: removes chunks (halves, quarters, ... single items) while `test` of
    the remaining items still holds. Returns the items kept."""
    items = list(items)
    chunk = max(1, len(items) // 2)
    while items and not exhausted():
        removed = False
        i = 0
        while i < len(items) and not exhausted():
            candidate = items[:i] + items[i + chunk:]
            if test(candidate):
                items = candidate
                removed = True
            else:
                i += chunk
        if chunk == 1 and not removed:
            break
        chunk = max(1, chunk // 2) if not removed or chunk > 1 else chunk
    return items
