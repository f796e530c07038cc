#!/bin/sh
# The whole test suite, from a fresh Debian 12 machine: installs what is missing, builds,
# checks the formatting, runs every test, then runs the C tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer and under Valgrind memcheck.
set -eu
cd "$(dirname "$0")/.."

tools/setup-deps.sh
tools/check-format.sh

[ -d build ] || meson setup build -Ddocumentation=true
meson compile -C build
meson test -C build --print-errorlogs

# A packager's build: the library alone, Criterion hidden, installed into a scratch root.
tools/packager-build.sh build-packager

# Sanitizers: the same tests in a separate build.
# (Introspection and the ecosystem suite build uninstrumented programs against the library,
# which cannot load the sanitizer runtime: they run in the plain build only. The GTK window's
# test, sample-chatter-gtk, skips itself there: GTK is not clean under the sanitizers.)
[ -d build-sanitize ] || meson setup build-sanitize -Db_sanitize=address,undefined -Db_lundef=false \
    -Dintrospection=disabled
meson compile -C build-sanitize
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C build-sanitize --print-errorlogs --no-suite ecosystem

# Valgrind memcheck on the C tests (the 10,000-connection test is left to the plain run). Peer
# programs the tests start (openssl, Python, gnutls-serv, gnutls-cli, and ip and tc, which make
# the network namespaces) are not ours to check: skipped.
# tools/valgrind.supp holds the reports of glibc's own that are not errors.
meson test -C build --print-errorlogs --no-suite scale --no-suite samples --no-suite ecosystem \
    --timeout-multiplier 4 \
    --wrap="valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --suppressions=$PWD/tools/valgrind.supp --trace-children=yes --trace-children-skip=*/python3*,*/openssl,*/gnutls-serv,*/gnutls-cli,*/ip,*/tc -q"

# The benchmarks in their short mode, so that they cannot rot (figures, not pass/fail:
# docs/performance.md has the full run and its command).
python3 bench/run.py -C build --short
echo "all test runs passed"
