# Sourced by test.sh: makes sure a PostgreSQL server answers and exports
# PROPUSK_TEST_POSTGRES pointing at a fresh database that is dropped on exit.
#
# Order: PROPUSK_TEST_POSTGRES as given → a server on 127.0.0.1:5432 →
# the machine's cluster started with pg_ctlcluster → a throw-away cluster
# made with initdb in a temporary directory (installing Debian's postgresql
# package first when it is missing and we are root).

pg_log() { echo "postgres.sh: $*" >&2; }

pg_bin() { # find a PostgreSQL server binary
	local name=$1 p
	for p in /usr/lib/postgresql/*/bin/"$name"; do
		[ -x "$p" ] && { echo "$p"; return 0; }
	done
	command -v "$name"
}

pg_ensure_server() {
	PG_HOST=127.0.0.1 PG_PORT=5432
	if pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null; then return 0; fi

	if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
		local v
		for v in $(ls /etc/postgresql 2>/dev/null); do
			pg_log "starting cluster $v/main"
			pg_ctlcluster --skip-systemctl-redirect "$v" main start 2>/dev/null || true
		done
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			pg_isready -q -h "$PG_HOST" -p "$PG_PORT" && return 0
			sleep 1
		done
	fi

	if [ -z "$(pg_bin initdb)" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		pg_log "installing PostgreSQL from Debian's packages"
		if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2; then
			apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 || true
		fi
	fi
	local initdb pg_ctl
	initdb=$(pg_bin initdb) pg_ctl=$(pg_bin pg_ctl)
	if [ -z "$initdb" ] || [ -z "$pg_ctl" ]; then
		pg_log "no PostgreSQL server found and none could be installed"
		return 1
	fi
	PG_TMP=$(mktemp -d /tmp/propusk-pg.XXXXXX)
	PG_PORT=55432
	local as=()
	if [ "$(id -u)" = 0 ]; then # initdb refuses to run as root
		id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
		chown postgres "$PG_TMP"
		as=(runuser -u postgres --)
	fi
	pg_log "starting a temporary cluster in $PG_TMP on port $PG_PORT"
	"${as[@]}" "$initdb" -D "$PG_TMP/data" -U postgres --auth=trust -E UTF8 >/dev/null || return 1
	"${as[@]}" "$pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/log" -w \
		-o "-p $PG_PORT -k $PG_TMP -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null || return 1
	PG_STOP=("${as[@]}" "$pg_ctl" -D "$PG_TMP/data" -m immediate stop)
}

pg_cleanup() {
	if [ -n "${PG_DB:-}" ]; then
		dropdb --if-exists -h "$PG_HOST" -p "$PG_PORT" -U postgres "$PG_DB" 2>/dev/null || true
	fi
	if [ -n "${PG_STOP:-}" ]; then
		"${PG_STOP[@]}" >/dev/null 2>&1 || true
		rm -rf "$PG_TMP"
	fi
}

pg_setup() {
	pg_ensure_server || return 1
	PG_DB="propusk_test_$(date +%s)_$$"
	createdb -h "$PG_HOST" -p "$PG_PORT" -U postgres "$PG_DB" || return 1
	trap pg_cleanup EXIT
	export PROPUSK_TEST_POSTGRES="postgres://postgres@$PG_HOST:$PG_PORT/$PG_DB?sslmode=disable"
	pg_log "testing against $PROPUSK_TEST_POSTGRES"
}
