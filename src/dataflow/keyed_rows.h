// KeyedRows: the rows one input of a join has seen, grouped by join key — each distinct row
// stored once with its copy count and the join's per-row counter (how many rows of the other
// input it matches). Rows live in a slab addressed by id; one hash table finds a key's rows,
// another finds a given row, so a key with thousands of rows (a hot auction) still costs one
// probe per change. Owned by one thread; no locking.
#pragma once

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>
#include <absl/container/inlined_vector.h>

#include <cstdint>
#include <string>
#include <vector>

#include "types/value.h"

namespace sluice {

class KeyedRows {
 public:
  struct Entry {
    Record row;
    size_t hash = 0;  // HashRecord(row)
    int64_t copies = 0;
    int64_t matches = 0;
    uint32_t key_slot = 0;  // position in its key's id list
  };
  using Ids = absl::InlinedVector<uint32_t, 2>;

  KeyedRows();
  KeyedRows(const KeyedRows&) = delete;
  KeyedRows& operator=(const KeyedRows&) = delete;

  // Ids of the rows stored under `key`, or null.
  const Ids* Find(const std::string& key) const;
  Entry& entry(uint32_t id) { return slab_[id]; }

  // Adds `weight` copies (negative: removes) of `row` under `key` and sets its match counter.
  // A row whose copies drop to zero or below is forgotten.
  void Add(const std::string& key, Record row, int64_t weight, int64_t matches);

  size_t size() const { return by_row_.size(); }

 private:
  // Looks a row up in by_row_ without building an Entry.
  struct Probe {
    const Record* row;
    size_t hash;
  };
  struct SlabHash {
    using is_transparent = void;
    const std::vector<Entry>* slab;
    size_t operator()(uint32_t id) const { return (*slab)[id].hash; }
    size_t operator()(const Probe& p) const { return p.hash; }
  };
  struct SlabEq {
    using is_transparent = void;
    const std::vector<Entry>* slab;
    bool operator()(uint32_t a, uint32_t b) const { return a == b; }
    bool operator()(uint32_t id, const Probe& p) const {
      const Entry& e = (*slab)[id];
      return e.hash == p.hash && e.row == *p.row;
    }
    bool operator()(const Probe& p, uint32_t id) const { return (*this)(id, p); }
  };

  void Remove(const std::string& key, uint32_t id);

  std::vector<Entry> slab_;
  std::vector<uint32_t> free_;
  absl::flat_hash_map<std::string, Ids> by_key_;
  absl::flat_hash_set<uint32_t, SlabHash, SlabEq> by_row_;
};

}  // namespace sluice
