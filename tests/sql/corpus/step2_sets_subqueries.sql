-- DISTINCT, set operations, subqueries in FROM and WITH.

SELECT DISTINCT k INTO out FROM t;
SELECT DISTINCT k, s INTO out FROM t WHERE v > -20;
SELECT DISTINCT s, count(*) AS n INTO out FROM t GROUP BY s, k;
SELECT k, s INTO out FROM t UNION ALL SELECT k, s FROM u;
SELECT k, s INTO out FROM t UNION SELECT k, s FROM u;
SELECT k INTO out FROM t INTERSECT SELECT k FROM u;
SELECT k, s INTO out FROM t INTERSECT ALL SELECT k, s FROM u;
SELECT k INTO out FROM t EXCEPT SELECT k FROM u;
SELECT s INTO out FROM t EXCEPT ALL SELECT s FROM u;
SELECT v INTO out FROM t UNION SELECT w FROM u UNION ALL SELECT k FROM t;
SELECT n INTO out FROM t UNION SELECT w FROM u;
SELECT x.k, x.total INTO out FROM (SELECT k, sum(v) AS total FROM t GROUP BY k) x WHERE x.total > 0;
SELECT c.k, n, u.w INTO out FROM (SELECT k, count(*) AS n FROM t GROUP BY k) AS c JOIN u ON c.k = u.k;
SELECT big.k, big.v INTO out FROM (SELECT k, v FROM t WHERE v > 10) big;
WITH totals AS (SELECT k, sum(v) AS total FROM t GROUP BY k) SELECT k, total INTO out FROM totals WHERE total < 0;
WITH a AS (SELECT k, v FROM t WHERE v > 0), b AS (SELECT k, count(*) AS n FROM a GROUP BY k) SELECT a.v, b.n INTO out FROM a JOIN b ON a.k = b.k;
SELECT count(*) AS groups INTO out FROM (SELECT DISTINCT k, s FROM t) d;
SELECT max(n) AS most INTO out FROM (SELECT s, count(*) AS n FROM t GROUP BY s) per_s;
SELECT k, v, s INTO out FROM t ORDER BY v DESC, k, s LIMIT 5;
SELECT v, s INTO out FROM t WHERE v IS NOT NULL ORDER BY v, s NULLS FIRST LIMIT 3 OFFSET 2;
SELECT k, count(*) AS n INTO out FROM t GROUP BY k ORDER BY n DESC, k LIMIT 2;
SELECT DISTINCT s INTO out FROM t ORDER BY s LIMIT 3;
SELECT f, n INTO out FROM t ORDER BY 1 NULLS FIRST, 2 DESC LIMIT 4;
SELECT x.k, x.total INTO out FROM (SELECT k, sum(v) AS total FROM t GROUP BY k ORDER BY total DESC, k LIMIT 3) x;
