// Runs every seed (corpus/<target>/) and every saved reproducer (regressions/<target>/) through
// its fuzz target's FuzzOne, in every build: an input that once broke a contract (a crash, a
// sanitizer report, a FUZZ_CHECK) fails this test if it breaks it again. Under `make
// test-asan` the sanitizers watch too. See docs/fuzzing.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "fuzz_support.h"

namespace sluice::fuzz {
namespace {

namespace fs = std::filesystem;

void Throw(const std::string& message) { throw std::runtime_error(message); }

std::vector<fs::path> InputsOf(const std::string& target) {
  std::vector<fs::path> out;
  for (const char* kind : {"corpus", "regressions"}) {
    const fs::path dir = fs::path(SLUICE_FUZZ_DIR) / kind / target;
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.is_regular_file() && e.path().filename().string()[0] != '.') out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

class FuzzRegressions : public ::testing::TestWithParam<Target> {};

}  // namespace

// Names the target in test listings (instead of its bytes).
void PrintTo(const Target& target, std::ostream* os) { *os << target.name; }

namespace {

TEST_P(FuzzRegressions, EveryInputKeepsTheContracts) {
  SetFailureHandler(&Throw);
  const Target& target = GetParam();
  const auto inputs = InputsOf(target.name);
  EXPECT_FALSE(inputs.empty()) << "no seed corpus in tests/fuzz/corpus/" << target.name;
  for (const fs::path& path : inputs) {
    std::ifstream file(path, std::ios::binary);
    std::stringstream bytes;
    bytes << file.rdbuf();
    const std::string input = bytes.str();
    try {
      target.fuzz_one(reinterpret_cast<const uint8_t*>(input.data()), input.size());
    } catch (const std::exception& e) {
      ADD_FAILURE() << path.string() << ": " << e.what();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzRegressions, ::testing::ValuesIn(AllTargets()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(FuzzRegistry, EveryTargetFileIsRegistered) {
  for (const auto& entry : fs::directory_iterator(SLUICE_FUZZ_DIR)) {
    const std::string file = entry.path().filename().string();
    if (!file.ends_with("_fuzz.cc")) continue;
    const std::string name = file.substr(0, file.size() - 8);
    EXPECT_TRUE(std::any_of(AllTargets().begin(), AllTargets().end(),
                            [&](const Target& t) { return t.name == name; }))
        << file << " is not registered in tests/fuzz/CMakeLists.txt";
  }
}

}  // namespace
}  // namespace sluice::fuzz
