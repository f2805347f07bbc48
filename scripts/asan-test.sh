#!/usr/bin/env bash
# Run the raw-layer tests against an AddressSanitizer + UndefinedBehaviorSanitizer
# build of the addon, and fail on any sanitizer report.
#
#   bash scripts/asan-test.sh                      # the raw-layer test files (test/native-*.test.ts, socket-api, fuzz)
#   bash scripts/asan-test.sh --all                # the whole jest suite
#   bash scripts/asan-test.sh [--all] -- <args>    # more jest arguments (e.g. --json --outputFile=x,
#                                                  # or, with --all, a file filter of your own)
#
# The sanitized addon is built by `npm run build:asan` into build-asan/ (so
# build/Release, which everyone else's tests load, is left alone) and loaded
# through ASYNCORE_NATIVE_PATH (see lib/native.ts). Node itself is not built
# with ASan, so the ASan runtime is preloaded (LD_PRELOAD) into node and into
# every process it starts (jest workers, the fuzz child); leak detection is
# off because Node leaks on purpose at exit. Reports go to per-process log
# files, so one from a worker or a child process is not lost.
#
# Environment: ASAN_SKIP_BUILD=1 reuses an existing build-asan/ build.
set -euo pipefail
cd "$(dirname "$0")/.."
export npm_config_nodedir="${npm_config_nodedir:-/usr}"

mode=native
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --all) mode=all ;;
    --) shift; extra=("$@"); break ;;
    *) echo "usage: $0 [--all] [-- jest args]" >&2; exit 2 ;;
  esac
  shift
done

cxx="${CXX:-g++}"
libasan="$("$cxx" -print-file-name=libasan.so)"
if [ ! -e "$libasan" ]; then
  # -print-file-name echoes the bare name when it finds nothing.
  echo "asan-test: no ASan runtime for $cxx (on Debian: apt-get install g++ libasan8)" >&2
  exit 1
fi

start=$(date +%s)
addon="$PWD/build-asan/Release/asyncore.node"
if [ "${ASAN_SKIP_BUILD:-0}" != 1 ] || [ ! -f "$addon" ]; then
  npm run --silent build:asan >build-asan.log 2>&1 || { cat build-asan.log >&2; echo "asan-test: sanitizer build failed" >&2; exit 1; }
  rm -f build-asan.log
fi
# The fuzz child and the SIGPIPE child run the compiled library.
npx tsc -p tsconfig.json

logdir="$(mktemp -d)"
trap 'rm -rf "$logdir"' EXIT

jest_args=()
if [ "$mode" = native ]; then
  jest_args=(test/native-socket.test.ts test/native-readiness.test.ts test/native-args.test.ts test/native-fdleak.test.ts test/socket-api.test.ts test/fuzz-native.test.ts)
fi
jest_args+=(${extra[@]+"${extra[@]}"})

set +e
ASYNCORE_NATIVE_PATH="$addon" \
LD_PRELOAD="$libasan${LD_PRELOAD:+:$LD_PRELOAD}" \
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:log_path=$logdir/asan:log_exe_name=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logdir/ubsan${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
  npx jest --ci ${jest_args[@]+"${jest_args[@]}"} 2>&1 | tee "$logdir/jest.out"
status=${PIPESTATUS[0]}
set -e

reports=$(find "$logdir" -name 'asan*' -o -name 'ubsan*' | sort)
bad=0
if [ -n "$reports" ]; then
  echo "asan-test: sanitizer reports:" >&2
  for f in $reports; do echo "==== $f" >&2; cat "$f" >&2; done
  bad=1
fi
if grep -qE 'ERROR: AddressSanitizer|runtime error:|UndefinedBehaviorSanitizer' "$logdir/jest.out"; then
  echo "asan-test: a sanitizer report appeared in the test output" >&2
  bad=1
fi
echo "asan-test: jest exit $status, sanitizer reports: $([ $bad = 0 ] && echo none || echo FOUND), $(( $(date +%s) - start )) s"
[ "$status" = 0 ] && [ "$bad" = 0 ]
