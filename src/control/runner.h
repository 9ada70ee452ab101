// The `sluice run` lifecycle: build the pipeline, open the cache under home_dir, start the
// pipeline and the REST server, show progress, and on SIGINT/SIGTERM stop gracefully
// (everything received is committed) before returning.
#pragma once

#include <chrono>
#include <string>

#include "common/status.h"
#include "config/config.h"

namespace sluice {

enum class RunMode {
  kAll,  // `sluice run`: everything in one process
  kApp,  // `sluice run app`: connectors, dataflow, change log served to API nodes
  kApi,  // `sluice run api`: a cache built from an app's log, and the APIs over it
};

struct RunOptions {
  RunMode mode = RunMode::kAll;
  // When set, written once the server listens: "<port>\n" (tests use port 0 and read it) —
  // the REST port, or in app mode the port API nodes follow the log on.
  std::string port_file;
  std::string app_address;  // kApi: host:port of the app's api.app_grpc
  std::string home_dir;     // kApi: this node's directory (default <home_dir>/api)
};

// Blocks SIGINT and SIGTERM in the calling thread; call before any thread starts so every
// thread inherits the mask and RunPipeline can wait for the signals synchronously.
void BlockStopSignals();

Status RunPipeline(const Config& config, const RunOptions& options);

// `sluice run api` (api_node.cc).
Status RunApiNode(const Config& config, const RunOptions& options);

// Waits up to `timeout` for SIGINT/SIGTERM (blocked by BlockStopSignals); returns it, or 0.
int WaitForStopSignal(std::chrono::milliseconds timeout);

// Removes the data under home_dir (the cache and the lock file).
Status CleanHome(const Config& config);

std::string CacheDirectory(const Config& config);

}  // namespace sluice
