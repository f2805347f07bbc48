#!/usr/bin/env bash
# A short echo workload (test/fixtures/valgrind-echo.js) under valgrind's
# memcheck, against the normal build of the addon (build/Release, or the file
# named by ASYNCORE_NATIVE_PATH). Fails on any invalid read or write, invalid
# free, or overlapping copy that memcheck reports.
#
# Node is a poor valgrind guest: V8 generates code at run time and plays
# tricks with uninitialised memory. So node runs --jitless (the interpreter
# only; no run-time code to confuse valgrind), definedness errors are off
# (--undef-value-errors=no: V8's false positives would drown everything else)
# and so is leak checking (Node leaks on purpose at exit). What remains is
# what matters for the addon: out-of-bounds and use-after-free accesses.
#
#   VALGRIND_ROUNDS=20 bash scripts/valgrind-smoke.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v valgrind >/dev/null; then
  echo "valgrind-smoke: valgrind is not installed (apt-get install valgrind)" >&2
  exit 1
fi
[ -f dist/lib/index.js ] || npx tsc -p tsconfig.json
start=$(date +%s)
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
valgrind --tool=memcheck --error-exitcode=1 --undef-value-errors=no --leak-check=no \
  --smc-check=all-non-file --trace-children=no --num-callers=30 --log-file="$log" \
  node --jitless test/fixtures/valgrind-echo.js
status=$?
set -e
grep -E '^==[0-9]+== (Invalid|Mismatched|Source and destination overlap|Process terminating|ERROR SUMMARY)' "$log" | sort | uniq -c | head -20 || true
if [ "$status" != 0 ]; then
  echo "valgrind-smoke: FAILED (exit $status); the report:" >&2
  head -200 "$log" >&2
  exit 1
fi
echo "valgrind-smoke: clean, $(( $(date +%s) - start )) s"
