#!/usr/bin/env bash
# make bench-load: Propusk's hot endpoints against the yardstick in
# ../shared/bench (limit: the least a correct token server must do; loadgen:
# the load), side by side on one PostgreSQL, alternating Propusk, limit,
# Propusk, limit … with the same loadgen flags, as that README asks. Prints
# the ratio of median ok-rps (Propusk / limit) and both p99s per endpoint.
#
#   BENCH=../shared/bench ROUNDS=3 C=16 D=6s make bench-load
#
# Absolute figures on a shared machine are noise; the ratios of one run are
# the result. Not run by CI (it takes minutes and wants a quiet machine).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
BENCH=${BENCH:-$root/../shared/bench}
ROUNDS=${ROUNDS:-3}
C=${C:-16}
D=${D:-6s}
WARMUP=${WARMUP:-1s}

[ -d "$BENCH/limit" ] && [ -d "$BENCH/loadgen" ] ||
	{ echo "bench-load: no yardstick at $BENCH (set BENCH=…/shared/bench)" >&2; exit 1; }

work=$(mktemp -d /tmp/propusk-bench.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ -n "${PG_ADMIN:-}" ]; then
		psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS propusk_bench_p" -c "DROP DATABASE IF EXISTS propusk_bench_l" >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

echo "bench-load: building propusk, limit and loadgen" >&2
go build -o "$work/propusk" ./cmd/propusk
(cd "$BENCH/limit" && go build -o "$work/limit" .)
(cd "$BENCH/loadgen" && go build -o "$work/loadgen" .)

# Two fresh databases on the same server: the machine's PostgreSQL (started
# if needed, as the test suite does).
. .ci/postgres.sh
pg_ensure_server
PG_ADMIN="postgres://postgres@$PG_HOST:$PG_PORT/postgres?sslmode=disable"
for d in propusk_bench_p propusk_bench_l; do
	psql -q "$PG_ADMIN" -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $d" -c "CREATE DATABASE $d" >/dev/null
done
PDB="postgres://postgres@$PG_HOST:$PG_PORT/propusk_bench_p?sslmode=disable"
LDB="postgres://postgres@$PG_HOST:$PG_PORT/propusk_bench_l?sslmode=disable"

PROPUSK_SECRETS_KEY=$("$work/propusk" secrets-key)
export PROPUSK_SECRETS_KEY
"$work/propusk" migrate --database "$PDB" >/dev/null
out=$("$work/propusk" clients create --database "$PDB" --name perf \
	--grant-type client_credentials --scope openid)
id=$(awk '/^client_id:/ {print $2}' <<<"$out")
secret=$(awk '/^client_secret:/ {print $2}' <<<"$out")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)); }
pport=$(free_port)
lport=$(free_port)
"$work/propusk" serve --database "$PDB" --addr "127.0.0.1:$pport" --log-level error >"$work/propusk.log" 2>&1 &
pids+=($!)
ppid=$!
"$work/limit" -addr "127.0.0.1:$lport" -database "$LDB" -client-id perf -client-secret limit-secret-0123456789abcdef0123456789abcdef -scope openid >"$work/limit.log" 2>&1 &
pids+=($!)
lpid=$!
for url in "http://127.0.0.1:$pport/readyz" "http://127.0.0.1:$lport/jwks"; do
	for _ in $(seq 50); do curl -fs -o /dev/null "$url" && break; sleep 0.2; done
	curl -fs -o /dev/null "$url" || { echo "bench-load: $url does not answer" >&2; cat "$work"/*.log >&2; exit 1; }
done

P="http://127.0.0.1:$pport"
L="http://127.0.0.1:$lport"
LSECRET=limit-secret-0123456789abcdef0123456789abcdef
run() { # label server-pid loadgen-args… → one loadgen line
	local label=$1 pid=$2
	shift 2
	"$work/loadgen" -c "$C" -d "$D" -warmup "$WARMUP" -label "$label" -cpu "server=$pid" "$@"
}
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
median() { sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

declare -A rps p99 errs
measure() { # endpoint side pid args…
	local ep=$1 side=$2 pid=$3 line
	shift 3
	line=$(run "$ep/$side" "$pid" "$@" 2>>"$work/loadgen.err")
	echo "  $line" >&2
	rps[$ep/$side]+="$(field rps <<<"$line") "
	p99[$ep/$side]+="$(field p99 <<<"$line") "
	errs[$ep/$side]=$(( ${errs[$ep/$side]:-0} + $(field errors <<<"$line") ))
}

for round in $(seq "$ROUNDS"); do
	echo "bench-load: round $round of $ROUNDS (c=$C, d=$D)" >&2
	measure client_credentials propusk "$ppid" -mode cc -url "$P/oauth2/token" -client-id "$id" -client-secret "$secret"
	measure client_credentials limit "$lpid" -mode cc -url "$L/token" -client-id perf -client-secret "$LSECRET"
	measure introspection propusk "$ppid" -mode introspect -token-url "$P/oauth2/token" -url "$P/oauth2/introspect" \
		-client-id "$id" -client-secret "$secret" -introspect-auth basic
	measure introspection limit "$lpid" -mode introspect -token-url "$L/token" -url "$L/introspect" \
		-client-id perf -client-secret "$LSECRET" -introspect-auth basic
	measure jwks propusk "$ppid" -mode get -url "$P/.well-known/jwks.json"
	measure jwks limit "$lpid" -mode get -url "$L/jwks"
	measure discovery propusk "$ppid" -mode get -url "$P/.well-known/openid-configuration"
done

echo
printf '%-20s %12s %12s %8s %10s %10s %8s %s\n' endpoint "propusk rps" "limit rps" ratio "p99 (ms)" "limit p99" "p99 ×" "target"
row() { # endpoint limit-endpoint target
	local ep=$1 lep=$2 target=$3 pr lr pp lp
	pr=$(tr ' ' '\n' <<<"${rps[$ep/propusk]}" | grep . | median)
	lr=$(tr ' ' '\n' <<<"${rps[$lep/limit]}" | grep . | median)
	pp=$(tr ' ' '\n' <<<"${p99[$ep/propusk]}" | grep . | median)
	lp=$(tr ' ' '\n' <<<"${p99[$lep/limit]}" | grep . | median)
	awk -v ep="$ep" -v pr="$pr" -v lr="$lr" -v pp="$pp" -v lp="$lp" -v t="$target" -v e="${errs[$ep/propusk]:-0}" \
		'BEGIN {printf "%-20s %12.0f %12.0f %8.2f %10.2f %10.2f %8.2f %s%s\n", ep, pr, lr, pr/lr, pp, lp, pp/lp, t, (e > 0 ? "  (" e " errors)" : "")}'
}
row client_credentials client_credentials "rps ≥ 0.8 × limit, p99 ≤ 2 × limit's"
row introspection introspection "rps ≥ 0.8 × limit, p99 ≤ 2 × limit's"
row jwks jwks "rps ≥ 0.8 × limit's JWKS"
row discovery jwks "rps ≥ 0.8 × limit's JWKS"
echo "(medians of $ROUNDS alternating rounds; loadgen -c $C -d $D -warmup $WARMUP; one PostgreSQL at $PG_HOST:$PG_PORT)"
