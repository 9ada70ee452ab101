// Operations: the unit of change every stage consumes and produces, and the batches that
// carry them together with the source position they reach.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "types/value.h"

namespace sluice {

enum class OpKind : uint8_t { kInsert, kDelete, kUpdate };

struct Operation {
  OpKind kind = OpKind::kInsert;
  Record old_record;  // Delete, Update
  Record new_record;  // Insert, Update

  static Operation Insert(Record r) { return {OpKind::kInsert, {}, std::move(r)}; }
  static Operation Delete(Record r) { return {OpKind::kDelete, std::move(r), {}}; }
  static Operation Update(Record old_r, Record new_r) {
    return {OpKind::kUpdate, std::move(old_r), std::move(new_r)};
  }
};

// A group of operations that commit together. `position` is opaque to everyone but the
// connector that made it: the point to resume from once this batch is durable.
struct OperationBatch {
  std::vector<Operation> ops;
  std::string position;
};

}  // namespace sluice
