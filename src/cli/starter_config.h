// The config `sluice init` writes: runs as is, with no external server.
#pragma once

namespace sluice {

inline constexpr const char* kStarterConfig =
    R"(# Sluice starter config: the Nexmark generator served as REST endpoints.
# Run it with `sluice run -c sluice.yaml`, then try `curl localhost:8080/people?limit=3`.
app_name: starter
home_dir: ./.sluice
connections:
  - name: gen
    kind: generator
    dataset: nexmark
    events: 100000       # 0 = unbounded
    rate: 0              # events per second, 0 = as fast as possible
    seed: 1
sources:
  - {name: person, connection: gen}
  - {name: auction, connection: gen}
  - {name: bid, connection: gen}
endpoints:
  - {name: people, path: /people, table: person}
  - {name: auctions, path: /auctions, table: auction}
  - {name: bids, path: /bids, table: bid}
api:
  host: 127.0.0.1
  rest: {port: 8080}
)";

}  // namespace sluice
