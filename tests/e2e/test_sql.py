"""SQL in the config end to end: statements over a source, endpoints on their INTO tables,
results checked against the raw source rows the same process serves, restart, and errors
that point into the config."""

import collections
import decimal

import harness

CONFIG = """
home_dir: ./home
connections:
  - {name: gen, kind: generator, events: 60000, seed: 4}
sources:
  - {name: bid, connection: gen}
sql: |
  SELECT auction, count(*) AS bids, max(price) AS top, sum(price) AS total
  INTO auction_stats FROM bid GROUP BY auction;
  SELECT auction, price INTO big_bids FROM bid WHERE price > 500000;
  SELECT count(*) AS n INTO bid_count FROM bid;
  SELECT s.auction, b.bidder, b.price INTO winning FROM auction_stats s
  JOIN bid b ON b.auction = s.auction AND b.price = s.top;
endpoints:
  - {name: bids, path: /bids, table: bid}
  - {name: stats, path: /stats, table: auction_stats}
  - {name: big, path: /big, table: big_bids}
  - {name: count, path: /count, table: bid_count}
  - {name: winning, path: /winning, table: winning}
api:
  host: 127.0.0.1
  rest: {port: 0}
"""

TOTAL_BIDS = 60000 * 46 // 50


class Sql(harness.SluiceTestCase):
    def check_results(self, s):
        bids = []
        for skip in range(0, TOTAL_BIDS, 10000):
            bids += s.get_json("/bids?limit=10000&skip=%d" % skip)
        self.assertEqual(len(bids), TOTAL_BIDS)
        expected = collections.defaultdict(lambda: [0, 0, 0])
        for b in bids:
            e = expected[b["auction"]]
            e[0] += 1
            e[1] = max(e[1], b["price"])
            e[2] += b["price"]
        stats = s.get_json("/stats?limit=10000")
        self.assertEqual(len(stats), len(expected))
        for row in stats:
            self.assertEqual([row["bids"], row["top"], decimal.Decimal(row["total"])],
                             expected[row["auction"]], row)
        # GROUP BY keys are the endpoint's primary key.
        one = stats[0]
        self.assertEqual(s.get_json("/stats/%d" % one["auction"]), one)
        big = s.get_json("/big?limit=10000")
        self.assertEqual(sorted((b["auction"], b["price"]) for b in big),
                         sorted((b["auction"], b["price"]) for b in bids if b["price"] > 500000))
        self.assertEqual(s.get_json("/count"), [{"n": TOTAL_BIDS}])
        # A join of a statement's output with its own source: the bids that hold the maximum.
        winning = []
        for skip in range(0, TOTAL_BIDS, 10000):
            winning += s.get_json("/winning?limit=10000&skip=%d" % skip)
        self.assertEqual(sorted((w["auction"], w["bidder"], w["price"]) for w in winning),
                         sorted((b["auction"], b["bidder"], b["price"]) for b in bids
                                if b["price"] == expected[b["auction"]][1]))

    def test_results_match_the_source_rows_and_survive_a_restart(self):
        s = self.sluice(CONFIG).start()
        s.wait_for(lambda: s.get_json("/count") == [{"n": TOTAL_BIDS}], timeout=120,
                   what="full load")
        self.check_results(s)
        self.assertEqual(s.stop(), 0)
        s.start()
        s.wait_for(lambda: s.get_json("/count") == [{"n": TOTAL_BIDS}], timeout=120,
                   what="reload after restart")
        self.check_results(s)
        # The aggregates and the join were restored from their checkpoints, not rebuilt (the
        # restore is logged after the port is announced, so it is waited for).
        s.wait_for_log("restored the state of 3 sql operator(s)")
        self.assertNotIn("rebuilding the cache", s.logs())
        self.assertEqual(s.stop(), 0)

    def test_without_checkpoints_a_restart_rebuilds_from_the_sources(self):
        s = self.sluice(CONFIG + "sql_checkpoints: false\n").start()
        s.wait_for(lambda: s.get_json("/count") == [{"n": TOTAL_BIDS}], timeout=120,
                   what="full load")
        self.assertEqual(s.stop(), 0)
        s.start()
        s.wait_for(lambda: "rebuilding the cache" in s.logs(), what="the rebuild")
        # The old version serves until the rebuilt one has caught up: check the rebuilt one.
        s.wait_for_log("caught up and is now served", timeout=120)
        s.wait_for(lambda: s.get_json("/count") == [{"n": TOTAL_BIDS}], timeout=120,
                   what="the rebuilt cache")
        self.check_results(s)
        self.assertNotIn("restored the state", s.logs())
        self.assertEqual(s.stop(), 0)

    def test_a_failing_statement_stops_the_pipeline_but_not_the_api(self):
        text = CONFIG.replace("  SELECT count(*) AS n INTO bid_count FROM bid;",
                              "  SELECT count(*) AS n INTO bid_count FROM bid;\n"
                              "  SELECT 1 / (price - price) AS boom INTO bad FROM bid;")
        s = self.sluice(text).start()
        s.wait_for(lambda: "division by zero" in s.logs(), what="the statement's error")
        self.assertIn("(INTO bad) failed", s.logs())
        self.assertEqual(s.get_json("/health"), {"status": "ok"})
        self.assertEqual(s.stop(), 1)

    def test_check_prints_the_plan(self):
        self.write("sluice.yaml", CONFIG)
        r = self.run_cli("check", "-c", "sluice.yaml")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("statement INTO auction_stats", r.stdout)
        self.assertIn("-> aggregate (incremental) by [auction]", r.stdout)
        self.assertIn("-> filter (price > 500000)", r.stdout)
        self.assertIn("threads: one per operator: [join] [filter and project]", r.stdout)

    def test_sql_errors_point_into_the_config(self):
        cases = {
            "SELECT nope INTO t FROM bid;": "sluice.yaml: sql: column \"nope\" does not exist in bid",
            "SELECT auction\n  INTO t FROM bid WHERE price >;": "syntax error at or near \";\" at 9:34",
            "SELECT lag(price) OVER () INTO t FROM bid;": "window function lag() is not supported at 8:10",
            "SELECT auction, price INTO t FROM bid GROUP BY auction;":
                "column \"price\" must appear in the GROUP BY clause",
        }
        for sql, expected in cases.items():
            text = CONFIG.split("sql: |")[0] + "sql: |\n  " + sql.replace("\n", "\n  ") + \
                "\nendpoints:\n  - {name: t, path: /t, table: t}\n"
            self.write("sluice.yaml", text)
            r = self.run_cli("check", "-c", "sluice.yaml")
            self.assertEqual(r.returncode, 2, (sql, r.stderr))
            self.assertIn(expected, r.stderr, sql)


if __name__ == "__main__":
    harness.main()
