// Pipeline: the running form of a config. One source node thread per capture (a source, or all
// tables of a postgres connection), the SQL statements as a DataflowGraph (a thread per
// operator), one sink thread per endpoint, one cache writer thread and one epoch thread, joined
// by bounded channels (a slow consumer slows its producers):
//
//   capture ──► [operator ──► operator ...] ──► sink (encode keys, rows) ──► cache writer
//
// Every 10 ms the epoch thread injects a barrier into every capture's outputs and records the
// capture's position there; barriers align through the operators. Stateful SQL stages hand
// the net change of their input rows at each barrier (operator checkpoints). The writer
// commits an epoch when every sink and stateful stage has delivered its barrier: the epoch's
// changes, checkpoints and the recorded positions in one transaction, so after a restart each
// capture resumes exactly after what the cache holds, the operators are restored to the same
// cut, and readers never see half of a source transaction.
// Thread-safety: Build/Start/RequestStop/Wait from one controlling thread; stats() from any.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "cache/cache_store.h"
#include "config/config.h"
#include "connectors/connector.h"
#include "server/http/rest_api.h"

namespace sluice {

struct SourceStats {
  std::string name;
  uint64_t committed_rows = 0;
  bool finished = false;
  bool failed = false;
};

class Pipeline {
 public:
  // Opens every source used by an endpoint and resolves the endpoints' schemas and keys.
  // Errors are InvalidArgument with the config location when the config is at fault.
  static Result<std::unique_ptr<Pipeline>> Build(const Config& config);
  ~Pipeline();

  std::vector<TableDefinition> TableDefinitions() const;
  // False when a capture cannot continue from the positions in `store` (a PostgreSQL snapshot
  // that never completed, say), or when the store's operator checkpoints were made for other
  // SQL stages: the cache must then be rebuilt from the sources.
  Result<bool> CanResume(const CacheStore& store) const;
  std::vector<RestEndpoint> RestEndpoints() const;
  // Human-readable plan for `sluice check`.
  std::string Describe() const;

  // Makes the writer append each commit to `log` before the cache commits it (app_log.h);
  // call before Start. The log outlives the pipeline.
  void SetChangeLog(class AppLog* log);
  // The cache tables API nodes serve: ids below this (the rest are hidden mirrors).
  uint32_t served_tables() const;

  // Reads each source's committed position from `store`, restores the SQL operators from the
  // checkpoints stored with it, and starts all threads.
  Status Start(CacheStore* store);
  // Graceful stop: sources finish their current batch; everything received gets committed.
  void RequestStop();
  // Blocks until every thread has ended. Returns the first fatal error (a cache write
  // failure); a failed source is logged and reported in stats() but does not stop the rest.
  Status Wait();
  // True once every source has ended and everything has been committed.
  bool idle() const;
  // True once every source has caught up with what it held at the start (or ended) and all
  // of that is committed: the cache is complete enough to serve in place of an older one.
  bool caught_up() const;
  std::vector<SourceStats> stats() const;
  // Seconds from Start() until the pipeline went idle (or until now while it runs).
  double elapsed_seconds() const;

 private:
  struct Impl;
  explicit Pipeline(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice
