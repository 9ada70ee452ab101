// The `sluice run` lifecycle: build the pipeline, open the cache under home_dir, start the
// pipeline and the REST server, show progress, and on SIGINT/SIGTERM stop gracefully
// (everything received is committed) before returning.
#pragma once

#include "common/status.h"
#include "config/config.h"

namespace sluice {

struct RunOptions {
  // When set, written once the server listens: "<port>\n" (tests use port 0 and read it).
  std::string port_file;
};

// Blocks SIGINT and SIGTERM in the calling thread; call before any thread starts so every
// thread inherits the mask and RunPipeline can wait for the signals synchronously.
void BlockStopSignals();

Status RunPipeline(const Config& config, const RunOptions& options);

// Removes the data under home_dir (the cache and the lock file).
Status CleanHome(const Config& config);

std::string CacheDirectory(const Config& config);

}  // namespace sluice
