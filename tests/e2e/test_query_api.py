"""The query language against PostgreSQL: a table captured from a real PostgreSQL 15
(tests/e2e/pg_server.py) is queried through REST with random filters, orders and cursor
paging, and every answer must equal what PostgreSQL returns for the same question in SQL.
Then the table changes (updates, deletes, inserts through logical replication) and the same
holds, which checks that index entries follow every change."""

import json
import random
import time
import urllib.parse

import harness
import pg_server

PG = None
CITIES = ["Oslo", "Lima", "Kyiv", "Osaka", "Lyon", "Ostrava"]
WORDS = ["blue", "Shoes", "red", "hat", "green", "Sock", "wool", "cotton"]
ROWS = 3000


def setUpModule():
    global PG
    PG = pg_server.PgServer().start()
    PG.create_roles()


def tearDownModule():
    if PG is not None:
        PG.stop()


def sql_literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, str):
        return pg_server.quote_literal(v)
    return repr(v)


class QueryGen:
    """Random filters as (query-language JSON, SQL condition) pairs."""

    def __init__(self, rng):
        self.rng = rng

    def value(self, column):
        r = self.rng
        if column == "city":
            return r.choice(CITIES + [None] if r.random() < 0.1 else CITIES)
        if column == "score":
            return r.randrange(0, 40) / 4
        if column == "n":
            return r.randrange(-5, 15)
        if column == "price":
            return "%d.%02d" % (r.randrange(0, 100), r.choice([0, 25, 50, 99]))
        if column == "added":
            return "2026-11-%02dT%02d:00:00Z" % (r.randrange(1, 29), r.randrange(0, 24))
        return r.randrange(0, ROWS + 200)  # id

    def sql_value(self, column, v):
        if v is None:
            return "NULL"
        if column == "price":
            return v + "::numeric"
        if column == "added":
            return "'%s'::timestamptz" % v
        return sql_literal(v)

    def leaf(self):
        r = self.rng
        column = r.choice(["city", "score", "n", "price", "added", "id", "descr"])
        if column == "descr":
            words = r.sample(WORDS, r.choice([1, 2]))
            text = " ".join(w.upper() if r.random() < 0.3 else w for w in words)
            arr = "ARRAY[%s]" % ",".join(sql_literal(w.lower()) for w in words)
            tokens = "regexp_split_to_array(lower(descr), '[^a-z0-9]+')"
            if r.random() < 0.6:
                return {"descr": {"$contains": text}}, "(%s @> %s)" % (tokens, arr)
            return {"descr": {"$matches_any": text}}, "(%s && %s)" % (tokens, arr)
        op = r.choice(["bare", "$eq", "$ne", "$lt", "$lte", "$gt", "$gte", "$in", "$nin",
                       "$prefix", "range"])
        if op == "$prefix" and column != "city":
            op = "$eq"
        if op == "$prefix":
            p = r.choice(["O", "Os", "Ly", "Q", "Kyiv"])
            return {column: {"$prefix": p}}, "(city LIKE %s)" % sql_literal(p + "%")
        if op in ("$in", "$nin"):
            values = [self.value(column) for _ in range(r.randrange(1, 4))]
            if r.random() < 0.15:
                values.append(None)
            sql_list = ",".join(self.sql_value(column, v) for v in values)
            sql = "(%s %s (%s))" % (column, "IN" if op == "$in" else "NOT IN", sql_list)
            return {column: {op: values}}, sql
        if op == "range":
            a, b = self.value(column), self.value(column)
            return ({column: {"$gte": a, "$lt": b}},
                    "(%s >= %s AND %s < %s)" % (column, self.sql_value(column, a), column,
                                               self.sql_value(column, b)))
        v = self.value(column)
        sql_op = {"bare": "=", "$eq": "=", "$ne": "<>", "$lt": "<", "$lte": "<=", "$gt": ">",
                  "$gte": ">="}[op]
        sql = "(%s %s %s)" % (column, sql_op, self.sql_value(column, v))
        return ({column: v} if op == "bare" else {column: {op: v}}), sql

    def filter(self, depth=0):
        r = self.rng
        pick = r.random()
        if depth < 2 and pick < 0.15:
            parts = [self.filter(depth + 1) for _ in range(r.randrange(2, 4))]
            return ({"$or": [p[0] for p in parts]}, "(" + " OR ".join(p[1] for p in parts) + ")")
        if depth < 2 and pick < 0.22:
            inner = self.filter(depth + 1)
            return {"$not": inner[0]}, "(NOT %s)" % inner[1]
        if depth < 2 and pick < 0.45:
            parts = [self.leaf() for _ in range(r.randrange(2, 4))]
            merged, conflict = {}, False
            for p in parts:
                for k in p[0]:
                    conflict = conflict or k in merged
                merged.update(p[0])
            if conflict:  # the same field twice: say it with $and instead
                return ({"$and": [p[0] for p in parts]},
                        "(" + " AND ".join(p[1] for p in parts) + ")")
            return merged, "(" + " AND ".join(p[1] for p in parts) + ")"
        if pick < 0.5:
            return {}, "TRUE"
        return self.leaf()

    def order(self):
        r = self.rng
        columns = r.sample(["city", "score", "n", "added", "price", "id"], r.choice([0, 1, 1, 2]))
        return [(c, r.choice(["asc", "desc"])) for c in columns]


def sql_order(order):
    # Ties are broken by the primary key in the direction of the last term (docs/rest.md).
    tie = order[-1][1] if order else "asc"
    return ", ".join(["%s %s" % t for t in order] + ["id " + tie])


class QueryApiAgainstPostgres(harness.SluiceTestCase):
    def setUp(self):
        super().setUp()
        PG.recreate_database("shop")
        PG.psql("""
            CREATE TABLE orders (id int PRIMARY KEY, city text COLLATE "C", score float8,
                                 n int, price numeric(10,2), added timestamptz,
                                 descr text COLLATE "C");
        """, db="shop", user="sluice")
        self.rng = random.Random(20261123)
        self.insert(range(ROWS))
        config = """
app_name: query
home_dir: ./home
connections:
  - {name: pg, kind: postgres, url: "%s"}
sources:
  - {name: orders, connection: pg, table: public.orders}
endpoints:
  - name: orders
    path: /orders
    table: orders
    indexes:
      - {fields: [city, n]}
      - {fields: [score]}
      - {fields: [added]}
      - {full_text: descr}
  - {name: everything, path: /everything, table: orders, default_indexes: true}
api:
  host: 127.0.0.1
  rest: {port: 0}
""" % PG.url(db="shop")
        self.s = self.sluice(config).start()
        self.wait_synced()

    def row_sql(self, i):
        r = self.rng
        maybe = lambda v: None if r.random() < 0.08 else v  # noqa: E731
        words = " ".join(r.choice(WORDS) + r.choice(["", ",", "."]) for _ in range(r.randrange(0, 5)))
        return "(%d, %s, %s, %s, %s, %s, %s)" % (
            i, sql_literal(maybe(r.choice(CITIES))), sql_literal(maybe(r.randrange(0, 40) / 4)),
            sql_literal(maybe(r.randrange(-5, 15))),
            sql_literal(maybe("%d.%02d" % (r.randrange(0, 100), r.randrange(0, 100)))),
            sql_literal(maybe("2026-11-%02d %02d:%02d:00+00" % (
                r.randrange(1, 29), r.randrange(0, 24), r.randrange(0, 60)))),
            sql_literal(maybe(words)))

    def insert(self, ids):
        values = ",".join(self.row_sql(i) for i in ids)
        PG.psql("INSERT INTO orders VALUES %s ON CONFLICT (id) DO UPDATE SET city = EXCLUDED.city,"
                " score = EXCLUDED.score, n = EXCLUDED.n, price = EXCLUDED.price,"
                " added = EXCLUDED.added, descr = EXCLUDED.descr" % values, db="shop", user="sluice")

    def wait_synced(self):
        # A marker row written last: once it is served, everything before it is too.
        marker = self.rng.randrange(10 ** 9)
        PG.psql("INSERT INTO orders (id, n) VALUES (-1, %d) ON CONFLICT (id) DO UPDATE SET n = %d"
                % (marker, marker), db="shop", user="sluice")
        self.s.wait_for(lambda: self.s.get_json("/orders/-1").get("n") == marker
                        if self.s.request("GET", "/orders/-1")[0] == 200 else False,
                        timeout=120, what="marker row")
        for path in ("/orders", "/everything"):
            self.s.wait_for(lambda: self.s.count(path) == int(PG.value(
                "SELECT count(*) FROM orders", db="shop")), timeout=120, what="counts")

    def pages(self, path, body, limit):
        """All rows of a query, following X-Sluice-Cursor."""
        ids, after, pages = [], None, 0
        while True:
            payload = dict(body, **{"$limit": limit})
            if after:
                payload["$after"] = after
            status, text, headers = self.s.request("POST", path + "/query", json.dumps(payload))
            self.assertEqual(status, 200, "%s -> %s" % (payload, text))
            ids += [row["id"] for row in json.loads(text)]
            pages += 1
            after = headers.get("X-Sluice-Cursor")
            if not after:
                return ids, pages
            self.assertLess(pages, 5000)

    def check_queries(self, count):
        gen = QueryGen(self.rng)
        for _ in range(count):
            flt, cond = gen.filter()
            order = gen.order()
            cond = "(%s) AND id >= 0" % cond  # the marker row is not part of the question
            flt = {"$and": [flt, {"id": {"$gte": 0}}]}
            expected = [int(r[0]) for r in PG.psql(
                "SELECT id FROM orders WHERE %s ORDER BY %s" % (cond, sql_order(order)), db="shop")]
            body = {"$filter": flt}
            if order:
                body["$order_by"] = dict(order)
            what = "%s\nSQL: %s ORDER BY %s" % (json.dumps(body), cond, sql_order(order))
            limit = self.rng.choice([1, 7, 50, 10000])
            path = self.rng.choice(["/orders", "/everything"])
            ids, pages = self.pages(path, body, limit)
            self.assertEqual(ids, expected, what)
            self.assertEqual(pages, max(1, -(-len(expected) // limit)), what)
            self.assertEqual(self.s.post_json(path + "/count", {"$filter": flt})["count"],
                             len(expected), what)
            # Offset paging agrees with SQL's OFFSET/LIMIT.
            skip = self.rng.randrange(0, 20)
            rows = self.s.post_json(path + "/query", dict(body, **{"$skip": skip, "$limit": 5}))
            self.assertEqual([r["id"] for r in rows], expected[skip:skip + 5], what)

    def test_random_queries_match_postgres_through_changes(self):
        self.check_queries(80)
        # Updates (moving rows between index ranges), deletes and inserts, replicated.
        self.insert(self.rng.sample(range(ROWS), 600))
        PG.psql("DELETE FROM orders WHERE id IN (%s)" % ",".join(
            str(i) for i in self.rng.sample(range(ROWS), 300)), db="shop", user="sluice")
        self.insert(range(ROWS, ROWS + 300))
        PG.psql("UPDATE orders SET descr = 'red wool hat' WHERE id % 17 = 0", db="shop",
                user="sluice")
        self.wait_synced()
        self.check_queries(80)

    def test_query_string_form_explain_and_errors(self):
        flt = {"city": "Oslo", "n": {"$gte": 3}}
        body = {"$filter": flt, "$order_by": {"n": "desc"}, "$limit": 10}
        expected = self.s.post_json("/orders/query", body)
        qs = urllib.parse.urlencode({"filter": json.dumps(flt), "order_by": "n:desc", "limit": 10})
        self.assertEqual(self.s.get_json("/orders?" + qs), expected)
        plan = self.s.post_json("/orders/explain", body)
        self.assertEqual(plan["plan"]["access"], "index_ranges", plan)
        self.assertEqual(plan["plan"]["index"], "sorted(city, n)", plan)
        self.assertIn("estimated_rows", plan)
        words = self.s.post_json("/orders/explain", {"$filter": {"descr": {"$contains": "red hat"}}})
        self.assertEqual(words["plan"]["access"], "words", words)
        for payload, message in [
            ({"$filter": {"score": {"$gte": "x"}}}, "$filter.score.$gte: "),
            ({"$filter": {"nope": 1}}, "$filter.nope: unknown field"),
            ({"$filter": {"$or": [{"n": 1}, {"n": {"$near": 2}}]}}, "$filter.$or[1].n.$near: unknown operator"),
            ({"$order_by": {"n": "sideways"}}, "$order_by.n: "),
            ({"$after": "bm9wZQ"}, "$after: malformed cursor"),
        ]:
            status, text, _ = self.s.request("POST", "/orders/query", json.dumps(payload))
            self.assertEqual(status, 400, text)
            self.assertTrue(json.loads(text)["error"]["message"].startswith(message), text)
        status, text, _ = self.s.request("GET", "/orders?filter=%7B%22n%22%3A%7B%22%24gt%22%3Atrue%7D%7D")
        self.assertEqual(status, 400, text)
        self.assertTrue(json.loads(text)["error"]["message"].startswith("filter.n.$gt: "), text)
        # A cursor made for one order is refused for another.
        _, _, headers = self.s.request("POST", "/orders/query", json.dumps(
            {"$order_by": {"n": "asc"}, "$limit": 2}))
        status, text, _ = self.s.request("POST", "/orders/query", json.dumps(
            {"$order_by": {"score": "asc"}, "$after": headers["X-Sluice-Cursor"]}))
        self.assertEqual(status, 400, text)
        self.assertIn("different $order_by", text)


if __name__ == "__main__":
    harness.main()
