"""The PostgreSQL tables a mix runs over: their columns, SQL types, value pools and literals.

Pools are small and skewed on purpose (few distinct keys, NULLs, duplicates, a few extreme
values) so joins match, groups collide and changes move rows between groups. Values stay
small enough that no generated arithmetic overflows PostgreSQL's int4/int8 and no float sum
depends on the order it is added in (multiples of 1/4)."""

import datetime
import decimal

# Expression categories the generator works with; each column has one.
INT, NUM, FLOAT, TEXT, BOOL, TS, DATE, JSON, INTERVAL = (
    "int", "num", "float", "text", "bool", "ts", "date", "json", "interval")
NUMERIC_TYPES = (INT, NUM, FLOAT)
ORDERABLE = (INT, NUM, FLOAT, TEXT, TS, DATE)


class Column:
    def __init__(self, name, sql_type, category, pool):
        self.name = name
        self.sql_type = sql_type
        self.category = category
        self.pool = pool  # name of a pool in POOLS


class Table:
    def __init__(self, name, columns):
        self.name = name
        self.columns = columns  # the first is the primary key `id`

    def column(self, name):
        return next(c for c in self.columns if c.name == name)

    def ddl(self):
        cols = ", ".join("%s %s%s" % (c.name, c.sql_type, " PRIMARY KEY" if c.name == "id" else "")
                         for c in self.columns)
        return "CREATE TABLE %s (%s);" % (self.name, cols)


TABLES = [
    Table("t1", [Column("id", "bigint", INT, "id"), Column("k", "bigint", INT, "k"),
                 Column("g", "text", TEXT, "g"), Column("a", "bigint", INT, "a"),
                 Column("n", "numeric(12,2)", NUM, "n"),
                 Column("f", "double precision", FLOAT, "f"),
                 Column("s", "text", TEXT, "s"), Column("b", "boolean", BOOL, "b"),
                 Column("ts", "timestamp", TS, "ts"), Column("d", "date", DATE, "d"),
                 Column("j", "jsonb", JSON, "j")]),
    Table("t2", [Column("id", "bigint", INT, "id"), Column("k", "bigint", INT, "k"),
                 Column("a", "bigint", INT, "a"), Column("x", "numeric", NUM, "x"),
                 Column("s", "text", TEXT, "s"), Column("b", "boolean", BOOL, "b"),
                 Column("ts", "timestamptz", TS, "ts"), Column("c", "int", INT, "c")]),
    Table("t3", [Column("id", "bigint", INT, "id"), Column("k", "bigint", INT, "k"),
                 Column("g", "text", TEXT, "g"), Column("f", "double precision", FLOAT, "f"),
                 Column("d", "date", DATE, "d"), Column("j", "jsonb", JSON, "j")]),
]
TABLE_BY_NAME = {t.name: t for t in TABLES}

# A dedicated table served raw: its one row's counter says how far Sluice has read.
MARKER_TABLE = "fuzz_marker"
MARKER_DDL = "CREATE TABLE %s (id int PRIMARY KEY, n bigint NOT NULL);" % MARKER_TABLE
PUBLICATION = "fuzz_pub"


D = decimal.Decimal
BASE_TS = datetime.datetime(2026, 1, 1)


def _ts_pool():
    out = []
    for minutes in (0, 15, 59, 60, 61, 119, 120, 360, 725, 1439, 1440, 1441, 2000, 2880, 4321):
        out.append(BASE_TS + datetime.timedelta(minutes=minutes))
    out.append(BASE_TS + datetime.timedelta(seconds=3601, microseconds=500000))
    out.append(BASE_TS + datetime.timedelta(seconds=86399, microseconds=123456))
    out.append(datetime.datetime(2025, 12, 31, 23, 30))
    out.append(datetime.datetime(2026, 2, 28, 12))
    return out


# Pools: (values, weights). Earlier values weigh more (skew); None is NULL.
POOLS = {
    "k": ([0, 1, 2, 3, 4, 5, 6, None], [20, 16, 12, 8, 5, 3, 2, 8]),
    "g": (["x", "y", "z", "xy", "", None], [20, 12, 6, 3, 2, 6]),
    "a": ([0, 1, 2, 3, 5, 7, 10, -1, -4, -10, 25, 42, 100, -50, 1000000, None],
          [6, 6, 5, 5, 4, 4, 4, 4, 3, 3, 3, 2, 2, 2, 1, 6]),
    "c": ([0, 1, 2, 3, 7, -2, 100, None], [8, 8, 6, 4, 3, 3, 1, 4]),
    "n": ([D("0.00"), D("1.50"), D("-2.25"), D("10.00"), D("99.99"), D("0.01"), D("1234.50"),
           D("-0.75"), D("3.33"), None], [4, 6, 4, 3, 2, 2, 1, 2, 2, 4]),
    "x": ([D("1.5"), D("2"), D("-0.125"), D("3.14159"), D("100.000"), D("0"), D("-7"),
           D("0.3333"), None], [5, 5, 3, 2, 2, 3, 2, 2, 4]),
    # No huge values: a running float sum loses a small value's digits while it holds a huge
    # one (found/10), which would repeat all the time.
    "f": ([0.5, -1.25, 2.0, 3.75, 0.0, 100.25, -3.5, 12345.75, 0.125, None],
          [6, 5, 5, 4, 4, 2, 3, 1, 2, 4]),
    "s": (["a", "b", "ab", "ba", "abc", "A", "B a", " a ", "", "xyz", "a%b", "_x", "aa", None],
          [8, 6, 5, 4, 3, 3, 2, 2, 2, 2, 1, 1, 2, 6]),
    "b": ([True, False, None], [5, 4, 2]),
    "ts": (_ts_pool() + [None], [3] * len(_ts_pool()) + [6]),
    "d": ([datetime.date(2026, 1, 1) + datetime.timedelta(days=n)
           for n in (-2, -1, 0, 1, 2, 5, 30, 31, 59)] + [None], [2, 3, 6, 5, 4, 3, 2, 2, 1, 4]),
    "j": (['{"a": 1, "b": "x"}', '{"a": 2.5, "b": "y", "c": [1, 2, {"d": "z"}]}', '{"a": null}',
           '[1, "two", 3]', '"str"', '7', '{"nested": {"k": "v", "n": [0, 1]}}', '{}',
           '{"b": "x", "a": -1}', '{"a": "1", "bb": true}', None],
          [5, 4, 2, 2, 1, 1, 2, 1, 3, 2, 4]),
}


def draw(rng, pool_name):
    values, weights = POOLS[pool_name]
    return rng.choices(values, weights)[0]


def literal(value, column=None):
    """`value` as a SQL literal for `column` (typed where PostgreSQL could not infer it)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, D)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime.datetime):
        return "'%s'" % value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return "'%s'" % value.isoformat()
    if isinstance(value, str):
        if column is not None and column.category == JSON:
            return "'%s'::jsonb" % value.replace("'", "''")
        return "'%s'" % value.replace("'", "''")
    raise TypeError(value)


def schema_ddl():
    return "\n".join([t.ddl() for t in TABLES] + [MARKER_DDL])


def slot_name(database):
    """Replication slots are per server, not per database: one per worker's database."""
    return "fuzz_slot_" + database
