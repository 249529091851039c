# Thin wrapper around CMake: every target installs what is missing first.
#   make demo   set up, build, run the main job on the embedded default
#   make test   set up, build, run every test (CTest) and a short fuzz run
#   make bench  set up (with the benchmarks' peer), build, run bench/
BUILD ?= build
FUZZ_BUILD ?= build-fuzz
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 30

.PHONY: all deps deps-bench configure build demo test fuzz bench clean

all: build

deps:
	@bash scripts/install-deps.sh

deps-bench:
	@bash scripts/install-deps.sh --bench

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@bash scripts/demo.sh $(BUILD)/hetnas

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory fuzz

fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DHN_WITH_FUZZ=ON \
	  -DBUILD_TESTING=OFF -DHN_WITH_VERILATOR=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_all
	@bash scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

bench: deps-bench build
	@bash scripts/bench.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD)
