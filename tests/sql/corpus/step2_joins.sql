-- Joins: t(k, v, f, s, n, b) and u(k, w, s); both change at random, keys repeat, some are NULL.

SELECT t.k, t.v, u.w INTO out FROM t JOIN u ON t.k = u.k;
SELECT t.v, u.w INTO out FROM t INNER JOIN u ON t.k = u.k AND u.w > t.v;
SELECT t.v, u.w INTO out FROM t JOIN u ON t.k = u.k AND t.s = u.s;
SELECT t.k, t.v, u.w INTO out FROM t LEFT JOIN u ON t.k = u.k;
SELECT t.k, t.v, u.w INTO out FROM t LEFT JOIN u ON t.k = u.k AND u.w > 0;
SELECT t.v, u.k, u.w INTO out FROM t RIGHT JOIN u ON t.k = u.k;
SELECT t.v, u.k AS uk, u.w INTO out FROM t FULL JOIN u ON t.k = u.k;
SELECT t.v, u.w INTO out FROM t FULL OUTER JOIN u ON t.k = u.k AND t.v < u.w;
SELECT t.v, u.w INTO out FROM t, u WHERE t.k = u.k;
SELECT t.v, u.w INTO out FROM t, u WHERE t.k = u.k AND t.v > u.w;
SELECT t.v, u.w INTO out FROM t CROSS JOIN u WHERE t.k = u.k AND u.s = 'a';
SELECT a.v AS av, b.v AS bv INTO out FROM t a JOIN t b ON a.k = b.k AND a.v < b.v;
SELECT a.v AS av, b.w AS bw, c.w AS cw INTO out FROM t a JOIN u b ON a.k = b.k JOIN u c ON b.w = c.w;
SELECT t.v, u.w, u2.s AS s2 INTO out FROM t LEFT JOIN u ON t.k = u.k LEFT JOIN u u2 ON u.w = u2.w;
SELECT u.k, count(*) AS n, sum(t.v) AS sv INTO out FROM t JOIN u ON t.k = u.k GROUP BY u.k;
SELECT t.k, count(u.w) AS matches, max(u.w) AS top INTO out FROM t LEFT JOIN u ON t.k = u.k GROUP BY t.k;
SELECT t.*, u.w INTO out FROM t JOIN u ON t.k = u.k WHERE t.b;
SELECT t.s AS ts, u.s AS us INTO out FROM t JOIN u ON t.v = u.w;
SELECT count(*) AS n INTO out FROM t JOIN u ON t.k = u.k AND t.s IS NOT DISTINCT FROM u.s;
