# Thin front over CMake/CTest.  Every target installs what it needs first.
#   make         release build (build/)
#   make run     mmk-sim on the capture shipped in traces/
#   make check   every test, under AddressSanitizer and UBSan (build-asan/),
#                multi-CPU tests also under ThreadSanitizer (build-tsan/)
#   make bench   benchmarks beside Linux and allocator peers (build/)
#   make qemu    boot the bare-metal kernel (kernel/) under QEMU, print its report
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build run check bench qemu clean
all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build -j $(JOBS)

run: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build -j $(JOBS) --target mmk-sim
	./build/mmk-sim

# Tests that run CPUs as threads, run again under ThreadSanitizer.
MT_TESTS = test_phys_check test_sim_machine test_kmem_mt

check: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMMK_SANITIZE=address,undefined >/dev/null
	@cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -j $(JOBS)
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DMMK_SANITIZE=thread >/dev/null
	@cmake --build build-tsan -j $(JOBS) --target $(MT_TESTS)
	cd build-tsan && ctest --output-on-failure -R '^($(subst $(eval) ,|,$(MT_TESTS)))$$'

bench:
	@scripts/deps.sh bench
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build -j $(JOBS) --target mmk-bench
	./build/mmk-bench

# The user programs go to the kernel as Multiboot modules, one ELF file each.
QEMU_MODULES = $(foreach p,$(basename $(notdir $(wildcard kernel/user/prog_*.c))),--module build/kernel/user/$(p).elf)

qemu: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build -j $(JOBS) --target mmk-kernel
	scripts/qemu-run.sh --check $(QEMU_MODULES) build/kernel/mmk-kernel

clean:
	rm -rf build build-asan build-tsan
