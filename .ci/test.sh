#!/usr/bin/env bash
# The whole test suite: vet and staticcheck, then every test with the race detector, on
# SQLite and PostgreSQL. `make test` runs this; so does CI (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${PROPUSK_TEST_POSTGRES:-}" ]; then
	. .ci/postgres.sh
	if ! pg_setup; then
		if [ "${CI:-}" = true ]; then
			echo "test.sh: PostgreSQL is required under CI=true" >&2
			exit 1
		fi
		echo "test.sh: no PostgreSQL: its tests will be skipped (CI fails instead)" >&2
	fi
fi

# openid-client (npm), for the interoperability tests, from the committed
# lock file; without Node.js those tests skip locally and fail under CI=true.
if command -v npm >/dev/null && [ ! -d interop/openid-client/node_modules/openid-client ]; then
	(cd interop/openid-client && npm ci --no-audit --no-fund --silent) ||
		echo "test.sh: npm ci failed in interop/openid-client" >&2
fi

go vet ./...
go tool staticcheck ./... # pinned in go.mod's tool block
go test -race -count=1 -timeout 15m ./...
