"""Rows and changes of a mix: initial rows per table and rounds of random transactions of
inserts, updates (of plain columns, group/partition columns and primary keys, one row or many)
and deletes. A Python model of the current rows keeps the generated changes valid; the changes
themselves are plain SQL, so a shrunk case replays without the model (a change that became
invalid is skipped under a savepoint, see pg_client.apply_transaction)."""

from schema import MARKER_TABLE, TABLES, draw, literal

# Columns that decide groups, partitions and join keys: updated more often.
HOT_COLUMNS = {"k", "g"}


class RowModel:
    def __init__(self):
        self.rows = {t.name: {} for t in TABLES}  # table -> {id: {column: value}}
        self.next_id = {t.name: 1 for t in TABLES}

    def new_id(self, table):
        i = self.next_id[table]
        self.next_id[table] += 1
        return i


def new_row(rng, table, row_id):
    row = {"id": row_id}
    for c in table.columns[1:]:
        row[c.name] = draw(rng, c.pool)
    return row


def initial_rows(rng, model, scale=1.0):
    """{table: [row dict]}: 0 to ~100 rows per table (an empty table now and then)."""
    sizes = {"t1": (20, 100), "t2": (10, 60), "t3": (5, 30)}
    out = {}
    for t in TABLES:
        lo, hi = sizes[t.name]
        n = 0 if rng.random() < 0.04 else int(rng.randint(lo, hi) * scale)
        rows = []
        for _ in range(n):
            if rng.random() < 0.15:  # a gap in the ids
                model.new_id(t.name)
            row = new_row(rng, t, model.new_id(t.name))
            model.rows[t.name][row["id"]] = row
            rows.append(row)
        out[t.name] = rows
    return out


def row_literals(table, row):
    return [literal(row[c.name], c) for c in table.columns]


def insert_sql(table, literal_rows):
    """One INSERT of rows given as lists of SQL literals (in column order)."""
    cols = ", ".join(c.name for c in table.columns)
    values = ", ".join("(%s)" % ", ".join(r) for r in literal_rows)
    return "INSERT INTO %s (%s) VALUES %s" % (table.name, cols, values)


def _set_clause(rng, table, row):
    """Assignments for an update of `row` (applied to the model as well)."""
    cols = table.columns[1:]
    hot = [c for c in cols if c.name in HOT_COLUMNS]
    chosen = set()
    if hot and rng.random() < 0.5:
        chosen.add(rng.choice(hot).name)
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        chosen.add(rng.choice(cols).name)
    sets = []
    for name in sorted(chosen):
        c = table.column(name)
        value = row[name] if rng.random() < 0.08 else draw(rng, c.pool)  # a no-op update too
        row[name] = value
        sets.append("%s = %s" % (name, literal(value, c)))
    return ", ".join(sets)


def _one_change(rng, model, table):
    rows = model.rows[table.name]
    kind = rng.choices(["insert", "update", "update_key", "update_many", "delete", "delete_many"],
                       [30, 38, 6, 5, 18, 3])[0]
    if not rows or kind == "insert":
        row = new_row(rng, table, model.new_id(table.name))
        rows[row["id"]] = row
        return insert_sql(table, [row_literals(table, row)])
    if kind == "update":
        row_id = rng.choice(list(rows))
        sets = _set_clause(rng, table, rows[row_id])
        return "UPDATE %s SET %s WHERE id = %d" % (table.name, sets, row_id)
    if kind == "update_key":
        old = rng.choice(list(rows))
        new = model.new_id(table.name)
        rows[new] = rows.pop(old)
        rows[new]["id"] = new
        return "UPDATE %s SET id = %d WHERE id = %d" % (table.name, new, old)
    if kind == "update_many":
        k_from, k_to = draw(rng, "k"), draw(rng, "k")
        where = "k IS NULL" if k_from is None else "k = %d" % k_from
        for r in rows.values():
            if r["k"] == k_from:
                r["k"] = k_to
        return "UPDATE %s SET k = %s WHERE %s" % (table.name, literal(k_to), where)
    if kind == "delete":
        row_id = rng.choice(list(rows))
        del rows[row_id]
        return "DELETE FROM %s WHERE id = %d" % (table.name, row_id)
    k = draw(rng, "k")
    if k is None:
        k = 0
    for row_id in [i for i, r in rows.items() if r["k"] == k]:
        del rows[row_id]
    return "DELETE FROM %s WHERE k = %d" % (table.name, k)


def generate_round(rng, model, n_changes):
    """A round: a list of transactions, each a list of SQL changes (mostly on t1)."""
    txs, left = [], n_changes
    while left > 0:
        size = min(left, rng.choice([1, 1, 1, 2, 3, 5, 8]))
        tx = []
        for _ in range(size):
            table = rng.choices(TABLES, [5, 3, 2])[0]
            tx.append(_one_change(rng, model, table))
        txs.append(tx)
        left -= size
    return txs


def marker_update(n):
    return "UPDATE %s SET n = %d WHERE id = 1" % (MARKER_TABLE, n)
