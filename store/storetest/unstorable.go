package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/propusk/propusk/store"
)

// testUnstorableKeys: a key no row can have — invalid UTF-8 or a NUL byte,
// as a token, client ID, flow ID or username taken from a request may be —
// is simply not found, on every backend (PostgreSQL cannot even compare
// such text).
func testUnstorableKeys(t *testing.T, newStore NewStore) {
	s := newStore(t)
	for _, key := range []string{"sig\xff", "sig\x00", "\xc3"} {
		_, err := s.GetOAuthRecord(ctx(t), store.OAuthRefresh, key)
		wantErr(t, err, store.ErrNotFound, fmt.Sprintf("oauth record %q", key))
		wantErr(t, s.DeactivateOAuthRecord(ctx(t), store.OAuthRefresh, key), store.ErrNotFound, fmt.Sprintf("deactivate %q", key))
		_, err = s.GetFlow(ctx(t), key)
		wantErr(t, err, store.ErrNotFound, fmt.Sprintf("flow %q", key))
		_, err = s.GetClient(ctx(t), key)
		wantErr(t, err, store.ErrNotFound, fmt.Sprintf("client %q", key))
		_, err = s.GetAccountByUsername(ctx(t), key)
		wantErr(t, err, store.ErrNotFound, fmt.Sprintf("username %q", key))
		_, err = s.GetBrowserSessionByPublicID(ctx(t), key)
		wantErr(t, err, store.ErrNotFound, fmt.Sprintf("session %q", key))
	}
}

// testBatchSizes: a batch size that is not positive is refused on every
// backend (SQLite would read a negative LIMIT as none), and a zero time
// where one is required is refused on every backend.
func testBatchSizes(t *testing.T, newStore NewStore) {
	s := withClient(t, newStore)
	for _, n := range []int{0, -1} {
		if _, err := s.DeleteExpiredOAuthRecords(ctx(t), now, n); err == nil {
			t.Errorf("DeleteExpiredOAuthRecords with batch size %d succeeded", n)
		}
		if _, err := s.DeleteExpiredFlows(ctx(t), now, n); err == nil {
			t.Errorf("DeleteExpiredFlows with batch size %d succeeded", n)
		}
		if _, err := s.ListSealed(ctx(t), "flows", "", n); err == nil {
			t.Errorf("ListSealed with batch size %d succeeded", n)
		}
	}
	r := sampleRecord(store.OAuthAccess, "zero-time", "req")
	r.ExpiresAt = time.Time{}
	if err := s.CreateOAuthRecord(ctx(t), r); err == nil {
		t.Error("an OAuth record without an expiry was stored")
	}
	if err := s.CreateSigningKey(ctx(t), store.SigningKey{ID: "k", Algorithm: "ES256", Private: []byte{1}, Public: []byte(`{}`)}); err == nil {
		t.Error("a signing key without times was stored")
	}
}
