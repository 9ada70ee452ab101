#include "connectors/postgres/postgres_capture.h"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <unordered_map>

#include "connectors/postgres/captured_rows.h"
#include "connectors/postgres/copy_text.h"
#include "connectors/postgres/pg_connection.h"
#include "connectors/postgres/pgoutput.h"
#include "connectors/postgres/source_table.h"
#include "types/key_codec.h"
#include "types/row_codec.h"

namespace sluice {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kEmitRows = 8192;  // a batch is emitted at this many rows (whole transactions)
constexpr auto kStatusInterval = std::chrono::seconds(5);
constexpr auto kProgressInterval = std::chrono::seconds(1);

std::string CreatedMarkerPath(const Config& config, const ConnectionConfig& connection) {
  return config.home_dir + "/postgres_" + connection.name + ".created";
}

// Which relation a stream's Relation message describes, and where its columns go.
struct RelationMap {
  int table = -1;               // index into tables_, -1: not captured
  std::vector<int> rel_column;  // per captured column: its index in the relation's tuples
};

class PostgresCapture final : public CaptureReader {
 public:
  PostgresCapture(const Config& config, const ConnectionConfig& connection)
      : config_(config), connection_(connection) {}

  Status Open(const std::vector<const SourceConfig*>& sources);
  const std::vector<Schema>& schemas() const override { return schemas_; }
  std::string position_key() const override { return "postgres:" + connection_.name; }
  bool CanResume(const std::string& position, const std::vector<bool>& mirrored) const override;
  Status Run(CaptureContext& context) override;

 private:
  Status EnsurePublication();
  Status RecordCreated(const std::string& what);
  Status StartFresh(CaptureContext& context, PgConnection& repl, Lsn& start);
  Status Snapshot(CaptureContext& context, const std::string& snapshot_name);
  Status Stream(CaptureContext& context, PgConnection& repl, Lsn start);
  Status SendStatus(CaptureContext& context, PgConnection& repl, bool reply_requested);
  Status OnRelation(const RelationMessage& m);
  Result<Record> ToRecord(size_t table, const RelationMap& rel, const TupleData& tuple,
                          const Record* previous) const;
  Status OnChange(const PgOutputMessage& message);
  Result<std::string> TupleKey(size_t table, const RelationMap& rel, const TupleData& tuple) const;
  bool Flush(CaptureContext& context);

  const Config& config_;
  const ConnectionConfig& connection_;
  std::string slot_;
  std::string publication_;
  std::unique_ptr<PgConnection> sql_;
  std::vector<PgSourceTable> tables_;
  std::vector<Schema> schemas_;

  // The current rows of every captured table, by encoded key (keyless tables: by the whole
  // row, with a copy count). They restore the whole old row where PostgreSQL sends only the key,
  // unchanged TOASTed values, and the rows a TRUNCATE deletes.
  std::vector<CapturedRows> rows_;  // per table
  std::unordered_map<uint32_t, RelationMap> relations_;
  // The transaction being received, and committed ones not yet emitted.
  std::vector<std::vector<Operation>> txn_, pending_;
  size_t pending_rows_ = 0;
  bool skip_txn_ = false;
  Lsn resume_after_ = 0;  // transactions whose commit is before this are already applied
  Lsn pending_position_ = 0;
  Lsn emitted_position_ = 0;
  bool stopping_ = false;  // downstream refused a batch: the pipeline is shutting down
};

Status PostgresCapture::Open(const std::vector<const SourceConfig*>& sources) {
  const PostgresOptions& pg = connection_.postgres;
  const std::string fallback = DefaultPostgresObjectName(config_, connection_);
  slot_ = pg.slot.empty() ? fallback : pg.slot;
  publication_ = pg.publication.empty() ? fallback : pg.publication;
  ASSIGN_OR_RETURN(sql_, PgConnection::Open(connection_, false));
  ASSIGN_OR_RETURN(std::string wal_level, sql_->QueryValue("SHOW wal_level", "reading wal_level"));
  if (wal_level != "logical") {
    return FailedPrecondition(
        "connection '" + connection_.name + "' (" + sql_->where() + "): wal_level is '" +
        wal_level +
        "', but capturing changes needs logical decoding: run ALTER SYSTEM SET wal_level = "
        "logical; (or set wal_level = logical in postgresql.conf) and restart PostgreSQL");
  }
  // Fails now, with the privilege to grant, rather than after the snapshot.
  ASSIGN_OR_RETURN(auto probe, PgConnection::Open(connection_, true));
  probe.reset();

  ASSIGN_OR_RETURN(PgTypeCatalog types, LoadTypeCatalog(*sql_));
  for (const SourceConfig* source : sources) {
    ASSIGN_OR_RETURN(PgSourceTable t, LoadSourceTable(*sql_, types, *source));
    for (const std::string& w : t.warnings) spdlog::warn("source '{}': {}", source->name, w);
    schemas_.push_back(t.schema);
    tables_.push_back(std::move(t));
  }
  rows_.reserve(tables_.size());
  for (const auto& t : tables_) rows_.emplace_back(t.schema, t.config->table);
  txn_.resize(tables_.size());
  pending_.resize(tables_.size());
  RETURN_IF_ERROR(EnsurePublication());

  // Slots of this app nobody reads keep WAL on the server: say how much.
  auto idle = sql_->Exec(
      "SELECT slot_name, pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)) "
      "FROM pg_replication_slots WHERE NOT active AND slot_name LIKE $1 AND slot_name <> $2",
      "listing replication slots", {"sluice\\_%", slot_});
  if (idle.ok()) {
    for (int i = 0; i < PQntuples(idle->get()); ++i) {
      spdlog::warn(
          "connection '{}': replication slot '{}' is inactive and holds {} of WAL on the "
          "server; drop it (SELECT pg_drop_replication_slot('{}')) if no sluice uses it",
          connection_.name, PQgetvalue(idle->get(), i, 0), PQgetvalue(idle->get(), i, 1),
          PQgetvalue(idle->get(), i, 0));
    }
  }
  return Status::OK();
}

Status PostgresCapture::RecordCreated(const std::string& what) {
  std::error_code ec;
  std::filesystem::create_directories(config_.home_dir, ec);
  std::ofstream out(CreatedMarkerPath(config_, connection_), std::ios::app);
  out << what << "\n";
  if (!out) return IoError("cannot write " + CreatedMarkerPath(config_, connection_));
  return Status::OK();
}

Status PostgresCapture::EnsurePublication() {
  ASSIGN_OR_RETURN(PgResult exists, sql_->Exec("SELECT 1 FROM pg_publication WHERE pubname = $1",
                                               "looking up the publication", {publication_}));
  std::string tables;
  for (const auto& t : tables_) tables += (tables.empty() ? "" : ", ") + t.qualified;
  if (PQntuples(exists.get()) == 0) {
    RETURN_IF_ERROR(sql_->Exec("CREATE PUBLICATION " + sql_->QuoteIdentifier(publication_) +
                                   " FOR TABLE " + tables,
                               "creating publication " + publication_)
                        .status());
    spdlog::info("connection '{}': created publication {} for {}", connection_.name, publication_,
                 tables);
    return RecordCreated("publication " + publication_);
  }
  for (const auto& t : tables_) {
    ASSIGN_OR_RETURN(
        PgResult in,
        sql_->Exec("SELECT 1 FROM pg_publication_tables WHERE pubname = $1 AND schemaname = $2 "
                   "AND tablename = $3",
                   "reading publication " + publication_,
                   {publication_, t.namespace_name, t.name}));
    if (PQntuples(in.get()) == 0) {
      RETURN_IF_ERROR(sql_->Exec("ALTER PUBLICATION " + sql_->QuoteIdentifier(publication_) +
                                     " ADD TABLE " + t.qualified,
                                 "adding " + t.config->table + " to publication " + publication_)
                          .status());
    }
  }
  return Status::OK();
}

bool PostgresCapture::CanResume(const std::string& position,
                                const std::vector<bool>& mirrored) const {
  if (position.empty() || !ParseLsn(position).ok()) return false;  // no snapshot committed yet
  for (size_t t = 0; t < tables_.size(); ++t) {
    if (t >= mirrored.size() || !mirrored[t]) return false;  // its rows cannot be reloaded
  }
  return true;
}

Result<std::string> PostgresCapture::TupleKey(size_t table, const RelationMap& rel,
                                              const TupleData& tuple) const {
  const PgSourceTable& t = tables_[table];
  std::string key;
  for (size_t c : t.schema.primary_key) {
    const size_t r = size_t(rel.rel_column[c]);
    if (r >= tuple.size() || tuple[r].kind != TupleColumn::Kind::kText) {
      if (r < tuple.size() && tuple[r].kind == TupleColumn::Kind::kNull) {
        EncodeKeyValue(t.schema.fields[c].type, Value(), &key);
        continue;
      }
      return DataLoss("table " + t.config->table + ": a change without its key column " +
                      t.schema.fields[c].name);
    }
    ASSIGN_OR_RETURN(Value v, ParsePgText(t.types[c], tuple[r].value));
    EncodeKeyValue(t.schema.fields[c].type, v, &key);
  }
  return key;
}

bool PostgresCapture::Flush(CaptureContext& context) {
  if (stopping_) return false;
  if (pending_rows_ == 0 && pending_position_ == emitted_position_) return true;
  std::vector<std::vector<Operation>> out(tables_.size());
  out.swap(pending_);
  pending_rows_ = 0;
  emitted_position_ = pending_position_;
  if (!context.emit(std::move(out), FormatLsn(pending_position_))) stopping_ = true;
  return !stopping_;
}

Status PostgresCapture::Run(CaptureContext& context) {
  ASSIGN_OR_RETURN(auto repl, PgConnection::Open(connection_, true));
  Lsn start = 0;
  if (context.start_position.empty()) {
    RETURN_IF_ERROR(StartFresh(context, *repl, start));
    if (stopping_) return Status::OK();
  } else {
    ASSIGN_OR_RETURN(start, ParseLsn(context.start_position));
    ASSIGN_OR_RETURN(PgResult slot, sql_->Exec("SELECT 1 FROM pg_replication_slots WHERE "
                                               "slot_name = $1",
                                               "looking up slot " + slot_, {slot_}));
    if (PQntuples(slot.get()) == 0) {
      return FailedPrecondition("connection '" + connection_.name + "': replication slot '" +
                                slot_ +
                                "' is gone, so changes since the last run are lost to Sluice; "
                                "run `sluice clean` and start again to take a new snapshot");
    }
    // The cache holds each table as this capture keeps it (same key and row encodings), so a
    // keyed table's entries are taken as they are; keyless ones are re-keyed by whole row.
    for (size_t t = 0; t < tables_.size(); ++t) {
      const bool keyed = tables_[t].schema.has_primary_key();
      Status decoded;
      RETURN_IF_ERROR(context.load_rows(t, [&](std::string_view key, std::string_view row) {
        if (keyed) {
          rows_[t].RememberEncoded(key, row);
          return;
        }
        auto record = DecodeRow(tables_[t].schema, row);
        if (record.ok()) {
          rows_[t].Remember(*record);
        } else if (decoded.ok()) {
          decoded = record.status();
        }
      }));
      RETURN_IF_ERROR(decoded);
    }
    resume_after_ = start;
    pending_position_ = emitted_position_ = start;
  }
  return Stream(context, *repl, start);
}

Status PostgresCapture::StartFresh(CaptureContext& context, PgConnection& repl, Lsn& start) {
  // A slot left by an interrupted first run is stale: its snapshot is gone with it.
  ASSIGN_OR_RETURN(PgResult old, sql_->Exec("SELECT active FROM pg_replication_slots WHERE "
                                            "slot_name = $1",
                                            "looking up slot " + slot_, {slot_}));
  if (PQntuples(old.get()) > 0) {
    if (PQgetvalue(old.get(), 0, 0)[0] == 't') {
      return FailedPrecondition("connection '" + connection_.name + "': replication slot '" +
                                slot_ + "' is in use by another client");
    }
    RETURN_IF_ERROR(
        sql_->Exec("SELECT pg_drop_replication_slot($1)", "dropping stale slot", {slot_}).status());
  }
  const bool snapshot = connection_.postgres.snapshot;
  ASSIGN_OR_RETURN(
      PgResult created,
      repl.Exec("CREATE_REPLICATION_SLOT " + repl.QuoteIdentifier(slot_) + " LOGICAL pgoutput " +
                    (snapshot ? "EXPORT_SNAPSHOT" : "NOEXPORT_SNAPSHOT"),
                "creating replication slot " + slot_));
  RETURN_IF_ERROR(RecordCreated("slot " + slot_));
  ASSIGN_OR_RETURN(start, ParseLsn(PQgetvalue(created.get(), 0, 1)));
  spdlog::info("connection '{}': created replication slot {} at {}", connection_.name, slot_,
               FormatLsn(start));
  if (snapshot) RETURN_IF_ERROR(Snapshot(context, PQgetvalue(created.get(), 0, 2)));
  if (stopping_) return Status::OK();
  // The snapshot is complete once this batch commits: from here on a restart resumes.
  pending_position_ = start;
  emitted_position_ = 0;
  Flush(context);
  return Status::OK();
}

Status PostgresCapture::Snapshot(CaptureContext& context, const std::string& snapshot_name) {
  ASSIGN_OR_RETURN(auto conn, PgConnection::Open(connection_, false));
  RETURN_IF_ERROR(conn->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                             "starting the snapshot transaction")
                      .status());
  RETURN_IF_ERROR(conn->Exec("SET TRANSACTION SNAPSHOT " + conn->QuoteLiteral(snapshot_name),
                             "importing the slot's snapshot")
                      .status());
  std::vector<std::optional<std::string>> fields;
  for (size_t t = 0; t < tables_.size(); ++t) {
    const PgSourceTable& table = tables_[t];
    auto estimate = conn->QueryValue(
        "SELECT GREATEST(reltuples, 0)::bigint FROM pg_class WHERE "
        "oid = $1",
        "estimating rows", {std::to_string(table.oid)});
    const double expected = estimate.ok() ? std::max(1.0, std::stod(*estimate)) : 1.0;
    std::string columns;
    for (const Field& f : table.schema.fields) {
      columns += (columns.empty() ? "" : ", ") + conn->QuoteIdentifier(f.name);
    }
    RETURN_IF_ERROR(
        conn->Exec("COPY (SELECT " + columns + " FROM " + table.qualified + ") TO STDOUT",
                   "copying " + table.config->table)
            .status());
    const auto began = Clock::now();
    auto last_report = began;
    uint64_t rows = 0;
    std::vector<Operation> batch;
    while (true) {
      char* buffer = nullptr;
      const int n = PQgetCopyData(conn->get(), &buffer, 0);
      if (n == -1) break;
      if (n < 0)
        return Unavailable("snapshot of " + table.config->table + ": " + conn->LastError());
      Status parsed = ParseCopyTextRow(std::string_view(buffer, size_t(n)), fields);
      PQfreemem(buffer);
      RETURN_IF_ERROR(parsed);
      if (fields.size() != table.types.size()) {
        return DataLoss("snapshot of " + table.config->table + ": a row has " +
                        std::to_string(fields.size()) + " fields, expected " +
                        std::to_string(table.types.size()));
      }
      Record row;
      row.reserve(fields.size());
      for (size_t c = 0; c < fields.size(); ++c) {
        if (!fields[c]) {
          row.emplace_back();
          continue;
        }
        auto value = ParsePgText(table.types[c], *fields[c]);
        if (!value.ok()) {
          return Status(value.status().code(), "snapshot of " + table.config->table + ", column " +
                                                   table.schema.fields[c].name + ": " +
                                                   value.status().message());
        }
        row.push_back(std::move(*value));
      }
      rows_[t].Remember(row);
      batch.push_back(Operation::Insert(std::move(row)));
      ++rows;
      if (batch.size() >= kEmitRows) {
        std::vector<std::vector<Operation>> out(tables_.size());
        out[t] = std::move(batch);
        batch.clear();
        // Snapshot batches have no position: a restart before the snapshot ends starts over.
        if (!context.emit(std::move(out), "")) {
          stopping_ = true;
          return Status::OK();
        }
      }
      if (Clock::now() - last_report >= kProgressInterval) {
        last_report = Clock::now();
        const double secs = std::chrono::duration<double>(last_report - began).count();
        spdlog::info("snapshot {}: {} rows ({:.0f}% of ~{:.0f}), {:.0f} rows/s",
                     table.config->table, rows, std::min(100.0, 100.0 * double(rows) / expected),
                     expected, double(rows) / secs);
      }
    }
    PgResult done(PQgetResult(conn->get()));
    if (PQresultStatus(done.get()) != PGRES_COMMAND_OK) {
      return Unavailable("snapshot of " + table.config->table + ": " + conn->LastError());
    }
    while (PgResult extra{PQgetResult(conn->get())}) {
    }
    std::vector<std::vector<Operation>> out(tables_.size());
    out[t] = std::move(batch);
    if (!context.emit(std::move(out), "")) {
      stopping_ = true;
      return Status::OK();
    }
    const double secs = std::chrono::duration<double>(Clock::now() - began).count();
    spdlog::info("snapshot {}: {} rows in {:.1f} s ({:.0f} rows/s)", table.config->table, rows,
                 secs, double(rows) / std::max(secs, 1e-6));
  }
  return conn->Exec("COMMIT", "ending the snapshot transaction").status();
}

Status PostgresCapture::OnRelation(const RelationMessage& m) {
  RelationMap map;
  for (size_t t = 0; t < tables_.size(); ++t) {
    if (tables_[t].namespace_name == m.namespace_name && tables_[t].name == m.name) {
      map.table = int(t);
    }
  }
  if (map.table >= 0) {
    const PgSourceTable& table = tables_[size_t(map.table)];
    const std::string name = table.config->table;
    for (size_t c = 0; c < table.schema.fields.size(); ++c) {
      const std::string& column = table.schema.fields[c].name;
      int found = -1;
      for (size_t r = 0; r < m.columns.size(); ++r) {
        if (m.columns[r].name == column) found = int(r);
      }
      if (found < 0) {
        return FailedPrecondition("table " + name + " changed (ALTER TABLE): column " + column +
                                  " was dropped or renamed; stopping rather than guessing. "
                                  "Run `sluice clean` and start again to capture the new shape");
      }
      if (m.columns[size_t(found)].type_oid != table.types[c].type_oid) {
        return FailedPrecondition("table " + name + " changed (ALTER TABLE): column " + column +
                                  " changed its type (oid " +
                                  std::to_string(table.types[c].type_oid) + " -> " +
                                  std::to_string(m.columns[size_t(found)].type_oid) +
                                  "); stopping rather than guessing. Run `sluice clean` and "
                                  "start again to capture the new shape");
      }
      map.rel_column.push_back(found);
    }
    if (table.config->columns.empty() && m.columns.size() > table.schema.fields.size()) {
      spdlog::warn(
          "table {} gained columns (ALTER TABLE ADD COLUMN); they are not captured "
          "until the next fresh start",
          name);
    }
  }
  relations_[m.oid] = std::move(map);
  return Status::OK();
}

Result<Record> PostgresCapture::ToRecord(size_t table, const RelationMap& rel,
                                         const TupleData& tuple, const Record* previous) const {
  const PgSourceTable& t = tables_[table];
  Record row;
  row.reserve(rel.rel_column.size());
  for (size_t c = 0; c < rel.rel_column.size(); ++c) {
    const size_t r = size_t(rel.rel_column[c]);
    if (r >= tuple.size()) return DataLoss("pgoutput tuple of " + t.config->table + " is short");
    const TupleColumn& col = tuple[r];
    switch (col.kind) {
      case TupleColumn::Kind::kNull:
        row.emplace_back();
        break;
      case TupleColumn::Kind::kUnchanged:
        if (!previous) {
          return DataLoss("table " + t.config->table + ": the unchanged TOASTed value of column " +
                          t.schema.fields[c].name + " is not known");
        }
        row.push_back((*previous)[c]);
        break;
      case TupleColumn::Kind::kText: {
        auto v = ParsePgText(t.types[c], col.value);
        if (!v.ok()) {
          return Status(v.status().code(), "table " + t.config->table + ", column " +
                                               t.schema.fields[c].name + ": " +
                                               v.status().message());
        }
        row.push_back(std::move(*v));
        break;
      }
      case TupleColumn::Kind::kBinary:
        return Unimplemented("pgoutput binary tuples are not requested");
    }
  }
  return row;
}

Status PostgresCapture::OnChange(const PgOutputMessage& message) {
  auto relation = [&](uint32_t oid) -> Result<const RelationMap*> {
    auto it = relations_.find(oid);
    if (it == relations_.end()) return DataLoss("pgoutput change before its Relation message");
    return &it->second;
  };
  // The stored old row of an update or delete: from the old tuple's key (REPLICA IDENTITY
  // DEFAULT or USING INDEX send only key columns), the whole old tuple (FULL), or, for an
  // update that kept its key, the new tuple's key.
  // nullopt: a row that existed before a `snapshot: never` start, which Sluice never saw.
  auto old_row = [&](size_t t, const RelationMap& rel,
                     const TupleData& tuple) -> Result<std::optional<Record>> {
    std::string key;
    if (tables_[t].full_old_rows()) {
      ASSIGN_OR_RETURN(Record full, ToRecord(t, rel, tuple, nullptr));
      key = rows_[t].KeyOf(full);
    } else {
      ASSIGN_OR_RETURN(key, TupleKey(t, rel, tuple));
    }
    if (!connection_.postgres.snapshot && !rows_[t].Contains(key)) return std::optional<Record>();
    ASSIGN_OR_RETURN(Record row, rows_[t].Forget(key));
    return std::optional<Record>(std::move(row));
  };
  if (const auto* m = std::get_if<InsertMessage>(&message)) {
    ASSIGN_OR_RETURN(const RelationMap* rel, relation(m->relation_oid));
    if (rel->table < 0) return Status::OK();
    const size_t t = size_t(rel->table);
    ASSIGN_OR_RETURN(Record row, ToRecord(t, *rel, m->new_tuple, nullptr));
    rows_[t].Remember(row);
    txn_[t].push_back(Operation::Insert(std::move(row)));
  } else if (const auto* m = std::get_if<UpdateMessage>(&message)) {
    ASSIGN_OR_RETURN(const RelationMap* rel, relation(m->relation_oid));
    if (rel->table < 0) return Status::OK();
    const size_t t = size_t(rel->table);
    if (tables_[t].full_old_rows() && m->old_kind != OldTupleKind::kFull) {
      return DataLoss("table " + tables_[t].config->table + ": an update without its old row");
    }
    ASSIGN_OR_RETURN(
        std::optional<Record> before,
        old_row(t, *rel, m->old_kind == OldTupleKind::kNone ? m->new_tuple : m->old_tuple));
    ASSIGN_OR_RETURN(Record after, ToRecord(t, *rel, m->new_tuple, before ? &*before : nullptr));
    rows_[t].Remember(after);
    // A row never seen (snapshot: never) appears with its new values.
    txn_[t].push_back(before ? Operation::Update(std::move(*before), std::move(after))
                             : Operation::Insert(std::move(after)));
  } else if (const auto* m = std::get_if<DeleteMessage>(&message)) {
    ASSIGN_OR_RETURN(const RelationMap* rel, relation(m->relation_oid));
    if (rel->table < 0) return Status::OK();
    const size_t t = size_t(rel->table);
    ASSIGN_OR_RETURN(std::optional<Record> before, old_row(t, *rel, m->old_tuple));
    if (before) txn_[t].push_back(Operation::Delete(std::move(*before)));
  } else if (const auto* m = std::get_if<TruncateMessage>(&message)) {
    // Every row the table had goes, as deletes: downstream state stays exact.
    for (uint32_t oid : m->relation_oids) {
      auto it = relations_.find(oid);
      if (it == relations_.end() || it->second.table < 0) continue;
      const size_t t = size_t(it->second.table);
      RETURN_IF_ERROR(
          rows_[t].TakeAll([&](const Record& row) { txn_[t].push_back(Operation::Delete(row)); }));
    }
  }
  return Status::OK();
}

Status PostgresCapture::SendStatus(CaptureContext& context, PgConnection& repl,
                                   bool reply_requested) {
  StandbyStatusUpdate update;
  const std::string durable = context.durable_position();
  if (!durable.empty()) {
    auto lsn = ParseLsn(durable);
    if (lsn.ok()) update.write = update.flush = update.apply = *lsn;
  }
  update.clock = std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  update.reply_requested = reply_requested;
  const std::string bytes = EncodeStandbyStatusUpdate(update);
  if (PQputCopyData(repl.get(), bytes.data(), int(bytes.size())) != 1 || PQflush(repl.get()) != 0) {
    return Unavailable("connection '" + connection_.name +
                       "': cannot send replication status: " + repl.LastError());
  }
  return Status::OK();
}

Status PostgresCapture::Stream(CaptureContext& context, PgConnection& repl, Lsn start) {
  ASSIGN_OR_RETURN(PgResult started,
                   repl.Exec("START_REPLICATION SLOT " + repl.QuoteIdentifier(slot_) + " LOGICAL " +
                                 FormatLsn(start) + " (proto_version '1', publication_names " +
                                 repl.QuoteLiteral(publication_) + ")",
                             "starting replication from slot " + slot_));
  spdlog::info("connection '{}': streaming changes from {}", connection_.name, FormatLsn(start));
  auto last_status = Clock::now();
  while (!context.stop.stop_requested()) {
    char* buffer = nullptr;
    const int n = PQgetCopyData(repl.get(), &buffer, 1);
    if (n == 0) {
      // Nothing buffered: hand over what is committed, report progress, wait for the socket.
      if (!Flush(context)) return Status::OK();
      if (context.caught_up) context.caught_up();
      if (Clock::now() - last_status >= kStatusInterval) {
        RETURN_IF_ERROR(SendStatus(context, repl, false));
        last_status = Clock::now();
      }
      pollfd fd{PQsocket(repl.get()), POLLIN, 0};
      ::poll(&fd, 1, 100);
      if (PQconsumeInput(repl.get()) == 0) {
        return Unavailable("connection '" + connection_.name + "' lost: " + repl.LastError());
      }
      continue;
    }
    if (n < 0) {
      return Unavailable("connection '" + connection_.name +
                         "': replication stream ended: " + repl.LastError());
    }
    auto frame = DecodeReplicationFrame(std::string_view(buffer, size_t(n)));
    Status handled = frame.status();
    if (frame.ok()) {
      if (const auto* keepalive = std::get_if<PrimaryKeepalive>(&*frame)) {
        if (keepalive->reply_requested) {
          handled = SendStatus(context, repl, false);
          last_status = Clock::now();
        }
      } else {
        auto message = DecodePgOutput(std::get<XLogData>(*frame).data);
        handled = message.status();
        if (message.ok()) {
          if (const auto* begin = std::get_if<BeginMessage>(&*message)) {
            skip_txn_ = begin->final_lsn < resume_after_;
            for (auto& ops : txn_) ops.clear();
          } else if (const auto* commit = std::get_if<CommitMessage>(&*message)) {
            if (!skip_txn_) {
              for (size_t t = 0; t < tables_.size(); ++t) {
                pending_rows_ += txn_[t].size();
                for (auto& op : txn_[t]) pending_[t].push_back(std::move(op));
                txn_[t].clear();
              }
              pending_position_ = commit->end_lsn;
            }
          } else if (const auto* relation = std::get_if<RelationMessage>(&*message)) {
            handled = OnRelation(*relation);
          } else if (!skip_txn_) {
            handled = OnChange(*message);
          }
        }
      }
    }
    PQfreemem(buffer);
    if (!handled.ok()) {
      Flush(context);  // the transactions committed before this one still count
      return handled;
    }
    if (pending_rows_ >= kEmitRows && !Flush(context)) return Status::OK();
  }
  Flush(context);
  return Status::OK();
}

}  // namespace

std::string DefaultPostgresObjectName(const Config& config, const ConnectionConfig& connection) {
  std::string name = "sluice_" + config.app_name + "_" + connection.name;
  for (char& c : name) {
    c = char(std::tolower(static_cast<unsigned char>(c)));
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name.substr(0, 63);
}

Result<std::unique_ptr<CaptureReader>> OpenPostgresCapture(
    const Config& config, const ConnectionConfig& connection,
    const std::vector<const SourceConfig*>& sources) {
  auto capture = std::make_unique<PostgresCapture>(config, connection);
  RETURN_IF_ERROR(capture->Open(sources));
  return std::unique_ptr<CaptureReader>(std::move(capture));
}

Status CleanPostgres(const Config& config, const ConnectionConfig& connection) {
  const std::string marker = CreatedMarkerPath(config, connection);
  std::ifstream in(marker);
  if (!in) return Status::OK();  // nothing created here
  ASSIGN_OR_RETURN(auto conn, PgConnection::Open(connection, false));
  std::string kind, name;
  while (in >> kind >> name) {
    if (kind == "slot") {
      ASSIGN_OR_RETURN(PgResult r, conn->Exec("SELECT pg_drop_replication_slot(slot_name) FROM "
                                              "pg_replication_slots WHERE slot_name = $1",
                                              "dropping slot " + name, {name}));
      spdlog::info("connection '{}': dropped replication slot {}", connection.name, name);
    } else if (kind == "publication") {
      RETURN_IF_ERROR(conn->Exec("DROP PUBLICATION IF EXISTS " + conn->QuoteIdentifier(name),
                                 "dropping publication " + name)
                          .status());
      spdlog::info("connection '{}': dropped publication {}", connection.name, name);
    }
  }
  std::error_code ec;
  std::filesystem::remove(marker, ec);
  return Status::OK();
}

}  // namespace sluice
