// NexmarkGenerator: the deterministic Nexmark event stream (persons, auctions, bids in the
// standard 1:3:46 mix), our benchmark source. Every event is a pure function of (seed, event
// index), so any table's stream can start at any index — that is how a restarted source
// resumes exactly where its last committed batch ended.
// Thread-safety: const methods only; share freely.
#pragma once

#include <cstdint>

#include "types/schema.h"
#include "types/value.h"

namespace sluice {

class NexmarkGenerator {
 public:
  enum class Table { kPerson, kAuction, kBid };

  static constexpr uint64_t kEventsPerBlock = 50;  // 1 person, 3 auctions, 46 bids
  static constexpr int64_t kFirstPersonId = 1000;
  static constexpr int64_t kFirstAuctionId = 1000;
  // Event time: 2026-01-01T00:00:00Z plus 100 microseconds per event (10,000 events/s).
  static constexpr int64_t kBaseTimeMicros = 1767225600LL * 1'000'000;
  static constexpr int64_t kMicrosPerEvent = 100;

  explicit NexmarkGenerator(uint64_t seed) : seed_(seed) {}

  static Table TableOf(uint64_t event);
  // The first event index >= `event` that belongs to `table`.
  static uint64_t NextEventOf(Table table, uint64_t event);
  static Schema SchemaOf(Table table);

  // Fills `out` (resized to the table's field count) with the event's record.
  void Generate(uint64_t event, Record& out) const;

 private:
  void Person(uint64_t event, Record& out) const;
  void Auction(uint64_t event, Record& out) const;
  void Bid(uint64_t event, Record& out) const;

  uint64_t seed_;
};

}  // namespace sluice
