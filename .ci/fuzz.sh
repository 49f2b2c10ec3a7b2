#!/usr/bin/env bash
# Runs every fuzz target (func FuzzXxx in a *_test.go file) for a short
# while, one after the other, and stops at the first failure. Plain `go test`
# already replays each target's seeds and testdata/fuzz corpus; this script
# looks for new failures.
#
#   FUZZTIME      how much to fuzz each target: a count of inputs such as
#                 5000x (default 20000x), or a duration such as 10s
#   FUZZPARALLEL  fuzzing workers per target (default: go test's, GOMAXPROCS)
#   FUZZ_RUN      only run targets whose name matches this extended regexp
#
# Slow start, not a hang: with -fuzz, go test rebuilds the package and every
# dependency (the standard library, modernc.org/sqlite, pgx, fosite, …) with
# coverage instrumentation, and prints nothing while it does. On a cold
# GOCACHE that takes minutes for the oauth and cmd/propusk packages; the
# instrumented builds are cached afterwards. So each package is first built
# on its own, with a message, and only then fuzzed for FUZZTIME.
#
# Why a count and not a duration by default: Go 1.26's fuzz coordinator
# turns a duration into a context deadline and can report that deadline
# itself as a failure ("context deadline exceeded", no input written) when
# a worker is mid-call as it expires (golang/go#75804, fixed in Go 1.27).
# A count sets no deadline, so only a real failing input fails the run.
#
# A failing input is written to <package>/testdata/fuzz/<FuzzName>/; commit
# it with the fix so that plain `go test` keeps checking it.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null; then
	export PATH="$PATH:/usr/local/go/bin"
fi

fuzztime=${FUZZTIME:-20000x}
parallel=()
if [ -n "${FUZZPARALLEL:-}" ]; then
	parallel=(-parallel "$FUZZPARALLEL")
fi

# "./pkg FuzzName" lines, in a stable order.
targets=$(grep -rE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . |
	sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\(.*#\1 \2#' |
	grep -Ev '^\./(\.|vendor/)' |
	LC_ALL=C sort -u)
if [ -n "${FUZZ_RUN:-}" ]; then
	targets=$(grep -E " (${FUZZ_RUN})$" <<<"$targets" || true)
fi
if [ -z "$targets" ]; then
	echo "fuzz.sh: no fuzz targets found" >&2
	exit 1
fi

n=$(wc -l <<<"$targets")
echo "fuzz.sh: $n targets, $fuzztime each:"
sed 's/^/  /' <<<"$targets"

start=$SECONDS
built=""
while read -r pkg name; do
	if [[ " $built " != *" $pkg "* ]]; then
		echo "fuzz.sh: building $pkg with fuzzing instrumentation (minutes on a cold cache)"
		t=$SECONDS
		go test -c -o /dev/null -fuzz "^${name}\$" "$pkg" </dev/null
		echo "fuzz.sh: built $pkg in $((SECONDS - t))s"
		built="$built $pkg"
	fi
	cmd=(go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "${parallel[@]}" "$pkg")
	echo "+ ${cmd[*]}"
	t=$SECONDS
	if ! "${cmd[@]}" </dev/null; then
		echo "fuzz.sh: $name in $pkg FAILED after $((SECONDS - t))s; the input is in $pkg/testdata/fuzz/$name/" >&2
		exit 1
	fi
	echo "fuzz.sh: $name passed in $((SECONDS - t))s"
done <<<"$targets"
echo "fuzz.sh: all $n targets passed in $((SECONDS - start))s"
