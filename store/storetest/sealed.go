package storetest

import (
	"fmt"
	"testing"

	"github.com/propusk/propusk/store"
)

// testSealedValues: every table of store.SealedColumns lists its sealed
// values by the row key its seal is bound to, in order and in pages, and a
// value is replaced only where it still holds the old one.
func testSealedValues(t *testing.T, newStore NewStore) {
	s := withAccounts(t, newStore)
	must(t, s.CreateClient(ctx(t), sampleClient("card")), "create client")
	must(t, s.CreateServerSecret(ctx(t), store.ServerSecret{Name: "token-hmac", Sealed: []byte("s1"), CreatedAt: now, UpdatedAt: now}), "server secret")
	must(t, s.CreateSigningKey(ctx(t), store.SigningKey{ID: "kid-1", Algorithm: "ES256", Private: []byte("k1"), Public: []byte(`{}`), CreatedAt: now, SignFrom: now}), "signing key")
	a := sampleAuthenticator("auth-1", "a1")
	a.Secret = []byte("a1")
	must(t, s.CreateAuthenticator(ctx(t), a), "authenticator")
	for i := range 3 {
		r := sampleRecord(store.OAuthRefresh, fmt.Sprint("sig-", i), "req")
		r.Data = []byte(fmt.Sprint("r", i))
		must(t, s.CreateOAuthRecord(ctx(t), r), "oauth record")
	}
	f := sampleFlow("flow-1")
	f.Request = []byte("f1")
	must(t, s.CreateFlow(ctx(t), f), "flow")

	want := map[string][]store.SealedValue{
		"server_secrets": {{Table: "server_secrets", Column: "sealed", Row: "token-hmac", Sealed: []byte("s1")}},
		"signing_keys":   {{Table: "signing_keys", Column: "private", Row: "kid-1", Sealed: []byte("k1")}},
		"authenticators": {{Table: "authenticators", Column: "secret", Row: "auth-1", Sealed: []byte("a1")}},
		"oauth_records": {
			{Table: "oauth_records", Column: "data", Row: "refresh:sig-0", Sealed: []byte("r0")},
			{Table: "oauth_records", Column: "data", Row: "refresh:sig-1", Sealed: []byte("r1")},
			{Table: "oauth_records", Column: "data", Row: "refresh:sig-2", Sealed: []byte("r2")},
		},
		"flows": {{Table: "flows", Column: "request", Row: "flow-1", Sealed: []byte("f1")}},
	}
	equal(t, len(want), len(store.SealedColumns), "every sealed table is tested")
	for table, rows := range want {
		got, err := s.ListSealed(ctx(t), table, "", 100)
		must(t, err, "list "+table)
		equal(t, got, rows, table)
	}
	// Pages.
	page, err := s.ListSealed(ctx(t), "oauth_records", "", 2)
	must(t, err, "first page")
	equal(t, len(page), 2, "first page")
	page, err = s.ListSealed(ctx(t), "oauth_records", page[1].Row, 2)
	must(t, err, "second page")
	equal(t, page, want["oauth_records"][2:], "second page")
	if _, err := s.ListSealed(ctx(t), "accounts", "", 10); err == nil {
		t.Fatal("listed sealed values of a table without any")
	}

	// Replace only over the old value.
	v := want["oauth_records"][1]
	v.Sealed = []byte("resealed")
	must(t, s.ReplaceSealed(ctx(t), v, []byte("r1")), "replace")
	wantErr(t, s.ReplaceSealed(ctx(t), v, []byte("r1")), store.ErrNotFound, "replace over a changed value")
	r, err := s.GetOAuthRecord(ctx(t), store.OAuthRefresh, "sig-1")
	must(t, err, "get")
	equal(t, r.Data, []byte("resealed"), "replaced value")
	k := want["signing_keys"][0]
	k.Sealed = []byte("k1 new")
	must(t, s.ReplaceSealed(ctx(t), k, []byte("k1")), "replace a key")
	keys, err := s.ListSigningKeys(ctx(t))
	must(t, err, "list keys")
	equal(t, keys[0].Private, []byte("k1 new"), "replaced key")
	gone := want["flows"][0]
	gone.Row = "no-such-flow"
	wantErr(t, s.ReplaceSealed(ctx(t), gone, []byte("f1")), store.ErrNotFound, "replace in a missing row")
}
