// The connector interface: how a source table's changes enter Sluice.
// A SourceReader is opened for one configured source. The pipeline runs each reader on its own
// thread (one source node per source): Run() emits batches of operations, each tagged with
// the position to resume from once that batch is durable, until the source is exhausted or a
// stop is requested. A reader never decides what is durable; on restart it is handed the last
// committed position and must continue exactly after it (no loss, no duplicate).
#pragma once

#include <functional>
#include <memory>
#include <stop_token>
#include <string>

#include "common/status.h"
#include "config/config.h"
#include "types/operation.h"
#include "types/schema.h"

namespace sluice {

struct SourceContext {
  // Last committed position of this source; empty means "from the beginning".
  std::string start_position;
  // Hands a batch downstream; blocks while downstream is full (backpressure). Returns false
  // when the pipeline is shutting down, after which the reader should return.
  std::function<bool(OperationBatch)> emit;
  // Requested on SIGINT/SIGTERM: finish the current batch, emit it, and return OK.
  std::stop_token stop;
};

class SourceReader {
 public:
  virtual ~SourceReader() = default;
  // The table's schema, known once the reader is opened.
  virtual const Schema& schema() const = 0;
  // Produces until exhausted (bounded sources) or stopped. An error stops the pipeline.
  virtual Status Run(SourceContext& context) = 0;
};

// Opens the reader for `source` on `connection`: resolves the schema (a generator table, the
// config's schema, or a CSV header) and checks that the table exists. Errors name the source.
Result<std::unique_ptr<SourceReader>> OpenSource(const ConnectionConfig& connection,
                                                 const SourceConfig& source);

}  // namespace sluice
