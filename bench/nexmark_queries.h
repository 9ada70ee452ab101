// The Nexmark queries as Sluice runs them (window syntax adapted to TUMBLE/HOP).
#pragma once

#include <map>
#include <string>

namespace sluice::bench {

inline const std::map<std::string, std::string>& NexmarkQueries() {
  static const std::map<std::string, std::string> kQueries = {
      {"q0", "SELECT auction, bidder, price, date_time, extra INTO q0 FROM bid"},
      {"q1", "SELECT auction, bidder, 0.908 * price AS price, date_time, extra INTO q1 FROM bid"},
      {"q2", "SELECT auction, price INTO q2 FROM bid WHERE auction % 123 = 0"},
      {"q3",
       "SELECT p.name, p.city, p.state, a.id INTO q3 FROM auction a JOIN person p ON a.seller = "
       "p.id WHERE a.category = 10 AND (p.state = 'OR' OR p.state = 'ID' OR p.state = 'CA')"},
      {"q4",
       "SELECT q.category, avg(q.final) AS avg_final INTO q4 FROM (SELECT max(b.price) AS final, "
       "a.category FROM auction a JOIN bid b ON a.id = b.auction WHERE b.date_time BETWEEN "
       "a.date_time AND a.expires GROUP BY a.id, a.category) q GROUP BY q.category"},
      {"q5",
       "WITH counts AS (SELECT auction, window_start, count(*) AS num FROM HOP(bid, date_time, "
       "INTERVAL '2 seconds', INTERVAL '10 seconds') GROUP BY auction, window_start), maxes AS "
       "(SELECT window_start, max(num) AS maxn FROM counts GROUP BY window_start) SELECT "
       "c.auction, c.num, c.window_start INTO q5 FROM counts c JOIN maxes m ON c.window_start = "
       "m.window_start AND c.num >= m.maxn"},
      {"q7",
       "SELECT b.auction, b.price, b.bidder, b.date_time INTO q7 FROM bid b JOIN (SELECT "
       "max(price) AS maxprice, window_end FROM TUMBLE(bid, date_time, INTERVAL '10 seconds') "
       "GROUP BY window_end) m ON b.price = m.maxprice AND b.date_time >= m.window_end - "
       "INTERVAL '10 seconds' AND b.date_time < m.window_end"},
      {"q8",
       "SELECT p.id, p.name, p.window_start INTO q8 FROM (SELECT id, name, window_start FROM "
       "TUMBLE(person, date_time, INTERVAL '10 seconds') GROUP BY id, name, window_start) p JOIN "
       "(SELECT seller, window_start FROM TUMBLE(auction, date_time, INTERVAL '10 seconds') "
       "GROUP BY seller, window_start) a ON p.id = a.seller AND p.window_start = a.window_start"},
  };
  return kQueries;
}

}  // namespace sluice::bench
