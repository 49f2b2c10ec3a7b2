package oauth

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/propusk/propusk/internal/testdb"
)

// Token requests for one person wait for that person's grant lock while
// holding a pooled connection each (Storage.BeginTX begins, then locks).
// While one holder is slow (a withdrawal over many rows, a commit waiting
// on a slow disk), a handful of that person's refreshes — a client's tabs,
// or an attacker refreshing its own many grants — take every connection of
// the pool (pgxpool's default: max(4, cores)), and a request that has
// nothing to do with that person waits for the lock too. The wait has no
// bound (no lock_timeout). The person's requests should queue without a
// connection (a per-process lock per subject before BeginTX), or the wait
// be bounded.
func TestGrantLockWaitersDoNotStallOthers(t *testing.T) {
	db := testdb.Postgres(t, "pool_max_conns=4")
	h := newHarness(t, db)
	var rts []string
	for range 3 {
		verifier, challenge := pkcePair()
		resp, err := h.exchange(h.authorize("openid offline_access", challenge), verifier)
		if err != nil {
			t.Fatal(rfcErr(err))
		}
		rts = append(rts, resp.ToMap()["refresh_token"].(string))
	}

	// account-1's lock, held by a transaction that is taking its time.
	held, release, holderDone := make(chan error, 1), make(chan struct{}), make(chan error, 1)
	go func() {
		holderDone <- db.InTx(context.Background(), func(ctx context.Context) error {
			err := db.LockGrants(ctx, "account-1")
			held <- err
			<-release
			return err
		})
	}()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	refreshed := make(chan error, len(rts))
	for _, rt := range rts {
		go func() { _, err := h.refresh(rt); refreshed <- err }()
	}
	time.Sleep(500 * time.Millisecond) // the refreshes reach the lock and wait

	other := make(chan error, 1)
	go func() {
		_, err := h.token(url.Values{"grant_type": {"client_credentials"}, "scope": {"profile"}})
		other <- err
	}()
	stalled := false
	select {
	case err := <-other:
		if err != nil {
			t.Errorf("client_credentials: %s", rfcErr(err))
		}
	case <-time.After(3 * time.Second):
		stalled = true
		t.Error("a client_credentials request, for no person, waited 3 s for account-1's grant lock: the person's waiting refreshes hold every pooled connection")
	}
	close(release)
	if err := <-holderDone; err != nil {
		t.Fatal(err)
	}
	for range rts {
		if err := <-refreshed; err != nil {
			t.Errorf("refresh after the lock was released: %s", rfcErr(err))
		}
	}
	if stalled {
		<-other
	}
}
