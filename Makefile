# Entry points; see README.md. Every target installs what it needs first (scripts/bootstrap).
BUILD_DIR ?= build
CONFIG ?= examples/quickstart/sluice.yaml
CMAKE_FLAGS ?= -G Ninja -DCMAKE_BUILD_TYPE=Release

.PHONY: all bootstrap build run test bench format clean

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

bench: build
	bench/run_all.sh $(BUILD_DIR)

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
