package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/propusk/propusk/migrations"
	"github.com/propusk/propusk/migrations/migratetest"
	"github.com/propusk/propusk/store"
)

// MigratableStore is a backend handle the migration tests drive.
type MigratableStore interface {
	store.Store
	store.Migrator
	// ExecScript runs SQL text in one transaction (seeding).
	ExecScript(ctx context.Context, script string) error
}

// OpenEmpty returns n independent handles (separate connection pools) on one
// fresh, empty, unmigrated database.
type OpenEmpty func(t *testing.T, n int) []MigratableStore

// RunMigrationTests checks the backend's migration runner against the
// embedded files of dialect.
func RunMigrationTests(t *testing.T, dialect string, open OpenEmpty) {
	latest := migrations.Latest(migrations.MustLoad(dialect))

	t.Run("StepByStepSeedsSurvive", func(t *testing.T) {
		db := open(t, 1)[0]
		v, err := db.SchemaVersion(ctx(t))
		must(t, err, "version of empty database")
		equal(t, v, 0, "empty database version")
		for step := 1; step <= latest; step++ {
			must(t, db.MigrateTo(ctx(t), step), fmt.Sprintf("migrate to %d", step))
			v, err := db.SchemaVersion(ctx(t))
			must(t, err, "version")
			equal(t, v, step, "version after step")
			if seed := migratetest.Seed(dialect, step); seed != "" {
				must(t, db.ExecScript(ctx(t), seed), fmt.Sprintf("seed %d", step))
			}
		}
		must(t, db.Migrate(ctx(t)), "migrate again (nothing to do)")
		a, err := db.GetAccount(ctx(t), "seed-account-0001")
		must(t, err, "seeded account")
		equal(t, a.Citizenships, []string{"RU"}, "seeded account citizenships")
		c, err := db.GetClient(ctx(t), "seed-client-0002")
		must(t, err, "seeded client")
		equal(t, c.RedirectURIs, []string{"https://rp.example/cb"}, "seeded client redirect URIs")
		equal(t, []any{c.IDTokenSigningAlg, c.RequirePAR, c.AccessTokenFormat}, []any{"ES256", false, "opaque"}, "seeded client gets the option defaults")
		_, err = db.GetServerSecret(ctx(t), "seed-secret-0003")
		must(t, err, "seeded server secret")
		r, err := db.GetOAuthRecord(ctx(t), store.OAuthAccess, "seed-signature-0004")
		must(t, err, "seeded oauth record")
		equal(t, r.Active, true, "seeded oauth record active by default")
		_, err = db.ClientAssertionExpiry(ctx(t), "seed-jti-0004")
		must(t, err, "seeded client assertion")
		lf, err := db.GetFlow(ctx(t), "seed-flow-0009")
		must(t, err, "seeded local flow")
		equal(t, []string{lf.ClientID, lf.ReturnTo}, []string{"", "/account"}, "seeded local flow")
		keys, err := db.ListSigningKeys(ctx(t))
		must(t, err, "seeded signing key")
		equal(t, len(keys), 1, "seeded signing keys")
		f, err := db.GetFlow(ctx(t), "seed-flow-0006")
		must(t, err, "seeded flow")
		equal(t, f.AMR, []string{}, "seeded flow AMR empty by default")
		if !f.AuthTime.IsZero() {
			t.Fatalf("seeded flow auth time = %v, want zero", f.AuthTime)
		}
		bs, err := db.GetBrowserSessionByPublicID(ctx(t), "seed-sid-0006")
		must(t, err, "seeded browser session")
		equal(t, bs.AMR, []string{"pwd"}, "seeded browser session AMR")
		consent, err := db.GetConsent(ctx(t), "seed-account-0001", "seed-client-0002")
		must(t, err, "seeded consent")
		equal(t, consent.Scopes, []string{"openid"}, "seeded consent scopes")
		n, _, err := db.ThrottleCount(ctx(t), "seed-throttle-0006", time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC))
		must(t, err, "seeded throttle")
		equal(t, n, 3, "seeded throttle count")
		pause := func(int) time.Duration { return time.Minute }
		turn, err := db.HitThrottleSpaced(ctx(t), "seed-throttle-0006", time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), time.Hour, pause)
		must(t, err, "spaced hit on a throttle from before 0014")
		equal(t, []any{turn.Counted, turn.Count}, []any{true, 4}, "spaced hit on a throttle from before 0014")
		turn, err = db.HitThrottleSpaced(ctx(t), "seed-throttle-0014", time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), time.Hour, pause)
		must(t, err, "spaced hit on a seeded pause")
		equal(t, []any{turn.Counted, turn.Count, turn.NextAt}, []any{false, 6, time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)}, "seeded pause")
		auth, err := db.GetAuthenticator(ctx(t), "seed-authenticator-0008")
		must(t, err, "seeded authenticator")
		equal(t, []any{auth.AccountID, auth.Secret, auth.ConfirmedAt.IsZero(), auth.LastUsedAt.IsZero()},
			[]any{"seed-account-0001", []byte{1}, false, true}, "seeded authenticator")
		mfa, err := db.GetMFAState(ctx(t), "seed-account-0001")
		must(t, err, "seeded mfa state")
		equal(t, []any{mfa.LastStep, mfa.Failures, mfa.TotalFailures, mfa.LockedUntil.IsZero()},
			[]any{int64(58907520), 1, 2, true}, "seeded mfa state")
		n, err = db.CountRecoveryCodes(ctx(t), "seed-account-0001")
		must(t, err, "seeded recovery codes")
		equal(t, n, 1, "seeded recovery codes")
		events, err := db.ListAudit(ctx(t), store.AuditFilter{AccountID: "seed-account-0001"})
		must(t, err, "seeded audit events")
		equal(t, len(events), 1, "seeded audit events")
		equal(t, []any{events[0].Type, events[0].Details}, []any{"mfa.enrolled", map[string]string{"authenticator": "seed-authenticator-0008"}},
			"seeded audit event")
	})
	t.Run("RefusesNewerSchema", func(t *testing.T) {
		db := open(t, 1)[0]
		must(t, db.Migrate(ctx(t)), "migrate")
		must(t, db.ExecScript(ctx(t), fmt.Sprintf(
			"INSERT INTO schema_migrations (version, name, applied_at) VALUES (%d, 'from_the_future', %s)",
			latest+1, map[string]string{migrations.Postgres: "now()", migrations.SQLite: "0"}[dialect])), "fake a newer schema")
		err := db.Migrate(ctx(t))
		if !errors.Is(err, migrations.ErrSchemaTooNew) {
			t.Fatalf("migrate a newer database: err = %v, want ErrSchemaTooNew", err)
		}
	})
	t.Run("ConcurrentStartsMigrateOnce", func(t *testing.T) {
		dbs := open(t, 2)
		var wg sync.WaitGroup
		errs := make([]error, len(dbs))
		for i, db := range dbs {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = db.Migrate(ctx(t)) }()
		}
		wg.Wait()
		for _, err := range errs {
			must(t, err, "concurrent migrate")
		}
		v, err := dbs[0].SchemaVersion(ctx(t))
		must(t, err, "version")
		equal(t, v, latest, "version")
	})
}
