"""A test case: the statements of one Sluice config, the initial rows of every table and the
rounds of changes applied while Sluice runs (plus whether Sluice restarts in between). Cases
are what the shrinker reduces and what repro files store (JSON, replayable with
`fuzz_sql.py --replay`)."""

import json

from data import insert_sql
from generator import Statement, postgres_sql
from schema import TABLE_BY_NAME
from tree import dialects, from_dict, to_dict


class Case:
    def __init__(self, statements, rows, rounds, restart_after=None, restart_kill=False,
                 serve_raw=False):
        self.statements = statements    # [generator.Statement], in config order
        self.rows = rows                # {table: [[SQL literal per column]]}
        self.rounds = rounds            # [[[SQL change]]]: rounds of transactions
        self.restart_after = restart_after  # restart Sluice after this round (None: never)
        self.restart_kill = restart_kill    # ... with SIGKILL instead of SIGTERM
        self.serve_raw = serve_raw      # also serve (and compare) the captured tables

    def copy(self, **changes):
        fields = dict(statements=self.statements, rows=self.rows, rounds=self.rounds,
                      restart_after=self.restart_after, restart_kill=self.restart_kill,
                      serve_raw=self.serve_raw)
        fields.update(changes)
        if fields["restart_after"] is not None and fields["restart_after"] > len(fields["rounds"]):
            fields["restart_after"] = None
        return Case(**fields)

    def by_name(self):
        return {s.name: s for s in self.statements}

    def postgres_sql(self, statement):
        return postgres_sql(statement, self.by_name())

    def insert_statements(self):
        return [insert_sql(TABLE_BY_NAME[t], rows) for t, rows in sorted(self.rows.items()) if rows]

    def size(self):
        return (len(self.statements), sum(len(r) for r in self.rows.values()),
                sum(len(tx) for rnd in self.rounds for tx in rnd))

    def to_json(self, **extra):
        return json.dumps(dict(extra, **{
            "statements": [{"name": s.name, "sluice": s.sluice_sql(),
                            "postgres": s.postgres_body(), "deps": s.deps,
                            "shape": s.shape, "internal": s.internal,
                            "tags": sorted(s.tags), "tree": to_dict(s.tree)}
                           for s in self.statements],
            "rows": self.rows, "rounds": self.rounds, "restart_after": self.restart_after,
            "restart_kill": self.restart_kill, "serve_raw": self.serve_raw}), indent=1)

    @staticmethod
    def from_json(text):
        d = json.loads(text)
        statements = []
        for s in d["statements"]:
            # The tree when stored (it can be shrunk), else the two texts as they are.
            tree = from_dict(s["tree"]) if "tree" in s else dialects(s["sluice"], s["postgres"])
            statements.append(Statement(s["name"], tree, s["deps"], s["internal"], s["tags"],
                                        s["shape"]))
        return Case(statements, d["rows"], d["rounds"], d["restart_after"], d["restart_kill"],
                    d["serve_raw"])
