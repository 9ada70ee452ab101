#include "dataflow/keyed_rows.h"

namespace sluice {

KeyedRows::KeyedRows() : by_row_(0, SlabHash{&slab_}, SlabEq{&slab_}) {}

const KeyedRows::Ids* KeyedRows::Find(const std::string& key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : &it->second;
}

void KeyedRows::Add(const std::string& key, Record row, int64_t weight, int64_t matches) {
  const size_t hash = HashRecord(row);
  auto found = by_row_.find(Probe{&row, hash});
  if (found != by_row_.end()) {
    const uint32_t id = *found;
    Entry& e = slab_[id];
    e.copies += weight;
    e.matches = matches;
    if (e.copies <= 0) {
      by_row_.erase(found);
      Remove(key, id);
    }
    return;
  }
  if (weight <= 0) return;  // removing a row that is not there: nothing to forget
  uint32_t id;
  if (free_.empty()) {
    id = uint32_t(slab_.size());
    slab_.emplace_back();
  } else {
    id = free_.back();
    free_.pop_back();
  }
  Ids& ids = by_key_[key];
  Entry& e = slab_[id];
  e.row = std::move(row);
  e.hash = hash;
  e.copies = weight;
  e.matches = matches;
  e.key_slot = uint32_t(ids.size());
  ids.push_back(id);
  by_row_.insert(id);
}

void KeyedRows::Remove(const std::string& key, uint32_t id) {
  auto it = by_key_.find(key);
  Ids& ids = it->second;
  const uint32_t slot = slab_[id].key_slot;
  ids[slot] = ids.back();
  slab_[ids[slot]].key_slot = slot;
  ids.pop_back();
  if (ids.empty()) by_key_.erase(it);
  slab_[id] = Entry{};
  free_.push_back(id);
}

}  // namespace sluice
