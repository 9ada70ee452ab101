#include "control/log_entry.h"

#include "types/varint.h"

namespace sluice {
namespace {

constexpr uint8_t kFormat = 1;

void AppendBytes(std::string_view bytes, std::string* out) {
  AppendVarint(bytes.size(), out);
  out->append(bytes);
}

void AppendTable(const TableChanges& table, std::string* out) {
  AppendVarint(table.table(), out);
  AppendVarint(table.size(), out);
  for (const TableChanges::Change& c : table.changes()) {
    out->push_back(char(c.kind));
    const bool keyed =
        c.kind == TableChanges::Kind::kUpsert || c.kind == TableChanges::Kind::kRemove;
    if (keyed) AppendBytes(table.key(c), out);
    if (c.kind != TableChanges::Kind::kRemove) AppendBytes(table.row(c), out);
  }
}

void AppendTables(const CommitBatch& batch, bool served, uint32_t served_tables, std::string* out) {
  uint64_t count = 0;
  for (const TableChanges& t : batch.tables) count += (t.table() < served_tables) == served;
  AppendVarint(count, out);
  for (const TableChanges& t : batch.tables) {
    if ((t.table() < served_tables) == served) AppendTable(t, out);
  }
}

void AppendPairs(const std::vector<std::pair<std::string, std::string>>& pairs, std::string* out) {
  AppendVarint(pairs.size(), out);
  for (const auto& [key, value] : pairs) {
    AppendBytes(key, out);
    AppendBytes(value, out);
  }
}

// Reads an entry; every read is checked, a short or malformed entry is DataLoss.
class EntryReader {
 public:
  explicit EntryReader(std::string_view data) : in_(data) {}

  Result<uint64_t> Number() {
    auto v = in_.Varint();
    if (!v) return Malformed();
    return *v;
  }
  Result<std::string_view> Bytes() {
    ASSIGN_OR_RETURN(uint64_t size, Number());
    auto b = in_.Bytes(size);
    if (!b) return Malformed();
    return *b;
  }
  Result<uint8_t> Byte() {
    auto b = in_.Bytes(1);
    if (!b) return Malformed();
    return uint8_t((*b)[0]);
  }
  Status Tables(CommitBatch& batch) {
    ASSIGN_OR_RETURN(uint64_t count, Number());
    for (uint64_t i = 0; i < count; ++i) {
      ASSIGN_OR_RETURN(uint64_t id, Number());
      ASSIGN_OR_RETURN(uint64_t changes, Number());
      TableChanges& table = batch.tables.emplace_back(uint32_t(id));
      for (uint64_t c = 0; c < changes; ++c) {
        ASSIGN_OR_RETURN(uint8_t kind, Byte());
        switch (TableChanges::Kind(kind)) {
          case TableChanges::Kind::kUpsert: {
            ASSIGN_OR_RETURN(std::string_view key, Bytes());
            ASSIGN_OR_RETURN(std::string_view row, Bytes());
            table.Upsert(key, row);
            break;
          }
          case TableChanges::Kind::kRemove: {
            ASSIGN_OR_RETURN(std::string_view key, Bytes());
            table.Remove(key);
            break;
          }
          case TableChanges::Kind::kAddCopy: {
            ASSIGN_OR_RETURN(std::string_view row, Bytes());
            table.AddCopy(row);
            break;
          }
          case TableChanges::Kind::kRemoveCopy: {
            ASSIGN_OR_RETURN(std::string_view row, Bytes());
            table.RemoveCopy(row);
            break;
          }
          default:
            return DataLoss("change log entry: unknown change kind " + std::to_string(kind));
        }
      }
    }
    return Status::OK();
  }
  Status Pairs(std::vector<std::pair<std::string, std::string>>& out) {
    ASSIGN_OR_RETURN(uint64_t count, Number());
    for (uint64_t i = 0; i < count; ++i) {
      ASSIGN_OR_RETURN(std::string_view key, Bytes());
      ASSIGN_OR_RETURN(std::string_view value, Bytes());
      out.emplace_back(key, value);
    }
    return Status::OK();
  }
  bool done() const { return in_.done(); }

 private:
  static Status Malformed() { return DataLoss("change log entry is truncated or malformed"); }
  VarintReader in_;
};

// Reads the header: returns the epoch; `served` receives the served part and `end` where the
// rest begins.
Result<uint64_t> ReadHeader(std::string_view entry, std::string_view* served, size_t* end) {
  if (entry.empty() || uint8_t(entry[0]) != kFormat) {
    return DataLoss("change log entry has an unknown format" +
                    (entry.empty() ? std::string() : " " + std::to_string(uint8_t(entry[0]))));
  }
  VarintReader in(entry.substr(1));
  auto epoch = in.Varint();
  auto size = in.Varint();
  const size_t header = 1 + in.position();
  if (!epoch || !size || *size > entry.size() - header) {
    return DataLoss("change log entry is truncated or malformed");
  }
  *served = entry.substr(header, *size);
  *end = header + *size;
  return *epoch;
}

}  // namespace

std::string EncodeLogEntry(const CommitBatch& batch, uint32_t served_tables) {
  std::string served;
  AppendTables(batch, true, served_tables, &served);
  std::string out;
  out.push_back(char(kFormat));
  AppendVarint(batch.epoch, &out);
  AppendVarint(served.size(), &out);
  out += served;
  AppendTables(batch, false, served_tables, &out);
  AppendPairs(batch.positions, &out);
  AppendVarint(batch.state.size(), &out);
  for (const StageStateChanges& stage : batch.state) {
    AppendVarint(stage.statement, &out);
    AppendVarint(stage.stage, &out);
    AppendVarint(stage.rows.size(), &out);
    for (const StateRowChange& r : stage.rows) {
      out.push_back(char(r.side));
      AppendVarint(ZigZag(r.weight), &out);
      AppendBytes(r.row, &out);
    }
  }
  AppendPairs(batch.meta, &out);
  return out;
}

Result<std::string_view> ServedPrefix(std::string_view entry) {
  std::string_view served;
  size_t end = 0;
  ASSIGN_OR_RETURN(uint64_t epoch, ReadHeader(entry, &served, &end));
  (void)epoch;
  return entry.substr(0, end);
}

Result<CommitBatch> DecodeLogEntry(std::string_view entry) {
  std::string_view served;
  size_t end = 0;
  CommitBatch batch;
  ASSIGN_OR_RETURN(batch.epoch, ReadHeader(entry, &served, &end));
  EntryReader served_reader(served);
  RETURN_IF_ERROR(served_reader.Tables(batch));
  if (!served_reader.done()) return DataLoss("change log entry: extra bytes after its tables");
  if (end == entry.size()) return batch;  // a served prefix
  EntryReader rest(entry.substr(end));
  RETURN_IF_ERROR(rest.Tables(batch));
  RETURN_IF_ERROR(rest.Pairs(batch.positions));
  ASSIGN_OR_RETURN(uint64_t stages, rest.Number());
  for (uint64_t i = 0; i < stages; ++i) {
    StageStateChanges& stage = batch.state.emplace_back();
    ASSIGN_OR_RETURN(uint64_t statement, rest.Number());
    ASSIGN_OR_RETURN(uint64_t index, rest.Number());
    ASSIGN_OR_RETURN(uint64_t rows, rest.Number());
    stage.statement = uint32_t(statement);
    stage.stage = uint32_t(index);
    for (uint64_t r = 0; r < rows; ++r) {
      StateRowChange& row = stage.rows.emplace_back();
      ASSIGN_OR_RETURN(row.side, rest.Byte());
      ASSIGN_OR_RETURN(uint64_t weight, rest.Number());
      row.weight = UnZigZag(weight);
      ASSIGN_OR_RETURN(std::string_view bytes, rest.Bytes());
      row.row = std::string(bytes);
    }
  }
  RETURN_IF_ERROR(rest.Pairs(batch.meta));
  if (!rest.done()) return DataLoss("change log entry: extra bytes at its end");
  return batch;
}

}  // namespace sluice
