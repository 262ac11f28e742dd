# Trunkline: the two set-up commands are `make run` and `make test` (see README.md).
# Works as root or as a user with sudo (scripts/install-deps.sh installs missing packages).

BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
DATA_DIR ?= var
# Per-test timeout in seconds (ctest --timeout).
TEST_TIMEOUT ?= 600
TRUNKLINE := $(BUILD_DIR)/src/app/trunkline

.PHONY: all deps deps-bench configure build run test test-asan bench bench-sip clean format help

all: build

help:
	@echo "make run      install missing packages, build (Release), start trunkline serve --demo"
	@echo "make test     install missing packages, build, run the whole test suite"
	@echo "make test-asan  the same suites built with AddressSanitizer + UBSan in build-asan/; fails on any report"
	@echo "make build    configure (CMake + Ninja, $(BUILD_TYPE)) and build into $(BUILD_DIR)/"
	@echo "make bench    install wrk, build, run bench/api.sh (see docs/benchmarks.md)"
	@echo "make bench-sip  install sipp and taskset, build, run bench/sip_cps.sh: SIP calls/s and concurrent calls (docs/benchmarks.md)"
	@echo "make deps     install missing Debian packages only"
	@echo "make format   clang-format every C++ file under src/ and tests/"
	@echo "make clean    remove $(BUILD_DIR)/"

deps:
	bash scripts/install-deps.sh

deps-bench:
	bash scripts/install-deps.sh --bench

# Ninja on a fresh tree; a build directory configured earlier keeps its generator (CMake refuses
# to switch generators in place).
configure:
	@if [ -f $(BUILD_DIR)/CMakeCache.txt ]; then \
		cmake -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE); \
	else \
		cmake -G Ninja -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE); \
	fi

build: configure
	cmake --build $(BUILD_DIR) -j$(JOBS)

run: deps
	$(MAKE) build
	./$(TRUNKLINE) serve --data-dir $(DATA_DIR) --demo

test: deps
	$(MAKE) build
	ctest --test-dir $(BUILD_DIR) --output-on-failure --no-tests=error -j2 \
		--timeout $(TEST_TIMEOUT)

# The sanitizer build (AddressSanitizer + UndefinedBehaviorSanitizer) in its own directory, and
# every suite against it: the unit tests, the fuzz corpus replays, and the black-box suites that
# run the instrumented server against real SIP peers (not the benchmarks, nor the recognition
# accuracy measurement, label `accuracy`, which measures PocketSphinx, not our memory use). Each
# process writes its reports to
# $(ASAN_REPORTS) (log_path), so a report from a server that a test merely stopped still fails
# the target; the reports are printed.
ASAN_BUILD_DIR ?= build-asan
ASAN_REPORTS := $(abspath $(ASAN_BUILD_DIR))/sanitizer-reports
# -O1 -g1: instrumented code fast enough for the real-time suites, line tables enough for
# symbolized reports, and about half the compile time of -O2 -g.
ASAN_CMAKE_FLAGS := -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DTL_SANITIZE=ON
test-asan: deps
	@if [ -f $(ASAN_BUILD_DIR)/CMakeCache.txt ]; then \
		cmake -B $(ASAN_BUILD_DIR) $(ASAN_CMAKE_FLAGS); \
	else \
		cmake -G Ninja -B $(ASAN_BUILD_DIR) $(ASAN_CMAKE_FLAGS); \
	fi
	cmake --build $(ASAN_BUILD_DIR) -j$(JOBS)
	rm -rf $(ASAN_REPORTS) && mkdir -p $(ASAN_REPORTS)
	ASAN_OPTIONS=log_path=$(ASAN_REPORTS)/asan:detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=log_path=$(ASAN_REPORTS)/ubsan:print_stacktrace=1:halt_on_error=1 \
	TL_SANITIZED=1 \
		ctest --test-dir $(ASAN_BUILD_DIR) --output-on-failure --no-tests=error -j2 \
		--timeout $(TEST_TIMEOUT) -LE 'bench|accuracy'
	@if [ -n "$$(ls -A $(ASAN_REPORTS))" ]; then \
		echo "test-asan: sanitizer reports:"; cat $(ASAN_REPORTS)/*; exit 1; \
	fi
	@echo "test-asan: no sanitizer reports"

bench: deps-bench
	$(MAKE) build
	TRUNKLINE_BIN=./$(TRUNKLINE) bash bench/api.sh

bench-sip: deps-bench
	$(MAKE) build
	TRUNKLINE_BIN=./$(TRUNKLINE) bash bench/sip_cps.sh

clean:
	rm -rf $(BUILD_DIR)

format:
	@command -v clang-format >/dev/null 2>&1 || \
		{ echo "make format: clang-format not found (apt-get install clang-format)" >&2; exit 1; }
	find src tests \( -name '*.hpp' -o -name '*.cpp' \) -print0 | xargs -0 -r clang-format -i
