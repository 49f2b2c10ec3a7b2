package sweeper_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/propusk/propusk/internal/clock"
	"github.com/propusk/propusk/internal/seal"
	"github.com/propusk/propusk/internal/sweeper"
	"github.com/propusk/propusk/internal/testdb"
	"github.com/propusk/propusk/oauth"
	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/store/sqlite"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// sweepAt is when the tests sweep: long enough after t0 for a key retired
// at t0+1h to be past oauth.DefaultRetiredKept.
var sweepAt = t0.Add(40 * 24 * time.Hour)

const sessionIdle = 12 * time.Hour

func openDB(t *testing.T) *sqlite.DB {
	t.Helper()
	ctx := t.Context()
	db := testdb.SQLite(t)
	must(t, db.CreateAccount(ctx, store.Account{ID: "acc", Username: "anna", Kind: "foreign_national",
		Assurance: "confirmed", Citizenships: []string{}, CreatedAt: t0, UpdatedAt: t0}))
	must(t, db.CreateClient(ctx, store.Client{ID: "rp", Name: "RP", RedirectURIs: []string{"https://rp.example/cb"},
		PostLogoutRedirectURIs: []string{}, GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid"},
		TokenEndpointAuthMethod: "client_secret_basic", SecretHash: []byte{1}, IDTokenSigningAlg: "ES256",
		AccessTokenFormat: "opaque", CreatedAt: t0, UpdatedAt: t0}))
	return db
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// row is one stored row and how to tell whether it is still there.
type row struct {
	name    string
	expired bool
	present func(ctx context.Context) (bool, error)
}

func found(err error) (bool, error) {
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// fill stores, for every kind the sweeper handles, rows expired at sweepAt
// and rows still live then, and returns them.
func fill(t *testing.T, db *sqlite.DB) []row {
	t.Helper()
	ctx := t.Context()
	var rows []row
	// How long before (negative: after) sweepAt each row expires.
	expired := []time.Duration{time.Microsecond, time.Second, time.Hour, 10 * 24 * time.Hour, 39 * 24 * time.Hour}
	live := []time.Duration{-time.Microsecond, -time.Hour}

	kinds := []string{store.OAuthCode, store.OAuthAccess, store.OAuthRefresh, store.OAuthPKCE, store.OAuthOIDC, store.OAuthPAR}
	i := 0
	add := func(ago time.Duration, isExpired bool) {
		i++
		kind, sig := kinds[i%len(kinds)], fmt.Sprintf("sig-%d", i)
		must(t, db.CreateOAuthRecord(ctx, store.OAuthRecord{Kind: kind, Signature: sig, RequestID: "req", ClientID: "rp",
			Active: true, RequestedAt: t0, ExpiresAt: sweepAt.Add(-ago), Data: []byte("{}")}))
		rows = append(rows, row{"oauth " + sig, isExpired, func(ctx context.Context) (bool, error) {
			_, err := db.GetOAuthRecord(ctx, kind, sig)
			return found(err)
		}})

		jti := fmt.Sprintf("jti-%d", i)
		must(t, db.UseClientAssertion(ctx, jti, sweepAt.Add(-ago), t0))
		rows = append(rows, row{"assertion " + jti, isExpired, func(ctx context.Context) (bool, error) {
			_, err := db.ClientAssertionExpiry(ctx, jti)
			return found(err)
		}})

		fid := fmt.Sprintf("flow-%d", i)
		must(t, db.CreateFlow(ctx, store.Flow{ID: fid, State: "login", ClientID: "rp", Request: []byte("sealed"),
			CreatedAt: t0, UpdatedAt: t0, ExpiresAt: sweepAt.Add(-ago)}))
		rows = append(rows, row{"flow " + fid, isExpired, func(ctx context.Context) (bool, error) {
			_, err := db.GetFlow(ctx, fid)
			return found(err)
		}})

		// A throttle window that ends ago before sweepAt; it started an
		// hour before that.
		key, start := fmt.Sprintf("login:account:u%d", i), sweepAt.Add(-ago-time.Hour)
		if _, err := db.HitThrottle(ctx, key, start, time.Hour); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row{"throttle " + key, isExpired, func(ctx context.Context) (bool, error) {
			n, _, err := db.ThrottleCount(ctx, key, start) // while the window was open
			return n > 0, err
		}})
	}
	for _, ago := range expired {
		add(ago, true)
	}
	for _, ago := range live {
		add(ago, false)
	}

	session := func(name string, lastSeenAgo, expiresAgo time.Duration, isExpired bool) {
		must(t, db.CreateBrowserSession(ctx, store.BrowserSession{ID: "id-" + name, PublicID: "sid-" + name,
			AccountID: "acc", AuthTime: t0, AMR: []string{"pwd"}, CreatedAt: t0,
			LastSeenAt: sweepAt.Add(-lastSeenAgo), ExpiresAt: sweepAt.Add(-expiresAgo)}))
		rows = append(rows, row{"session " + name, isExpired, func(ctx context.Context) (bool, error) {
			_, err := db.GetBrowserSession(ctx, "id-"+name)
			return found(err)
		}})
	}
	// Past the absolute lifetime though used a minute ago.
	session("absolute-1", time.Minute, time.Microsecond, true)
	session("absolute-2", time.Minute, time.Hour, true)
	session("absolute-3", time.Minute, 20*24*time.Hour, true)
	// Within the absolute lifetime but idle too long.
	session("idle-1", sessionIdle+time.Microsecond, -24*time.Hour, true)
	session("idle-2", 3*sessionIdle, -24*time.Hour, true)
	// Live: used recently enough, not past the lifetime.
	session("live-1", sessionIdle-time.Microsecond, -time.Microsecond, false)
	session("live-2", time.Minute, -7*24*time.Hour, false)
	return rows
}

func check(t *testing.T, rows []row) {
	t.Helper()
	for _, r := range rows {
		ok, err := r.present(t.Context())
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		if ok == r.expired {
			t.Errorf("%s (expired %v): present after the sweep = %v", r.name, r.expired, ok)
		}
	}
}

func countExpired(rows []row) int {
	n := 0
	for _, r := range rows {
		if r.expired {
			n++
		}
	}
	return n
}

func newKeySet(t *testing.T, db *sqlite.DB, clk *clock.Fake) *oauth.KeySet {
	t.Helper()
	k := make([]byte, seal.KeySize)
	for i := range k {
		k[i] = byte(i + 1)
	}
	ring, err := seal.NewRing(k)
	must(t, err)
	return &oauth.KeySet{Store: db, Ring: ring, Clock: clk.Now}
}

func keyIDs(t *testing.T, db *sqlite.DB) []string {
	t.Helper()
	keys, err := db.ListSigningKeys(t.Context())
	must(t, err)
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	slices.Sort(ids)
	return ids
}

func TestSweepRemovesExactlyTheExpired(t *testing.T) {
	db := openDB(t)
	clk := clock.NewFake(t0)

	// Keys: one ES256 key retired at t0+1h (long past keeping at sweepAt),
	// its successor and the RS256 key, both current.
	keys := newKeySet(t, db, clk)
	must(t, keys.Ensure(t.Context()))
	before := keyIDs(t, db)
	clk.Set(t0.Add(time.Hour))
	next, err := keys.Rotate(t.Context(), oauth.AlgES256, 0)
	must(t, err)
	all, err := db.ListSigningKeys(t.Context())
	must(t, err)
	var retired string
	for _, k := range all {
		if k.Algorithm == oauth.AlgES256 && k.ID != next {
			retired = k.ID
		}
	}
	if retired == "" || len(before) != 2 {
		t.Fatalf("keys before rotation %v, after %d", before, len(all))
	}

	rows := fill(t, db)
	clk.Set(sweepAt)
	s := &sweeper.Sweeper{Store: db, Keys: keys, Batch: 2, SessionIdle: sessionIdle, Clock: clk.Now}
	n, err := s.Sweep(t.Context())
	must(t, err)
	if want := countExpired(rows) + 1; n != want {
		t.Errorf("Sweep removed %d, want %d (expired rows and one key)", n, want)
	}
	check(t, rows)
	if ids := keyIDs(t, db); slices.Contains(ids, retired) || len(ids) != 2 || !slices.Contains(ids, next) {
		t.Errorf("keys after the sweep %v: want the retired %s gone and %s kept", ids, retired, next)
	}

	// Nothing is left to remove.
	if n, err := s.Sweep(t.Context()); err != nil || n != 0 {
		t.Errorf("second Sweep = %d, %v; want 0", n, err)
	}
	check(t, rows)
}

func TestSweepDefaultBatchAndNoIdleTimeout(t *testing.T) {
	db := openDB(t)
	rows := fill(t, db)
	// Without SessionIdle, idle sessions within their lifetime stay.
	for i := range rows {
		if rows[i].name == "session idle-1" || rows[i].name == "session idle-2" {
			rows[i].expired = false
		}
	}
	s := &sweeper.Sweeper{Store: db, Clock: func() time.Time { return sweepAt }}
	n, err := s.Sweep(t.Context())
	must(t, err)
	if want := countExpired(rows); n != want {
		t.Errorf("Sweep removed %d, want %d", n, want)
	}
	check(t, rows)
}

func TestSweepEarlyKeepsEverything(t *testing.T) {
	db := openDB(t)
	rows := fill(t, db)
	clk := clock.NewFake(t0)
	keys := newKeySet(t, db, clk)
	must(t, keys.Ensure(t.Context()))
	clk.Set(t0.Add(time.Hour))
	_, err := keys.Rotate(t.Context(), oauth.AlgES256, 0)
	must(t, err)
	// Before anything expired (the earliest row ends 39 days before
	// sweepAt) and while the retired key is still kept.
	clk.Set(sweepAt.Add(-39*24*time.Hour - time.Hour))
	for i := range rows {
		rows[i].expired = false
	}
	s := &sweeper.Sweeper{Store: db, Keys: keys, Batch: 2, SessionIdle: 45 * 24 * time.Hour, Clock: clk.Now}
	n, err := s.Sweep(t.Context())
	if err != nil || n != 0 {
		t.Fatalf("Sweep = %d, %v; want 0", n, err)
	}
	check(t, rows)
	if ids := keyIDs(t, db); len(ids) != 3 {
		t.Fatalf("keys %v: a retired key went before its keep period", ids)
	}
}

// pruner is a KeyPruner that reports fixed results and counts its calls.
type pruner struct {
	gone  []string
	err   error
	calls int
}

func (p *pruner) Prune(context.Context) ([]string, error) {
	p.calls++
	return p.gone, p.err
}

func TestSweepPruneResults(t *testing.T) {
	db := openDB(t)
	rows := fill(t, db)
	boom := errors.New("boom")
	p := &pruner{gone: []string{"k1"}, err: boom}
	s := &sweeper.Sweeper{Store: db, Keys: p, Batch: 3, SessionIdle: sessionIdle, Clock: func() time.Time { return sweepAt }}
	n, err := s.Sweep(t.Context())
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the pruner's", err)
	}
	if want := countExpired(rows) + 1; n != want || p.calls != 1 {
		t.Fatalf("removed %d after %d prunes, want %d after 1", n, p.calls, want)
	}
	check(t, rows)
}

func TestSweepCancelled(t *testing.T) {
	db := openDB(t)
	rows := fill(t, db)
	for i := range rows {
		rows[i].expired = false
	}
	p := &pruner{}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	s := &sweeper.Sweeper{Store: db, Keys: p, SessionIdle: sessionIdle, Clock: func() time.Time { return sweepAt }}
	n, err := s.Sweep(ctx)
	if !errors.Is(err, context.Canceled) || n != 0 {
		t.Fatalf("Sweep = %d, %v; want 0, context.Canceled", n, err)
	}
	if p.calls != 0 {
		t.Error("a cancelled sweep pruned keys")
	}
	check(t, rows)
}

// records is a slog.Handler that passes every record's message on.
type records chan string

func (r records) Enabled(context.Context, slog.Level) bool { return true }
func (r records) Handle(_ context.Context, rec slog.Record) error {
	select {
	case r <- rec.Message:
	default:
	}
	return nil
}
func (r records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r records) WithGroup(string) slog.Handler      { return r }

func waitFor(t *testing.T, what string, ch <-chan string, want string) {
	t.Helper()
	select {
	case got := <-ch:
		if got != want {
			t.Fatalf("logged %q, want %q", got, want)
		}
	case <-time.After(30 * time.Second): // a deadlock guard, not a clock
		t.Fatalf("no %s", what)
	}
}

func TestRunSweepsAtOnceAndStopsWhenCancelled(t *testing.T) {
	db := openDB(t)
	rows := fill(t, db)
	logs := make(records, 16)
	s := &sweeper.Sweeper{Store: db, Logger: slog.New(logs), Interval: time.Hour, SessionIdle: sessionIdle,
		Clock: func() time.Time { return sweepAt }}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	waitFor(t, "log of the first sweep", logs, "swept expired rows")
	check(t, rows)
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // a deadlock guard, not a clock
		t.Fatal("Run did not return after its context was cancelled")
	}
}

func TestRunLogsFailureAndStops(t *testing.T) {
	db := openDB(t)
	must(t, db.Close()) // every sweep now fails
	logs := make(records, 16)
	s := &sweeper.Sweeper{Store: db, Logger: slog.New(logs), Interval: time.Hour, Clock: func() time.Time { return sweepAt }}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	waitFor(t, "log of the failed sweep", logs, "sweep failed")
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // a deadlock guard, not a clock
		t.Fatal("Run did not return after its context was cancelled")
	}
}

func TestRunCancelledBeforeStart(t *testing.T) {
	db := openDB(t)
	logs := make(records, 16)
	s := &sweeper.Sweeper{Store: db, Logger: slog.New(logs)}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	s.Run(ctx) // returns at once
	select {
	case m := <-logs:
		t.Fatalf("logged %q for a sweep cancelled before it began", m)
	default:
	}
}
