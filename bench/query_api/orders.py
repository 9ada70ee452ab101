"""Helpers for bench/query_api.sh (Python standard library only).

  orders.py generate ROWS DIR   the orders CSV (DIR/data/orders/orders.csv) and the query
                                parameters: DIR/params.sh (shell variables), and per kind of
                                word pair (common, rare) DIR/pairs_KIND.lua (for wrk),
                                DIR/pairs_KIND.txt and DIR/pgbench_KIND/full_text_NNN.sql (one
                                pgbench script per pair)
  orders.py check REST_PORT PG_PORT DIR
                                for a few parameters of each query, the rows Sluice returns
                                and the rows PostgreSQL returns must be the same; prints
                                Sluice's plans (POST /orders/explain)
  orders.py percentiles LOG...  transactions, p50 and p99 (ms) of pgbench --log files

The dataset: id 1..ROWS (primary key); customer_id uniform over 20,000 customers (ROWS / 50
below 1 M rows), renumbered so that the customers with at least 50 orders are 1..K (the range
query picks one of them, so it always returns 50 rows); created_at = 2025-01-01 + 30 s per
id + 0..29 s (unique, so "ORDER BY created_at DESC LIMIT 50" has one answer); status one of 5;
total 1.00..999.99; description 3..8 distinct words drawn from a 2,000-word vocabulary of
made-up lowercase words with Zipf-like frequencies (letters only: ICU's word breaks and
PostgreSQL's 'simple' parser split them alike).

Full-text queries use word pairs that occur together in 20..50 rows (as close to 40 as the
data allows), so LIMIT 50 returns every match and both systems must return the same set. Two
kinds: "common" pairs, where both words are in at least PLANNER_CAP rows (most random pairs
that match ~40 rows are like this), and "rare" pairs, where one word is in fewer rows.
"""

import array
import bisect
import datetime
import http.client
import itertools
import json
import math
import os
import random
import subprocess
import sys
from urllib.parse import quote

CUSTOMERS = 20000  # fewer below 1,000,000 rows: ROWS / 50, so about half have 50 orders
VOCABULARY = 2000
STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled"]
PAIRS = 100  # per kind; pgbench runs at most 128 scripts, one per pair
# Sluice's planner counts index entries up to 1,000 (kEstimateCap in cache/query_planner.h);
# a word in fewer rows makes a bounded, cheap full-text access whatever the order.
PLANNER_CAP = 1000
BASE = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)


def make_vocabulary(rng):
    consonants, vowels = "bcdfghjklmnprstvz", "aeiou"
    words = set()
    while len(words) < VOCABULARY:
        syllables = rng.randint(2, 4)
        words.add("".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(syllables)))
    words = sorted(words)
    rng.shuffle(words)
    return words


def generate(rows, out_dir):
    rows = int(rows)
    rng = random.Random(20261123)
    vocab = make_vocabulary(rng)
    cum, total = [], 0.0
    for rank in range(VOCABULARY):
        total += 1.0 / (rank + 10)
        cum.append(total)

    # Customers first, so they can be renumbered before writing.
    customers = max(1, min(CUSTOMERS, rows // 50))
    customer_of = [rng.randrange(customers) for _ in range(rows)]
    counts = [0] * customers
    for c in customer_of:
        counts[c] += 1
    big = [c for c in range(customers) if counts[c] >= 50]
    small = [c for c in range(customers) if counts[c] < 50]
    rng.shuffle(big)
    rng.shuffle(small)
    renumber = [0] * customers
    for new, old in enumerate(big + small, start=1):
        renumber[old] = new
    if not big:
        sys.exit(f"query_api: no customer has 50 orders at {rows} rows")

    postings = [array.array("i") for _ in range(VOCABULARY)]
    data_dir = os.path.join(out_dir, "data", "orders")
    os.makedirs(data_dir, exist_ok=True)
    with open(os.path.join(data_dir, "orders.csv"), "w", newline="\n") as f:
        f.write("id,customer_id,created_at,status,total,description\n")
        lines = []
        for i in range(1, rows + 1):
            n = rng.randint(3, 8)
            ranks = dict.fromkeys(
                bisect.bisect_left(cum, rng.random() * total) for _ in range(n))
            for r in ranks:
                postings[r].append(i)
            at = BASE + datetime.timedelta(seconds=30 * i + rng.randrange(30))
            lines.append("%d,%d,%s,%s,%d.%02d,%s\n" % (
                i, renumber[customer_of[i - 1]], at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                STATUSES[rng.randrange(5)], rng.randint(1, 999), rng.randrange(100),
                " ".join(vocab[r] for r in ranks)))
            if len(lines) == 10000:
                f.write("".join(lines))
                lines = []
        f.write("".join(lines))

    # Word pairs that occur together in 20..50 rows, in two kinds (see the module comment):
    # "common" pairs, both words in at least PLANNER_CAP rows, and "rare" pairs, one word in
    # fewer. Candidates come from the words' frequencies; the closest are counted exactly.
    freq = [len(p) for p in postings]
    common = [w for w in range(VOCABULARY) if freq[w] >= PLANNER_CAP]
    rare = [w for w in range(VOCABULARY) if 0 < freq[w] < PLANNER_CAP]
    candidates = {"common": set(), "rare": set()}
    for _ in range(50000):
        if len(common) >= 2:
            a, b = rng.sample(common, 2)
            candidates["common"].add((min(a, b), max(a, b)))
    for a in rare:
        for b in range(min(VOCABULARY, 200)):
            if freq[b] >= PLANNER_CAP:
                candidates["rare"].add((a, b))
    sets = {}

    def exact(a, b):
        small_p, big_p = sorted((postings[a], postings[b]), key=len)
        if id(big_p) not in sets:
            sets[id(big_p)] = set(big_p)
        big_set = sets[id(big_p)]
        return sum(1 for x in small_p if x in big_set)

    chosen = {}
    for kind, pairs in candidates.items():
        ranked = sorted((abs(math.log(rows * freq[a] * freq[b] / rows / rows / 40)), a, b)
                        for a, b in pairs)
        found = []
        for _, a, b in ranked[:1500]:
            n = exact(a, b)
            if 20 <= n <= 50:
                found.append((abs(n - 40), a, b, n))
        found.sort()
        found = found[:PAIRS]
        if len(found) < PAIRS:
            sys.exit(f"query_api: only {len(found)} {kind} word pairs match 20..50 rows "
                     f"at {rows} rows")
        rng.shuffle(found)
        chosen[kind] = [(vocab[a], vocab[b], n, freq[a], freq[b]) for _, a, b, n in found]

    params = ["rows=%d" % rows, "customers=%d" % customers, "big_customers=%d" % len(big),
              "pairs=%d" % PAIRS,
              "planner_cap=%d" % PLANNER_CAP]
    for kind, pairs in chosen.items():
        with open(os.path.join(out_dir, f"pairs_{kind}.lua"), "w") as f:
            f.write("word_pairs = {\n")
            for a, b, _, _, _ in pairs:
                f.write('  "%s %s",\n' % (a, b))
            f.write("}\n")
        with open(os.path.join(out_dir, f"pairs_{kind}.txt"), "w") as f:
            for a, b, n, fa, fb in pairs:
                f.write("%s %s %d %d %d\n" % (a, b, n, fa, fb))
        pg_dir = os.path.join(out_dir, f"pgbench_{kind}")
        os.makedirs(pg_dir, exist_ok=True)
        for k, (a, b, _, _, _) in enumerate(pairs, start=1):
            with open(os.path.join(pg_dir, "full_text_%03d.sql" % k), "w") as f:
                f.write("SELECT * FROM orders WHERE to_tsvector('simple', description) @@ "
                        "to_tsquery('simple', '%s & %s') LIMIT 50;\n" % (a, b))
        matches = sorted(p[2] for p in pairs)
        words = sorted(x for p in pairs for x in p[3:])
        params.append("%s_pairs='matches %d..%d rows (median %d); words in %d..%d rows'" % (
            kind, matches[0], matches[-1], matches[len(matches) // 2], words[0], words[-1]))
    with open(os.path.join(out_dir, "params.sh"), "w") as f:
        f.write("\n".join(params) + "\n")
    return 0


# --- check -----------------------------------------------------------------------------------

def rest(port, method, path, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
    conn.request(method, path, body=body,
                 headers={"Content-Type": "application/json"} if body else {})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


def psql(port, sql):
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "postgres", "-X",
         "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


PG_COLUMNS = ("id, customer_id, to_char(created_at AT TIME ZONE 'UTC', "
              "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), status, total::text, description")


def sluice_rows(records):
    return [[str(r["id"]), str(r["customer_id"]), r["created_at"], r["status"], r["total"],
             r["description"]] for r in records]


def check(rest_port, pg_port, out_dir):
    params = dict(line.strip().split("=", 1) for line in open(os.path.join(out_dir, "params.sh")))
    rows, big = int(params["rows"]), int(params["big_customers"])
    rng = random.Random()
    problems, summary = [], []

    def compare(name, request, status, data, want, ordered):
        if status != 200:
            problems.append(f"{name}: {request} -> HTTP {status} {data[:300]!r}")
            return None
        got = sluice_rows(json.loads(data))
        if not ordered:
            got, want = sorted(got), sorted(want)
        if got != want:
            problems.append(f"{name}: {request}: Sluice returned {len(got)} rows, PostgreSQL "
                            f"{len(want)}; first difference: "
                            f"{next((g, w) for g, w in itertools.zip_longest(got, want) if g != w)}")
        return len(got)

    n_point = []
    for _ in range(5):
        i = rng.randint(1, rows)
        status, data = rest(rest_port, "GET", f"/orders/{i}")
        want = psql(pg_port, f"SELECT {PG_COLUMNS} FROM orders WHERE id = {i}")
        if status == 200:
            data = b"[" + data + b"]"
        n_point.append(compare("point lookup", f"GET /orders/{i}", status, data, want, True))
    summary.append(f"point lookup rows {n_point}")

    n_range = []
    for _ in range(5):
        c = rng.randint(1, big)
        body = json.dumps({"$filter": {"customer_id": c}, "$order_by": {"created_at": "desc"},
                           "$limit": 50})
        status, data = rest(rest_port, "POST", "/orders/query", body)
        want = psql(pg_port, f"SELECT {PG_COLUMNS} FROM orders WHERE customer_id = {c} "
                             "ORDER BY created_at DESC LIMIT 50")
        n_range.append(compare("range", f"POST /orders/query {body}", status, data, want, True))
        # The query-string form must answer the same.
        get = (f"/orders?filter={quote(json.dumps({'customer_id': c}))}"
               "&order_by=created_at:desc&limit=50")
        status2, data2 = rest(rest_port, "GET", get)
        if (status2, data2) != (status, data):
            problems.append(f"range: GET {get} -> HTTP {status2}, differs from the POST form")
    summary.append(f"range rows {n_range}")

    for kind in ("common", "rare"):
        pairs = [line.split() for line in open(os.path.join(out_dir, f"pairs_{kind}.txt"))]
        n_text = []
        # A common pair may be answered by a table scan (seconds): check fewer of them.
        for a, b, n, _, _ in rng.sample(pairs, 2 if kind == "common" else 5):
            body = json.dumps({"$filter": {"description": {"$contains": f"{a} {b}"}},
                               "$limit": 50})
            status, data = rest(rest_port, "POST", "/orders/query", body)
            want = psql(pg_port, f"SELECT {PG_COLUMNS} FROM orders WHERE to_tsvector('simple', "
                                 f"description) @@ to_tsquery('simple', '{a} & {b}') LIMIT 50")
            got = compare(f"full text ({kind})", f"POST /orders/query {body}", status, data,
                          want, False)
            if got is not None and got != int(n):
                problems.append(f"full text: '{a} {b}' returned {got} rows, the generator "
                                f"counted {n}")
            n_text.append(got)
        summary.append(f"full-text ({kind} words) rows {n_text}")
        body = {"$filter": {"description": {"$contains": " ".join(pairs[0][:2])}}, "$limit": 50}
        status, data = rest(rest_port, "POST", "/orders/explain", json.dumps(body))
        summary.append(f"explain full text ({kind} words) {json.dumps(body)}: {data.decode()}"
                       if status == 200 else f"explain full text ({kind}): HTTP {status} {data[:300]!r}")
    body = {"$filter": {"customer_id": 1}, "$order_by": {"created_at": "desc"}, "$limit": 50}
    status, data = rest(rest_port, "POST", "/orders/explain", json.dumps(body))
    summary.append(f"explain range {json.dumps(body)}: {data.decode()}" if status == 200
                   else f"explain range: HTTP {status} {data[:300]!r}")
    print("\n".join(summary))
    if problems:
        print("MISMATCH\n" + "\n".join(problems[:20]))
        return 1
    print("ok: Sluice and PostgreSQL returned the same rows for every checked request")
    return 0


# --- pgbench logs ----------------------------------------------------------------------------

def percentiles(*logs):
    lat = []
    for path in logs:
        with open(path) as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 3:
                    lat.append(int(fields[2]))
    if not lat:
        print("0 0 0")
        return 1
    lat.sort()

    def at(p):  # nearest rank
        return lat[max(0, min(len(lat) - 1, math.ceil(p / 100 * len(lat)) - 1))] / 1000
    print("%d %.3f %.3f" % (len(lat), at(50), at(99)))
    return 0


if __name__ == "__main__":
    sys.exit({"generate": generate, "check": check, "percentiles": percentiles}[sys.argv[1]](
        *sys.argv[2:]))
