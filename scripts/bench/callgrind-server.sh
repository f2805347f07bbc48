#!/usr/bin/env bash
# The library's own (user-space) instructions per operation in the real echo
# server under load: servers/asyncore-server.js runs under valgrind's
# callgrind, the load generator drives it, and only a window in the middle of
# the run is counted (callgrind_control -z at its start, -d at its end), so
# start-up and JIT warm-up stay out. Instruction counts do not depend on the
# machine's noise; the server runs ~50x slower under valgrind, so every pass
# finds more work than at full speed (compare figures of this script with
# each other, not with `npm run bench`).
#
#   scripts/bench/callgrind-server.sh OUT MODE CONNS [server args...]
#   scripts/bench/callgrind-server.sh /tmp/cg pingpong 100 --backend epoll
#   scripts/bench/callgrind-server.sh /tmp/cg churn 32 --backend epoll --async
#
# Prints the instructions per round trip / connection / stream echo (counted
# from the calls into send() in the dump) and leaves the
# dump (OUT.1) for callgrind_annotate. Needs valgrind, dist/ (npm run build)
# and bench/bin/loadgen (npm run bench builds it). NODE_FLAGS are passed to
# node (default --predictable: no concurrent compilation or GC threads, so
# that two runs count the same); WARMUP and SECONDS_MEASURED set the phases (6 and 10 s).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$1 mode=$2 conns=$3
shift 3
warmup=${WARMUP:-6}
secs=${SECONDS_MEASURED:-10}
loadgen=${LOADGEN:-$root/bench/bin/loadgen}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -f "$out" "$out".*

# shellcheck disable=SC2086
valgrind --tool=callgrind --callgrind-out-file="$out" node ${NODE_FLAGS:---predictable} \
  "$here/servers/asyncore-server.js" "$@" >"$tmp/port" 2>"$tmp/valgrind.log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 600); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(head -1 "$tmp/port")
[ -n "$port" ] || { echo "the server did not start:" >&2; tail -5 "$tmp/valgrind.log" >&2; exit 1; }

"$loadgen" --port "$port" --mode "$mode" --conns "$conns" --warmup "$warmup" --duration "$secs" \
  --connect-timeout 60 >"$tmp/load.json" &
gen=$!
# the generator's window starts after connecting and warming up; count from a second later
sleep $((warmup + 1))
callgrind_control -z "$server" >/dev/null 2>&1
sleep $((secs - 1))
callgrind_control -d "$server" >/dev/null 2>&1
wait "$gen" || true
kill "$server" 2>/dev/null || true
wait "$server" 2>/dev/null || true

python3 - "$out.1" "$tmp/load.json" <<'PY'
import json, re, sys
# Exact counts from the dump itself: instructions, and the calls into libc's
# send() (one per echo: per round trip, per connection; per recv for stream)
# and into the wait (epoll_wait/poll/select: one per pass).
dump, load = sys.argv[1], json.load(open(sys.argv[2]))
total, names, cur, calls = 0, {}, None, {'send': 0, 'wait': 0}
kinds = {'send': 'send', 'epoll_wait': 'wait', 'poll': 'wait', 'select': 'wait', '__poll': 'wait', '__select': 'wait'}
for line in open(dump, errors='replace'):
    if line.startswith(('summary:', 'totals:')):
        total = max(total, int(line.split()[1]))
    elif line.startswith(('fn=', 'cfn=')):
        m = re.match(r'c?fn=\((\d+)\)(?: (.*))?', line.strip())
        if m:
            if m.group(2): names[m.group(1)] = m.group(2)
            if line.startswith('cfn='): cur = kinds.get(names.get(m.group(1)))
    elif line.startswith('calls=') and cur:
        calls[cur] += int(line.split()[0][6:])
unit = {'stream': 'recv+send', 'churn': 'connection'}.get(load['mode'], 'round trip')
ok = 'ok' if load.get('ok') else 'NOT ok (see the generator JSON)'
s, w = calls['send'], calls['wait']
print(f"{total / s:,.0f} instructions per {unit} ({total:,} over {s:,} sends and {w:,} passes, "
      f"{s / w if w else 0:.1f} per pass; run {ok}); dump: {dump}" if s else f"no send() counted; dump: {dump}")
PY
