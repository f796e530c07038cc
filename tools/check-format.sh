#!/bin/sh
# Fails if any C file differs from what clang-format (with .clang-format) would write.
set -eu
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find include src archive samples tests bench fuzz -name '*.[ch]' 2>/dev/null)
[ -n "$files" ] || exit 0
clang-format --dry-run --Werror $files
echo "format: $(echo "$files" | wc -w) files clean"
