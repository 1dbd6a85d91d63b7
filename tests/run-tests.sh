#!/bin/sh
# run-tests.sh -- the whole test suite: install dependencies, build
# warning-free, run unit and integration tests (real named, unbound and
# postfix on loopback), then run the unit tests again under ASan+UBSan.
# Usage (as root, from anywhere): tests/run-tests.sh
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${TLSAD_BUILD_DIR:-$src/build}
jobs=$(nproc 2>/dev/null || echo 2)

"$src/tests/install-deps.sh"

cmake -S "$src" -B "$build" -DTLSAD_WERROR=ON >/dev/null
cmake --build "$build" -j"$jobs"
(cd "$build" && ctest --output-on-failure -j"$jobs")

cmake -S "$src" -B "$build-asan" -DTLSAD_SANITIZE=ON -DTLSAD_WERROR=ON \
	-DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build-asan" -j"$jobs"
(cd "$build-asan" && ctest --output-on-failure -j"$jobs" -L unit)
