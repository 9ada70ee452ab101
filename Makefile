# Entry points; see README.md. Every target installs what it needs first (scripts/bootstrap).
BUILD_DIR ?= build
CONFIG ?= examples/quickstart/sluice.yaml
CMAKE_FLAGS ?= -G Ninja -DCMAKE_BUILD_TYPE=Release
# Sanitizer builds (docs/fuzzing.md), each in its own git-ignored directory.
ASAN_DIR ?= build-asan
ASAN_FLAGS ?= -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
	-DSLUICE_SANITIZE=address,undefined
FUZZ_DIR ?= build-fuzz
FUZZ_FLAGS ?= -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DCMAKE_CXX_COMPILER=clang++ \
	-DSLUICE_FUZZ=ON
SECONDS ?= 60
# Sanitizer reports fail the run; LeakSanitizer is on with ASan.
SANITIZER_ENV = ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: all bootstrap build run test test-asan fuzz fuzz-list fuzz-sql bench format clean

all: build

bootstrap:
	@scripts/bootstrap

build: bootstrap
	@cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_DIR)

run: build
	$(BUILD_DIR)/sluice run -c $(CONFIG)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j2 --timeout 600

# The unit tests and the SQL differential test (every test but the e2e ones) under
# AddressSanitizer + UndefinedBehaviorSanitizer; any report fails.
test-asan: bootstrap
	@cmake -S . -B $(ASAN_DIR) $(ASAN_FLAGS) >/dev/null
	@cmake --build $(ASAN_DIR)
	cd $(ASAN_DIR) && $(SANITIZER_ENV) ctest --output-on-failure -j2 --timeout 1200 -LE e2e

# make fuzz TARGET=<name> [SECONDS=60] [KEEP=1] [JOBS=n]: one libFuzzer target (clang, ASan +
# UBSan) on a copy of its seed corpus; see `make fuzz-list` and docs/fuzzing.md.
fuzz: bootstrap
	@test -n "$(TARGET)" || { echo "usage: make fuzz TARGET=<name> [SECONDS=60] [KEEP=1]; targets: make fuzz-list" >&2; exit 2; }
	@cmake -S . -B $(FUZZ_DIR) $(FUZZ_FLAGS) >/dev/null
	@cmake --build $(FUZZ_DIR) --target $(TARGET)_fuzz
	@scripts/fuzz $(FUZZ_DIR) $(TARGET) $(SECONDS)

# make fuzz-sql [SEED=1] [COUNT=2000]: the random SQL tester against PostgreSQL (tests/sql/fuzz).
fuzz-sql: build
	python3 tests/sql/fuzz/fuzz_sql.py --sluice $(BUILD_DIR)/sluice --seed $(or $(SEED),1) \
		--count $(or $(COUNT),2000) --jobs 2

fuzz-list:
	@ls tests/fuzz/*_fuzz.cc | sed 's|tests/fuzz/||; s|_fuzz\.cc$$||'

bench: build
	bench/run_all.sh $(BUILD_DIR)

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR)
