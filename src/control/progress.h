// Progress: rows so far and rows/s per source while a load runs. On a terminal it redraws one
// status line on stderr; otherwise it logs a line every 10 seconds while rows keep coming.
// Single-threaded: called from the controlling thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "control/pipeline.h"

namespace sluice {

class Progress {
 public:
  Progress();
  void Update(const std::vector<SourceStats>& stats);
  // Ends the status line and logs totals with the average rate.
  void Finish(const std::vector<SourceStats>& stats, double seconds);

 private:
  bool tty_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point last_, last_log_;
  uint64_t last_total_ = 0;
};

}  // namespace sluice
