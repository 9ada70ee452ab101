// Nexmark queries for the batch peers, in their dialects (windows written with date_bin in
// PostgreSQL and time_bucket in DuckDB, both aligned to 1970-01-01 like Sluice's TUMBLE/HOP).
const common = {
  q0: "SELECT auction, bidder, price, date_time, extra FROM bid",
  q1: "SELECT auction, bidder, 0.908 * price AS price, date_time, extra FROM bid",
  q2: "SELECT auction, price FROM bid WHERE auction % 123 = 0",
  q3: "SELECT p.name, p.city, p.state, a.id FROM auction a JOIN person p ON a.seller = p.id " +
      "WHERE a.category = 10 AND (p.state = 'OR' OR p.state = 'ID' OR p.state = 'CA')",
  q4: "SELECT q.category, avg(q.final) AS avg_final FROM (SELECT max(b.price) AS final, " +
      "a.category FROM auction a JOIN bid b ON a.id = b.auction WHERE b.date_time BETWEEN " +
      "a.date_time AND a.expires GROUP BY a.id, a.category) q GROUP BY q.category",
};

function windowed(bucket, hop) {
  return {
    q5: `WITH counts AS (SELECT auction, ws AS window_start, count(*) AS num FROM bid, ${hop} ` +
        `GROUP BY auction, ws), maxes AS (SELECT window_start, max(num) AS maxn FROM counts ` +
        `GROUP BY window_start) SELECT c.auction, c.num, c.window_start FROM counts c JOIN maxes ` +
        `m ON c.window_start = m.window_start AND c.num >= m.maxn`,
    q7: `SELECT b.auction, b.price, b.bidder, b.date_time FROM bid b JOIN (SELECT max(price) AS ` +
        `maxprice, ${bucket('10 seconds', 'date_time')} + INTERVAL '10 seconds' AS window_end ` +
        `FROM bid GROUP BY 2) m ON b.price = m.maxprice AND b.date_time >= m.window_end - ` +
        `INTERVAL '10 seconds' AND b.date_time < m.window_end`,
    q8: `SELECT p.id, p.name, p.window_start FROM (SELECT id, name, ` +
        `${bucket('10 seconds', 'date_time')} AS window_start FROM person GROUP BY 1, 2, 3) p ` +
        `JOIN (SELECT seller, ${bucket('10 seconds', 'date_time')} AS window_start FROM auction ` +
        `GROUP BY 1, 2) a ON p.id = a.seller AND p.window_start = a.window_start`,
  };
}

export const postgres = {
  ...common,
  ...windowed((size, col) => `date_bin('${size}', ${col}, TIMESTAMP '1970-01-01')`,
              "generate_series(date_bin('2 seconds', date_time, TIMESTAMP '1970-01-01') - " +
              "INTERVAL '8 seconds', date_bin('2 seconds', date_time, TIMESTAMP '1970-01-01'), " +
              "INTERVAL '2 seconds') AS ws"),
};

export const duckdb = {
  ...common,
  ...windowed((size, col) => `time_bucket(INTERVAL '${size}', ${col}, TIMESTAMP '1970-01-01')`,
              "generate_series(time_bucket(INTERVAL '2 seconds', date_time, TIMESTAMP " +
              "'1970-01-01') - INTERVAL '8 seconds', time_bucket(INTERVAL '2 seconds', " +
              "date_time, TIMESTAMP '1970-01-01'), INTERVAL '2 seconds') AS t(ws)"),
};
