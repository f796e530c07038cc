#!/bin/sh
# Fuzzes one target with libFuzzer for a while and reports what happened.
#
# Usage: tools/fuzz.sh TARGET SECONDS [libFuzzer option...]
#   TARGET   records       the record framer, fed in chunks (fuzz/fuzz-records.c)
#            socket-file   CArchive over a CSocketFile, both formats, objects (fuzz/fuzz-socket-file.c)
#            archive-load  CArchive loading from memory and streams (fuzz/fuzz-archive-load.c)
#   SECONDS  how long to fuzz at most (the option -runs=N stops it after N executions)
#
# Builds the target with clang, libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer in
# build-fuzz/ (FUZZ_BUILD=dir to choose another), starting from the checked-in seed corpus
# fuzz/corpus/TARGET. New inputs that reach new code go to build-fuzz/fuzz-work/TARGET/new
# (not checked in). A crash, leak, timeout or out-of-memory input is copied into
# fuzz/corpus/TARGET as regression-KIND-HASH, where the plain corpus test (meson test
# --suite fuzz) runs it from then on; the script then exits with status 1.
#
# Needs clang and libclang-rt-14-dev (apt-get install -y clang libclang-rt-14-dev).
set -eu
cd "$(dirname "$0")/.."

usage() {
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[ $# -ge 2 ] || usage
target=$1
seconds=$2
shift 2
case $target in
    records | socket-file) extra="-malloc_limit_mb=64" ;;
    archive-load) extra="-dict=fuzz/archive.dict" ;;
    *) usage ;;
esac
case $seconds in
    '' | *[!0-9]*) usage ;;
esac

build=${FUZZ_BUILD:-build-fuzz}
corpus=fuzz/corpus/$target
work=$build/fuzz-work/$target
binary=$build/fuzz/fuzz-$target-libfuzzer

command -v clang >/dev/null || { echo "fuzz.sh: clang is not installed" >&2; exit 2; }
if [ ! -f "$build/build.ninja" ]; then
    CC=clang meson setup "$build" -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
mkdir -p "$work/new" "$work/artifacts"
if ! meson compile -C "$build" "fuzz/fuzz-$target-libfuzzer" >"$work/build.log" 2>&1; then
    tail -n 20 "$work/build.log" >&2
    echo "fuzz.sh: building fuzz/fuzz-$target-libfuzzer failed (log: $work/build.log)" >&2
    exit 2
fi
[ -x "$binary" ] || { echo "fuzz.sh: $binary was not built (is libFuzzer installed?)" >&2; exit 2; }

rm -f "$work/artifacts/"*
log=$work/fuzz.log
before=$(find "$work/new" -type f | wc -l)

status=0
# shellcheck disable=SC2086 # $extra is one or no option
"$binary" -max_total_time="$seconds" -timeout=20 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" $extra "$@" "$work/new" "$corpus" >"$log" 2>&1 || status=$?

executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | sed 's/cov: //')
new_inputs=$(($(find "$work/new" -type f | wc -l) - before))
findings=0
for artifact in "$work/artifacts/"*; do
    [ -f "$artifact" ] || continue
    findings=$((findings + 1))
    kind=$(basename "$artifact" | sed 's/-.*//')
    hash=$(sha1sum "$artifact" | cut -c1-16)
    cp "$artifact" "$corpus/regression-$kind-$hash"
    echo "finding: $kind, kept as $corpus/regression-$kind-$hash"
done

echo "target $target: ${executions:-0} executions in ${took:-$seconds} s (${rate:-0}/s), coverage ${coverage:-?} edges, ${new_inputs} new inputs, ${findings} findings (libFuzzer exit status ${status})"
echo "log: $log"
if [ "$findings" -gt 0 ] || [ "$status" -ne 0 ]; then
    grep -m 5 -E '^==[0-9]+==|ERROR|fuzz-records:|fuzz-socket-file:|fuzz-transport:|Assertion' "$log" >&2 || true
    exit 1
fi
