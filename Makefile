BUILD_DIR ?= build
export BUILD_DIR
CTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: setup build quickstart test bench sanitize fuzz format clean

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

# The C++ suite and the fuzz corpus replay built with ASan + UBSan (clang, build-san/; the first
# build takes about 40 min on 2 cores). SANITIZE_TESTS=REGEX runs a subset.
sanitize: setup
	@bash tools/sanitize.sh sanitize

# Every libFuzzer target of tests/fuzz/ for FUZZ_SECONDS each (default 60), then a table of
# executions and crashes. FUZZ_TARGETS="safetensors recipe" picks some.
FUZZ_SECONDS ?= 60
fuzz: setup
	@bash tools/sanitize.sh fuzz $(FUZZ_SECONDS)

format:
	@find src tests bench -name '*.cpp' -o -name '*.h' | xargs clang-format -i --style=file

clean:
	rm -rf $(BUILD_DIR)
