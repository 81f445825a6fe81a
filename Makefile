BUILD_DIR ?= build
export BUILD_DIR
CTEST_ARGS ?=

.PHONY: setup build quickstart test format clean

setup:
	@bash tools/setup.sh

build: setup

quickstart: setup
	@bash tools/quickstart.sh

test: setup
	ctest --test-dir $(BUILD_DIR) --output-on-failure --no-tests=error -j 2 $(CTEST_ARGS)

format:
	@find src tests bench -name '*.cpp' -o -name '*.h' | xargs clang-format -i --style=file

clean:
	rm -rf $(BUILD_DIR)
