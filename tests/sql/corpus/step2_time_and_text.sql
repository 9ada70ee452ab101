-- Dates, times, intervals and the remaining string functions; t.ts is a timestamptz.

SELECT ts, ts + INTERVAL '10 seconds' AS later, ts - INTERVAL '1 day 02:00:00' AS earlier INTO out FROM t;
SELECT date_trunc('hour', ts) AS h, date_trunc('day', ts) AS d, date_trunc('month', ts) AS m INTO out FROM t;
SELECT date_trunc('minute', ts) AS mi, date_trunc('week', ts) AS w, date_trunc('year', ts) AS y INTO out FROM t;
SELECT extract(year FROM ts) AS y, extract(month FROM ts) AS m, extract(day FROM ts) AS d, extract(hour FROM ts) AS h INTO out FROM t;
SELECT extract(epoch FROM ts) AS e, extract(second FROM ts) AS s, extract(dow FROM ts) AS dow, extract(doy FROM ts) AS doy INTO out FROM t;
SELECT extract(week FROM ts) AS w, extract(quarter FROM ts) AS q, extract(isodow FROM ts) AS idow INTO out FROM t;
SELECT date_part('hour', ts) AS h, date_part('epoch', ts) AS e INTO out FROM t;
SELECT to_timestamp(v * 3600) AS t1, to_timestamp(f) AS t2 INTO out FROM t;
SELECT make_date(2026, (k + 1)::int, 1) AS d INTO out FROM t WHERE k IS NOT NULL;
SELECT ts - date_trunc('day', ts) AS since_midnight INTO out FROM t;
SELECT date_trunc('hour', ts) AS hour, count(*) AS n, max(ts) AS last INTO out FROM t GROUP BY date_trunc('hour', ts);
SELECT k, min(ts) AS first, max(ts) - min(ts) AS span INTO out FROM t GROUP BY k;
SELECT ts INTO out FROM t WHERE ts > '2026-01-01' AND ts < '2026-01-05 12:00:00+00';
SELECT split_part(s, 'a', 1) AS p1, split_part(s, 'b', 2) AS p2, split_part(s, 'a', -1) AS p3 INTO out FROM t;
SELECT lpad(s, 4) AS l4, lpad(s, 5, 'xy') AS l5, rpad(s, 3, '*') AS r3, lpad(s, 1) AS l1 INTO out FROM t;
SELECT j, j -> 'a' AS a, j ->> 'b' AS b, j -> 'c' AS c INTO out FROM t;
SELECT j -> 0 AS first, j ->> 1 AS second, j -> -1 AS last INTO out FROM t;
SELECT j -> 'c' -> 2 ->> 'd' AS d, j -> 'nested' ->> 'k' AS k2 INTO out FROM t;
SELECT json_extract_path_text(j::json, 'nested', 'n', '0') AS n0, jsonb_extract_path_text(j, 'b') AS b INTO out FROM t;
SELECT j ->> 'b' AS b, count(*) AS n INTO out FROM t GROUP BY j ->> 'b';
SELECT k, v INTO out FROM t WHERE (j ->> 'a')::numeric > 0;
-- Found by the random tester (tests/sql/fuzz/found/03, 04, 05): negative digits in round and
-- trunc, booleans in concat print as t/f (but as true/false after ||), floats print as PostgreSQL's float8 text.
SELECT n, round(n, -1) AS r1, round(n, -2) AS r2, trunc(n, -1) AS t1, round(v::numeric, -1) AS rv INTO out FROM t;
SELECT concat(s, b, v) AS c, s || b AS d, concat('x', NULL::boolean) AS e INTO out FROM t;
SELECT f::text AS ft, (f * '1e12'::float8)::text AS big, (f / '1e9'::float8)::text AS small INTO out FROM t;
