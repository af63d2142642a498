# Thin front over CMake/CTest.  Every target installs what it needs first.
#   make         release build (build/)
#   make run     mmk-sim on the capture shipped in traces/
#   make check   every test, under AddressSanitizer and UBSan (build-asan/)
#   make bench   benchmarks beside Linux and allocator peers (build/)
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build run check bench clean
all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build -j $(JOBS)

run: build
	./build/mmk-sim

check: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMMK_SANITIZE=address,undefined >/dev/null
	@cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -j $(JOBS)

bench:
	@scripts/deps.sh bench
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build -j $(JOBS)
	./build/mmk-bench

clean:
	rm -rf build build-asan build-tsan
