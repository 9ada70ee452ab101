-- Differential corpus: every statement runs in Sluice (incrementally, under random inserts,
-- updates and deletes of table t) and in PostgreSQL 15 over the same final rows; the results
-- must be equal as multisets. Table t(k bigint, v bigint, f double precision, s text,
-- n numeric, b boolean); values include NULLs, duplicates and skewed keys.
-- Statements are separated by semicolons; each writes INTO out.

SELECT * INTO out FROM t;
SELECT k, v INTO out FROM t WHERE v > 0;
SELECT k, v INTO out FROM t WHERE v > 0 AND k <> 1;
SELECT k, v INTO out FROM t WHERE v < -10 OR s = 'a';
SELECT k INTO out FROM t WHERE NOT (v > 0);
SELECT v + 1 AS a, v - k AS b, v * 3 AS c INTO out FROM t;
SELECT v / 7 AS q, v % 7 AS r INTO out FROM t;
SELECT -v AS neg, +v AS pos INTO out FROM t;
SELECT v / 4.0 AS d, n * 2 AS n2, n + v AS nv, n - 0.5 AS nm INTO out FROM t;
SELECT f * 2 AS f2, f + v AS fv, f - n AS fn INTO out FROM t;
SELECT n / 3 AS third INTO out FROM t WHERE n IS NOT NULL;
SELECT v, v BETWEEN -10 AND 10 AS mid INTO out FROM t;
SELECT v INTO out FROM t WHERE v NOT BETWEEN -10 AND 10;
SELECT v INTO out FROM t WHERE v IN (1, 2, 3, -4) OR k IN (3);
SELECT v INTO out FROM t WHERE v NOT IN (1, 2, 3);
SELECT s INTO out FROM t WHERE s LIKE 'a%';
SELECT s INTO out FROM t WHERE s NOT LIKE '%b' AND s LIKE '_%';
SELECT s INTO out FROM t WHERE s ILIKE 'b%';
SELECT s, s IS NULL AS missing, v IS NOT NULL AS present INTO out FROM t;
SELECT k, v, k IS DISTINCT FROM v AS d1, k IS NOT DISTINCT FROM 2 AS d2 INTO out FROM t;
SELECT v, CASE WHEN v > 10 THEN 'big' WHEN v > 0 THEN 'small' ELSE 'other' END AS size INTO out FROM t;
SELECT k, CASE k WHEN 0 THEN 'zero' WHEN 1 THEN 'one' END AS name INTO out FROM t;
SELECT COALESCE(s, 'none') AS s1, COALESCE(v, k, -1) AS v1 INTO out FROM t;
SELECT NULLIF(k, 0) AS nk, NULLIF(s, 'a') AS ns INTO out FROM t;
SELECT GREATEST(k, v, 0) AS g, LEAST(k, v) AS l INTO out FROM t;
SELECT CAST(v AS text) AS vt, v::numeric AS vn, f::bigint AS fi, n::bigint AS ni INTO out FROM t;
-- Type modifiers round, truncate or pad as PostgreSQL does (tests/sql/fuzz/found/11); floats
-- become numeric with 15 significant digits (found/13); a sign may stand apart (found/12).
SELECT CAST(n AS numeric(30,2)) AS n2, (v * 0.125)::numeric(20,1) AS v1, n::numeric(30,-1) AS nr, s::varchar(2) AS s2 INTO out FROM t;
SELECT CAST(f / 3 AS numeric) AS fn, (f * 1e10)::numeric(38,4) AS fb, ts::timestamp(0) AS t0, ts::timestamptz(2) AS t2 INTO out FROM t WHERE f IS NULL OR abs(f) < 1e20;
SELECT v - - 100 AS a, (- 7) * k AS b INTO out FROM t WHERE v > - 5;
SELECT s || '-' || k AS joined, concat(s, k, v) AS c INTO out FROM t;
SELECT lower(s) AS lo, upper(s) AS up, length(s) AS len INTO out FROM t;
SELECT substr(s, 2) AS s2, substr(s, 1, 1) AS s1, left(s, 1) AS l1, right(s, 1) AS r1 INTO out FROM t;
SELECT replace(s, 'a', 'A') AS r, trim(s) AS t1, ltrim(s, 'a') AS t2, rtrim(s, 'b') AS t3 INTO out FROM t;
SELECT strpos(s, 'b') AS p, starts_with(s, 'a') AS st INTO out FROM t;
SELECT abs(v) AS a, round(n) AS r0, round(n, 1) AS r1, floor(n) AS fl, ceil(n) AS ce INTO out FROM t;
SELECT round(f) AS rf, floor(f) AS ff, ceil(f) AS cf, abs(f) AS af INTO out FROM t;
SELECT mod(v, 5) AS m, sign(v) AS sg, sign(f) AS sf INTO out FROM t;
SELECT sqrt(abs(f)) AS sq, power(k, 2) AS p2 INTO out FROM t;
SELECT b, NOT b AS nb, b AND v > 0 AS both_, b OR v > 0 AS either INTO out FROM t;
SELECT b IS TRUE AS t1, b IS NOT TRUE AS t2, b IS FALSE AS t3, b IS UNKNOWN AS t4 INTO out FROM t;
SELECT count(*) AS n INTO out FROM t;
SELECT count(*) AS n, count(v) AS nv, sum(v) AS sv, avg(v) AS av, min(v) AS mi, max(v) AS ma INTO out FROM t;
SELECT sum(n) AS sn, avg(n) AS an, min(n) AS mn, max(n) AS xn INTO out FROM t;
SELECT sum(f) AS sf, avg(f) AS af, min(f) AS mf, max(f) AS xf INTO out FROM t;
SELECT min(s) AS mins, max(s) AS maxs, bool_and(b) AS ba, bool_or(b) AS bo INTO out FROM t;
SELECT k, count(*) AS n INTO out FROM t GROUP BY k;
SELECT k, count(*) AS n, sum(v) AS sv, avg(v) AS av, min(v) AS mi, max(v) AS ma INTO out FROM t GROUP BY k;
SELECT s, k, count(*) AS n INTO out FROM t GROUP BY s, k;
SELECT k, count(*) AS n INTO out FROM t WHERE v > 0 GROUP BY k;
SELECT k, count(*) AS n INTO out FROM t GROUP BY k HAVING count(*) > 3;
SELECT k, sum(v) AS sv INTO out FROM t GROUP BY k HAVING sum(v) > 0 OR max(v) < -40;
SELECT v % 3 AS bucket, count(*) AS n INTO out FROM t GROUP BY v % 3;
SELECT k, count(*) FILTER (WHERE v > 0) AS pos, count(*) FILTER (WHERE v <= 0) AS neg INTO out FROM t GROUP BY k;
SELECT k, max(v) - min(v) AS spread INTO out FROM t GROUP BY k;
SELECT b, avg(f) AS af, sum(n) AS sn INTO out FROM t GROUP BY b;
SELECT k, v, count(*) AS n INTO out FROM t GROUP BY 1, 2;
SELECT upper(s) AS us, count(*) AS n INTO out FROM t GROUP BY upper(s);
SELECT k + 1 AS k1, count(*) * 2 AS twice INTO out FROM t GROUP BY k + 1;
SELECT k, min(s) AS first, max(s) AS last, bool_and(v > 0) AS all_pos INTO out FROM t GROUP BY k;
SELECT count(*) AS n, sum(v) AS sv INTO out FROM t WHERE k = 99;
SELECT k, count(DISTINCT s) AS kinds, count(DISTINCT v) AS values_ INTO out FROM t GROUP BY k;
SELECT count(DISTINCT k) AS keys INTO out FROM t;
SELECT k, string_agg(s, ',' ORDER BY s) AS all_s INTO out FROM t GROUP BY k;
SELECT string_agg(s, ' | ' ORDER BY s DESC) AS joined INTO out FROM t WHERE v > 0;
-- Aggregates of grouped columns read the input row, and same-named columns of two tables stay
-- apart as group keys (found by the random tester: tests/sql/fuzz/found/01, 02, 08).
SELECT v, min(v) AS lo, max(ts) AS latest, count(f) AS nf INTO out FROM t GROUP BY v, ts, f;
SELECT max(s) FILTER (WHERE true) AS m, bool_or(b) AS any_b INTO out FROM t GROUP BY s, b;
SELECT a.k, b.k AS bk, count(*) AS n, sum(a.v) AS total INTO out FROM t a JOIN u b ON a.v = b.w GROUP BY a.k, b.k;
SELECT b.s AS bs, count(*) AS n INTO out FROM t a JOIN u b ON a.k = b.k GROUP BY a.s, b.s;
