BUILD_DIR ?= build
export BUILD_DIR
CTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: setup build quickstart test bench format clean

setup:
	@bash tools/setup.sh

build: setup

quickstart: setup
	@bash tools/quickstart.sh

test: setup
	ctest --test-dir $(BUILD_DIR) --output-on-failure --no-tests=error -j 2 $(CTEST_ARGS)

# The full benchmark against the HF references (about 30 min on an idle 2-core machine);
# rewrites the generated section of bench/RESULTS.md. BENCH_ARGS=--smoke: the quick check that
# `make test` also runs (CTest py.test_bench_smoke).
bench: setup
	CLINTORCH_BIN=$(BUILD_DIR)/clintorch bash bench/run $(BENCH_ARGS)

format:
	@find src tests bench -name '*.cpp' -o -name '*.h' | xargs clang-format -i --style=file

clean:
	rm -rf $(BUILD_DIR)
