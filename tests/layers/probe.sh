#!/usr/bin/env bash
# probe.sh CXX INCLUDES_FILE FORBIDDEN ALLOWED: a file including FORBIDDEN must not compile with
# the include directories in INCLUDES_FILE (one per line), failing on that very header; the
# same file including ALLOWED must compile.
set -u
cxx=$1 includes=$2 forbidden=$3 allowed=$4
flags=()
while IFS= read -r dir; do [ -n "$dir" ] && flags+=("-I$dir"); done <"$includes"
[ ${#flags[@]} -gt 0 ] || { echo "FAIL: no include directories in $includes"; exit 1; }
compile() { printf '#include "%s"\nint main() { return 0; }\n' "$1" |
            "$cxx" -std=gnu++20 -fsyntax-only -x c++ "${flags[@]}" - 2>&1; }
out=$(compile "$allowed") || { echo "FAIL: the allowed header $allowed does not compile:"; echo "$out"; exit 1; }
if out=$(compile "$forbidden"); then
    echo "FAIL: $forbidden compiles with these include directories: ${flags[*]}"
    exit 1
fi
grep -q "$forbidden: No such file or directory" <<<"$out" || { echo "FAIL: not the expected error:"; echo "$out"; exit 1; }
echo "ok: $forbidden is out of reach (${flags[*]})"
