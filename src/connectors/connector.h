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
#include <string_view>
#include <vector>

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
  // Called (once is enough; may be empty) when everything the source held when reading began
  // has been emitted, e.g. existing files read to their end: the cache is then "built".
  std::function<void()> caught_up;
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

// What the pipeline runs: a reader of one or more source tables behind one position. A
// PostgreSQL connection captures all its tables through one replication slot, so a source
// transaction that touches several tables reaches the cache in one commit.
struct CaptureContext {
  std::string start_position;  // empty: from the beginning
  // One batch per table (in the order of the reader's sources; empty batches are fine), all
  // committed together; `position` is where to resume once they are durable. Blocks while
  // downstream is full; false when the pipeline is shutting down.
  std::function<bool(std::vector<std::vector<Operation>> tables, std::string position)> emit;
  // The last position whose batches are durable downstream (empty: none yet). A reader may let
  // its source forget everything up to it (PostgreSQL: the slot's flush LSN), never more.
  std::function<std::string()> durable_position;
  // Hands `visit` every row the cache holds for table t as of start_position (see CanResume),
  // as stored: the encoded key (EncodeKey of the table's key; for keyless tables an opaque
  // sequence) and the encoded row (EncodeRow with the table's schema).
  std::function<Status(
      size_t table, const std::function<void(std::string_view key, std::string_view row)>& visit)>
      load_rows;
  std::stop_token stop;
  // See SourceContext::caught_up; PostgreSQL: the snapshot is done and the stream has no more
  // changes waiting.
  std::function<void()> caught_up;
};

class CaptureReader {
 public:
  virtual ~CaptureReader() = default;
  // Per source, in the order given to OpenCapture.
  virtual const std::vector<Schema>& schemas() const = 0;
  // The key the pipeline stores this reader's position under.
  virtual std::string position_key() const = 0;
  // Whether Run() can continue from `position`; false makes the pipeline rebuild the cache and
  // start this capture from nothing. `mirrored[t]`: an endpoint shows table t under the
  // table's key, so context.load_rows(t) can give back its rows.
  virtual bool CanResume(const std::string& position, const std::vector<bool>& mirrored) const {
    return true;
  }
  virtual Status Run(CaptureContext& context) = 0;
};

// A reader for `sources` (all on `connection`; more than one only for postgres).
Result<std::unique_ptr<CaptureReader>> OpenCapture(const Config& config,
                                                   const ConnectionConfig& connection,
                                                   const std::vector<const SourceConfig*>& sources);

}  // namespace sluice
