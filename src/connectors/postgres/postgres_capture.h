// PostgresCapture: every source table of one `kind: postgres` connection, captured through one
// logical replication slot with the built-in pgoutput plugin.
//
// Start from nothing: create the slot with an exported snapshot, COPY every table inside that
// snapshot (streamed, never a whole table in memory), then stream from the slot's consistent
// point — so no change is missed or doubled between snapshot and stream. Each source
// transaction is emitted whole (all its tables in one emit), positioned at its commit's end
// LSN, which is what a restart resumes after. The slot's flush LSN is acknowledged only up to
// the position the pipeline reports durable.
//
// PostgreSQL sends only key columns for old rows (unless REPLICA IDENTITY FULL), leaves
// unchanged TOASTed values out, and says TRUNCATE without naming rows; so the capture keeps
// each table's current rows (key -> row) and always hands downstream whole old rows and exact
// deletes. After a restart those rows are reloaded from an endpoint that shows the table under
// the same key; without one the capture starts over with a new snapshot (and the cache is
// rebuilt). Memory therefore grows with the captured tables.
#pragma once

#include <memory>
#include <vector>

#include "common/status.h"
#include "config/config.h"
#include "connectors/connector.h"

namespace sluice {

Result<std::unique_ptr<CaptureReader>> OpenPostgresCapture(
    const Config& config, const ConnectionConfig& connection,
    const std::vector<const SourceConfig*>& sources);

// `sluice clean`: drops the slot and publication this app created on `connection` (recorded in
// home_dir when created), never ones that existed before.
Status CleanPostgres(const Config& config, const ConnectionConfig& connection);

// sluice_<app>_<connection>, reduced to the characters slot names allow.
std::string DefaultPostgresObjectName(const Config& config, const ConnectionConfig& connection);

}  // namespace sluice
