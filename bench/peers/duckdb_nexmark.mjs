// Loads the dumped Nexmark CSVs into DuckDB and times each query once over the whole input
// (the batch peer of Sluice's streaming run). Prints "<query> <seconds> <rows>".
// Usage: node duckdb_nexmark.mjs DIR q0 q1 ...
import { DuckDBInstance } from "@duckdb/node-api";
import { duckdb as queries } from "./queries.mjs";

const [dir, ...wanted] = process.argv.slice(2);
const instance = await DuckDBInstance.create(":memory:", { threads: "2" });
const db = await instance.connect();
const tables = {
  person: "id BIGINT, name VARCHAR, email_address VARCHAR, credit_card VARCHAR, city VARCHAR, " +
          "state VARCHAR, date_time TIMESTAMP, extra VARCHAR",
  auction: "id BIGINT, item_name VARCHAR, description VARCHAR, initial_bid BIGINT, reserve " +
           "BIGINT, date_time TIMESTAMP, expires TIMESTAMP, seller BIGINT, category BIGINT, " +
           "extra VARCHAR",
  bid: "auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, date_time " +
       "TIMESTAMP, extra VARCHAR",
};
for (const [name, columns] of Object.entries(tables)) {
  await db.run(`CREATE TABLE ${name} (${columns})`);
  await db.run(`COPY ${name} FROM '${dir}/${name}.csv' (HEADER true)`);
}
for (const q of wanted) {
  const start = process.hrtime.bigint();
  const reader = await db.runAndReadAll(`SELECT count(*) AS n FROM (${queries[q]}) x`);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`${q} ${seconds.toFixed(3)} ${reader.getRows()[0][0]}`);
}
