#include "control/progress.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>

namespace sluice {
namespace {

std::string Human(double v) {
  if (v >= 1e9) return fmt::format("{:.2f}G", v / 1e9);
  if (v >= 1e6) return fmt::format("{:.2f}M", v / 1e6);
  if (v >= 1e4) return fmt::format("{:.1f}k", v / 1e3);
  return fmt::format("{:.0f}", v);
}

uint64_t Total(const std::vector<SourceStats>& stats) {
  uint64_t total = 0;
  for (const auto& s : stats) total += s.committed_rows;
  return total;
}

}  // namespace

Progress::Progress()
    : tty_(::isatty(STDERR_FILENO)), last_(std::chrono::steady_clock::now()), last_log_(last_) {}

void Progress::Update(const std::vector<SourceStats>& stats) {
  if (finished_) return;
  auto now = std::chrono::steady_clock::now();
  uint64_t total = Total(stats);
  double seconds = std::chrono::duration<double>(now - last_).count();
  double rate = seconds > 0 ? double(total - last_total_) / seconds : 0;
  last_ = now;
  last_total_ = total;
  std::string line;
  for (const auto& s : stats) {
    line += fmt::format("{}{}: {} rows{}", line.empty() ? "" : "  ", s.name,
                        Human(double(s.committed_rows)), s.failed ? " (failed)" : "");
  }
  line += fmt::format("  | {} rows/s", Human(rate));
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
  } else if (rate > 0 && now - last_log_ >= std::chrono::seconds(10)) {
    last_log_ = now;
    spdlog::info("progress: {}", line);
  }
}

void Progress::Finish(const std::vector<SourceStats>& stats, double seconds) {
  if (finished_) return;
  finished_ = true;
  if (tty_) std::fprintf(stderr, "\r\033[K");
  uint64_t total = Total(stats);
  spdlog::info("loaded {} rows in {:.3f} s ({} rows/s)", total, seconds,
               Human(seconds > 0 ? double(total) / seconds : 0));
}

}  // namespace sluice
