// The libFuzzer entry point of one target: SLUICE_FUZZ_TARGET names its namespace
// (tests/fuzz/CMakeLists.txt builds one binary per target from this file).
#include <cstddef>
#include <cstdint>

namespace sluice::fuzz::SLUICE_FUZZ_TARGET {
int FuzzOne(const uint8_t* data, size_t size);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return sluice::fuzz::SLUICE_FUZZ_TARGET::FuzzOne(data, size);
}
