-- TUMBLE and HOP: PostgreSQL has no window table functions, so each statement comes with its
-- PostgreSQL equivalent (date_bin for window starts, generate_series for hopping windows).

-- postgres: SELECT date_bin('1 hour', ts, '1970-01-01') AS window_start, date_bin('1 hour', ts, '1970-01-01') + interval '1 hour' AS window_end, count(*) AS n, sum(v) AS sv INTO out FROM t WHERE ts IS NOT NULL GROUP BY 1, 2;
SELECT window_start, window_end, count(*) AS n, sum(v) AS sv INTO out FROM TUMBLE(t, ts, INTERVAL '1 hour') GROUP BY window_start, window_end;
-- postgres: SELECT k, date_bin('6 hours', ts, '1970-01-01') AS window_start, max(v) AS top INTO out FROM t WHERE ts IS NOT NULL GROUP BY 1, 2;
SELECT k, window_start, max(v) AS top INTO out FROM TUMBLE(t, ts, INTERVAL '6 hours') GROUP BY k, window_start;
-- postgres: SELECT v, date_bin('1 day', ts, '1970-01-01') AS window_start INTO out FROM t WHERE ts IS NOT NULL AND v > 0;
SELECT w.v, w.window_start INTO out FROM TUMBLE(t, ts, INTERVAL '1 day') w WHERE w.v > 0;
-- postgres: SELECT ws AS window_start, ws + interval '4 hours' AS window_end, count(*) AS n INTO out FROM t, generate_series(date_bin('1 hour', ts, '1970-01-01') - interval '3 hours', date_bin('1 hour', ts, '1970-01-01'), interval '1 hour') AS ws GROUP BY 1, 2;
SELECT window_start, window_end, count(*) AS n INTO out FROM HOP(t, ts, INTERVAL '1 hour', INTERVAL '4 hours') GROUP BY window_start, window_end;
-- postgres: SELECT ws AS window_start, k, avg(v) AS av INTO out FROM t, generate_series(date_bin('2 hours', ts, '1970-01-01') - interval '4 hours', date_bin('2 hours', ts, '1970-01-01'), interval '2 hours') AS ws GROUP BY 1, 2;
SELECT window_start, k, avg(v) AS av INTO out FROM HOP(t, ts, INTERVAL '2 hours', INTERVAL '6 hours') GROUP BY window_start, k;
-- Counts per HOP window run as pane aggregates (dataflow/pane_aggregate.h): same answers.
-- postgres: SELECT ws AS window_start, k, count(*) AS n, count(v) AS nv INTO out FROM t, generate_series(date_bin('1 hour', ts, '1970-01-01') - interval '2 hours', date_bin('1 hour', ts, '1970-01-01'), interval '1 hour') AS ws GROUP BY 1, 2;
SELECT window_start, k, count(*) AS n, count(v) AS nv INTO out FROM HOP(t, ts, INTERVAL '1 hour', INTERVAL '3 hours') GROUP BY window_start, k;
-- postgres: SELECT k, ws + interval '6 hours' AS window_end, count(*) AS n INTO out FROM t, generate_series(date_bin('2 hours', ts, '1970-01-01') - interval '4 hours', date_bin('2 hours', ts, '1970-01-01'), interval '2 hours') AS ws GROUP BY 1, 2 HAVING count(*) > 1;
SELECT k, window_end, count(*) AS n INTO out FROM HOP(t, ts, INTERVAL '2 hours', INTERVAL '6 hours') GROUP BY k, window_end HAVING count(*) > 1;
SELECT k, v, n, rn INTO out FROM (SELECT k, v, n, row_number() OVER (PARTITION BY k ORDER BY n DESC, v, s, f, b, ts) AS rn FROM t) s WHERE rn <= 2;
-- HOP whose size is not a multiple of its slide (5-hour windows every 2 hours), and one with gaps.
-- postgres: SELECT k, ws AS window_start, count(*) AS n, max(v) AS top INTO out FROM t, generate_series(date_bin('2 hours', ts, '1970-01-01') - interval '4 hours', date_bin('2 hours', ts, '1970-01-01'), interval '2 hours') AS ws WHERE ws + interval '5 hours' > ts GROUP BY 1, 2;
SELECT k, window_start, count(*) AS n, max(v) AS top INTO out FROM HOP(t, ts, INTERVAL '2 hours', INTERVAL '5 hours') GROUP BY k, window_start;
-- postgres: SELECT s, ws + interval '2 hours' AS window_end, count(*) AS n INTO out FROM t, date_bin('3 hours', ts, '1970-01-01') AS ws WHERE ws + interval '2 hours' > ts GROUP BY 1, 2;
SELECT s, window_end, count(*) AS n INTO out FROM HOP(t, ts, INTERVAL '3 hours', INTERVAL '2 hours') GROUP BY s, window_end;
