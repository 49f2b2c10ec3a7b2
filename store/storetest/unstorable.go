package storetest

import (
	"fmt"
	"testing"

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
