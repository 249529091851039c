# Thin wrapper around CMake: every target installs what is missing first.
#   make demo   set up, build, run the main job on the embedded default
#   make test   set up, build, run every test (CTest), the whole suite again
#               under ASan + UBSan (build-asan/), and a short run of each fuzzer
#   make asan-test  only the sanitizer build and its CTest run
#   make bench  set up (with the benchmarks' peer), build, run bench/
BUILD ?= build
FUZZ_BUILD ?= build-fuzz
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 30

# The sanitizer build: every target (library, CLI, tests, Verilator model)
# with ASan + UBSan; any UB report fails the test.  allocator_may_return_null:
# an impossible allocation returns NULL as libc's does, so the tests of the
# HN_ERR_NOMEM paths run here too.  LSan suppressions only name third-party
# leaks (scripts/lsan.supp says which).
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:strict_string_checks=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/lsan.supp:print_suppressions=0

.PHONY: all deps deps-bench configure build demo test asan-build asan-test fuzz bench clean \
        xo-hls xclbin-hls xo-rtl xclbin-rtl

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
	@$(MAKE) --no-print-directory asan-test
	@$(MAKE) --no-print-directory fuzz

asan-build: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_C_FLAGS="$(SAN_FLAGS)" -DCMAKE_CXX_FLAGS="$(SAN_FLAGS)" \
	  -DCMAKE_EXE_LINKER_FLAGS="$(SAN_FLAGS)" -DCMAKE_SHARED_LINKER_FLAGS="$(SAN_FLAGS)" >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

asan-test: asan-build
	@echo "asan: CTest suite under ASan + UBSan ($(ASAN_BUILD))"
	@cd $(ASAN_BUILD) && $(SAN_ENV) ctest --output-on-failure -j $(JOBS)

fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DHN_WITH_FUZZ=ON \
	  -DBUILD_TESTING=OFF -DHN_WITH_VERILATOR=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_all
	@bash scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

bench: deps-bench build
	@bash scripts/bench.sh $(BUILD)

# ---- the Alveo flow (Vitis/Vivado; not installed on the development machine,
# docs/alveo.md).  BOARD = u250 | u280 picks constraints/*_$(BOARD).cfg;
# PLATFORM is the installed shell's name.  Outputs go to $(ALVEO_DIR).
BOARD ?= u250
PLATFORM ?= xilinx_u250_gen3x16_xdma_4_1_202210_1
ALVEO_DIR ?= build-alveo
HLS_PART_u250 := xcu250-figd2104-2L-e
HLS_PART_u280 := xcu280-fsvh2892-2L-e
need = @command -v $(1) >/dev/null || { echo "make $@: '$(1)' not found: source Vitis's settings64.sh (docs/alveo.md)" >&2; exit 1; }

xo-hls:
	$(call need,vitis_hls)
	@mkdir -p $(ALVEO_DIR) && cd $(ALVEO_DIR) && HN_HLS_STEPS="csim csynth export" HN_HLS_PART=$(HLS_PART_$(BOARD)) \
	  vitis_hls -f $(CURDIR)/hls/run_hls.tcl

xclbin-hls: xo-hls
	$(call need,v++)
	@cd $(ALVEO_DIR) && v++ -l -t hw --platform $(PLATFORM) \
	  --config $(CURDIR)/constraints/hn_bsconv_$(BOARD).cfg hn_bsconv.xo -o hn_bsconv_$(BOARD).xclbin

xo-rtl:
	$(call need,vivado)
	@mkdir -p $(ALVEO_DIR) && cd $(ALVEO_DIR) && \
	  vivado -mode batch -source $(CURDIR)/constraints/package_xo.tcl -tclargs hn_krnl_top.xo

xclbin-rtl: xo-rtl
	$(call need,v++)
	@cd $(ALVEO_DIR) && v++ -l -t hw --platform $(PLATFORM) \
	  --config $(CURDIR)/constraints/hn_krnl_$(BOARD).cfg hn_krnl_top.xo -o hn_krnl_$(BOARD).xclbin

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD) $(ASAN_BUILD)
