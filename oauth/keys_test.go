package oauth

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/propusk/propusk/internal/seal"
	"github.com/propusk/propusk/internal/testdb"
	"github.com/propusk/propusk/store"
)

func testRing(t *testing.T) *seal.Ring {
	t.Helper()
	k := make([]byte, 32)
	rand.Read(k)
	r, err := seal.NewRing(k)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func kids(t *testing.T, ks *KeySet) []string {
	t.Helper()
	set, err := ks.Published(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range set.Keys {
		if !k.IsPublic() {
			t.Fatalf("JWKS publishes a private key: %s", k.KeyID)
		}
		out = append(out, k.KeyID)
	}
	return out
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func TestKeyRotationLifecycle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
		ring := testRing(t)
		node := func() *KeySet { return &KeySet{Store: db, Ring: ring, Clock: func() time.Time { return now }} }
		ks := node()
		ctx := t.Context()
		if err := ks.Ensure(ctx); err != nil {
			t.Fatal(err)
		}
		if err := node().Ensure(ctx); err != nil { // a second node starting: no new keys
			t.Fatal(err)
		}
		es1, err := ks.Current(ctx, AlgES256)
		if err != nil {
			t.Fatal(err)
		}
		rs1, err := ks.Current(ctx, AlgRS256)
		if err != nil {
			t.Fatal(err)
		}
		if got := kids(t, ks); len(got) != 2 || !contains(got, es1.KeyID) || !contains(got, rs1.KeyID) {
			t.Fatalf("published after Ensure: %v", got)
		}

		es2, err := ks.Rotate(ctx, AlgES256, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if cur, _ := node().Current(ctx, AlgES256); cur.KeyID != es1.KeyID {
			t.Fatal("a rotated-in key signs before its publish-ahead period is over")
		}
		if !contains(kids(t, node()), es2) {
			t.Fatal("the next key is not published ahead")
		}

		now = now.Add(time.Hour)
		for _, n := range []*KeySet{ks, node()} { // every node agrees
			if cur, _ := n.Current(ctx, AlgES256); cur.KeyID != es2 {
				t.Fatalf("after the publish-ahead period the signing key is %s, want %s", cur.KeyID, es2)
			}
		}
		if !contains(kids(t, ks), es1.KeyID) {
			t.Fatal("the retired key left the JWKS while tokens it signed may live")
		}
		if cur, _ := ks.Current(ctx, AlgRS256); cur.KeyID != rs1.KeyID {
			t.Fatal("rotating ES256 changed the RS256 key")
		}

		now = now.Add(DefaultRetiredPublished + time.Minute)
		if contains(kids(t, ks), es1.KeyID) {
			t.Fatal("a long-retired key is still published")
		}
		if _, ok, err := ks.Verifier(ctx, es1.KeyID); err != nil || !ok {
			t.Fatalf("a retired key no longer verifies id_token_hint: ok=%v err=%v", ok, err)
		}
		if gone, err := ks.Prune(ctx); err != nil || len(gone) != 0 {
			t.Fatalf("pruned too early: %v %v", gone, err)
		}

		now = now.Add(DefaultRetiredKept)
		gone, err := ks.Prune(ctx)
		if err != nil || len(gone) != 1 || gone[0] != es1.KeyID {
			t.Fatalf("prune = %v, %v; want [%s]", gone, err, es1.KeyID)
		}
		if _, ok, _ := ks.Verifier(ctx, es1.KeyID); ok {
			t.Fatal("pruned key still verifies")
		}
		v3, err := ks.FositeSigningKey(ctx, AlgES256)
		if err != nil || v3.KeyID != es2 || v3.IsPublic() {
			t.Fatalf("fosite signing key: kid %q public %v err %v", v3.KeyID, v3.IsPublic(), err)
		}
	})
}

func TestKeysNeedTheRightSecretsKey(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ks := &KeySet{Store: db, Ring: testRing(t)}
		if err := ks.Ensure(t.Context()); err != nil {
			t.Fatal(err)
		}
		other := &KeySet{Store: db, Ring: testRing(t)}
		if _, err := other.Current(t.Context(), AlgES256); !errors.Is(err, seal.ErrUnknownKey) {
			t.Fatalf("keys opened with another secrets key: err = %v", err)
		}
		stored, _ := db.ListSigningKeys(t.Context())
		for _, k := range stored {
			if len(k.Private) == 0 || string(k.Private[:1]) == "{" {
				t.Fatalf("private key %s stored in the clear", k.ID)
			}
		}
		if _, err := ks.Rotate(t.Context(), "HS256", 0); err == nil {
			t.Fatal("rotation to an unsupported algorithm accepted")
		}
	})
}

// blindFirstList is a store whose first ListSigningKeys sees no keys, as a
// node does that lists just before another node's first key is stored.
type blindFirstList struct {
	backendDB
	listed bool
}

func (b *blindFirstList) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	if !b.listed {
		b.listed = true
		return nil, nil
	}
	return b.backendDB.ListSigningKeys(ctx)
}

// Two nodes starting at once on an empty database both create keys; the
// later one withdraws its own, so every node signs with the key all of
// them publish.
func TestEnsureRaceKeepsOneKey(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := t.Context()
		ring := testRing(t)
		t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
		first := &KeySet{Store: db, Ring: ring, Clock: func() time.Time { return t0 }}
		if err := first.Ensure(ctx); err != nil {
			t.Fatal(err)
		}
		late := &KeySet{Store: &blindFirstList{backendDB: db}, Ring: ring, Clock: func() time.Time { return t0.Add(time.Millisecond) }}
		if err := late.Ensure(ctx); err != nil {
			t.Fatal(err)
		}
		all, err := db.ListSigningKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != len(SigningAlgorithms) {
			t.Fatalf("%d keys after a racing start, want one per algorithm (%d)", len(all), len(SigningAlgorithms))
		}
		for _, alg := range SigningAlgorithms {
			a, err := first.Current(ctx, alg)
			if err != nil {
				t.Fatal(err)
			}
			b, err := late.Current(ctx, alg)
			if err != nil {
				t.Fatal(err)
			}
			if a.KeyID != b.KeyID {
				t.Fatalf("%s: the nodes sign with %s and %s", alg, a.KeyID, b.KeyID)
			}
		}
	})
}

// The JWKS handler serves one shared encoding to every request at once:
// none may write into it (run with -race).
func TestJWKSServedConcurrently(t *testing.T) {
	ks := &KeySet{Store: testdb.SQLite(t), Ring: testRing(t)}
	if err := ks.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	h := &Handler{Keys: ks, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	want := ""
	var wg sync.WaitGroup
	bodies := make([]string, 8)
	for i := range bodies {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			h.jwks(rec, httptest.NewRequest(http.MethodGet, PathJWKS, nil))
			bodies[i] = rec.Body.String()
		})
	}
	wg.Wait()
	for i, b := range bodies {
		if i == 0 {
			want = b
		}
		if b != want || !strings.HasSuffix(b, "}\n") {
			t.Fatalf("body %d differs or lacks its newline: %q", i, b)
		}
	}
}
