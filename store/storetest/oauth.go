package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/propusk/propusk/store"
)

func sampleRecord(kind, sig, requestID string) store.OAuthRecord {
	return store.OAuthRecord{
		Kind: kind, Signature: sig, RequestID: requestID, ClientID: "card",
		Subject: "a1", SessionID: "sso-1", Active: true,
		RequestedAt: now, ExpiresAt: now.Add(time.Hour), Data: []byte("sealed request"),
	}
}

// withClient returns a store holding the client "card" that records refer to.
func withClient(t *testing.T, newStore NewStore) store.Store {
	s := newStore(t)
	must(t, s.CreateClient(ctx(t), sampleClient("card")), "create client")
	return s
}

func testOAuthRecords(t *testing.T, newStore NewStore) {
	t.Run("CreateGetDelete", func(t *testing.T) {
		s := withClient(t, newStore)
		for _, kind := range []string{store.OAuthCode, store.OAuthAccess, store.OAuthRefresh, store.OAuthPKCE, store.OAuthOIDC, store.OAuthPAR} {
			r := sampleRecord(kind, "sig-"+kind, "req-1")
			if kind == store.OAuthRefresh {
				r.AccessSignature = "sig-access"
			}
			must(t, s.CreateOAuthRecord(ctx(t), r), "create "+kind)
			got, err := s.GetOAuthRecord(ctx(t), kind, r.Signature)
			must(t, err, "get "+kind)
			equal(t, got, r, "round trip "+kind)
		}
		wantErr(t, s.CreateOAuthRecord(ctx(t), sampleRecord(store.OAuthCode, "sig-code", "req-2")), store.ErrAlreadyExists, "same kind and signature")
		must(t, s.CreateOAuthRecord(ctx(t), sampleRecord(store.OAuthAccess, "sig-code", "req-1")), "same signature, other kind")
		_, err := s.GetOAuthRecord(ctx(t), store.OAuthAccess, "sig-refresh")
		wantErr(t, err, store.ErrNotFound, "signature of another kind")

		must(t, s.DeleteOAuthRecord(ctx(t), store.OAuthCode, "sig-code"), "delete")
		_, err = s.GetOAuthRecord(ctx(t), store.OAuthCode, "sig-code")
		wantErr(t, err, store.ErrNotFound, "get deleted")
		wantErr(t, s.DeleteOAuthRecord(ctx(t), store.OAuthCode, "sig-code"), store.ErrNotFound, "delete twice")
	})
	t.Run("DeactivateIsSingleUse", func(t *testing.T) {
		s := withClient(t, newStore)
		must(t, s.CreateOAuthRecord(ctx(t), sampleRecord(store.OAuthCode, "c1", "req-1")), "create")
		must(t, s.DeactivateOAuthRecord(ctx(t), store.OAuthCode, "c1"), "first use")
		wantErr(t, s.DeactivateOAuthRecord(ctx(t), store.OAuthCode, "c1"), store.ErrNotFound, "second use")
		got, err := s.GetOAuthRecord(ctx(t), store.OAuthCode, "c1")
		must(t, err, "inactive rows stay readable")
		if got.Active {
			t.Fatal("used code reads as active")
		}
		wantErr(t, s.DeactivateOAuthRecord(ctx(t), store.OAuthCode, "nope"), store.ErrNotFound, "unknown")
	})
	t.Run("ByRequest", func(t *testing.T) {
		s := withClient(t, newStore)
		for i, req := range []string{"req-1", "req-1", "req-1", "req-2"} {
			must(t, s.CreateOAuthRecord(ctx(t), sampleRecord(store.OAuthRefresh, fmt.Sprint("r", i), req)), "create refresh")
			must(t, s.CreateOAuthRecord(ctx(t), sampleRecord(store.OAuthAccess, fmt.Sprint("a", i), req)), "create access")
		}
		must(t, s.DeactivateOAuthRecord(ctx(t), store.OAuthRefresh, "r0"), "rotate one")
		n, err := s.DeactivateOAuthRecordsByRequest(ctx(t), store.OAuthRefresh, "req-1")
		must(t, err, "deactivate family")
		equal(t, n, 2, "active refresh tokens of req-1 deactivated")
		other, err := s.GetOAuthRecord(ctx(t), store.OAuthRefresh, "r3")
		must(t, err, "other family")
		if !other.Active {
			t.Fatal("another request's token was deactivated")
		}
		n, err = s.DeleteOAuthRecordsByRequest(ctx(t), store.OAuthAccess, "req-1")
		must(t, err, "delete access tokens")
		equal(t, n, 3, "access tokens of req-1 deleted")
		_, err = s.GetOAuthRecord(ctx(t), store.OAuthAccess, "a3")
		must(t, err, "other request's access token stays")
		_, err = s.GetOAuthRecord(ctx(t), store.OAuthRefresh, "r1")
		must(t, err, "refresh rows of another kind stay")
	})
	t.Run("DeactivateBySubject", func(t *testing.T) {
		s := withClient(t, newStore)
		kinds := []string{store.OAuthCode, store.OAuthAccess, store.OAuthRefresh, store.OAuthPKCE, store.OAuthOIDC, store.OAuthPAR}
		for _, kind := range kinds {
			must(t, s.CreateOAuthRecord(ctx(t), sampleRecord(kind, "mine-"+kind, "req-1")), "create "+kind)
			other := sampleRecord(kind, "other-"+kind, "req-2")
			other.Subject = "a2"
			must(t, s.CreateOAuthRecord(ctx(t), other), "create another subject's "+kind)
		}
		machine := sampleRecord(store.OAuthAccess, "machine", "req-3")
		machine.Subject = "" // a client_credentials token
		must(t, s.CreateOAuthRecord(ctx(t), machine), "create a client's own token")
		must(t, s.DeactivateOAuthRecord(ctx(t), store.OAuthRefresh, "mine-"+store.OAuthRefresh), "rotate one")

		n, err := s.DeactivateOAuthRecordsBySubject(ctx(t), "a1")
		must(t, err, "deactivate a1's grants")
		// Every kind turns inactive; the count is of codes and tokens only
		// (the code and the access token: the refresh token was rotated).
		equal(t, n, 2, "codes and tokens of a1 ended")
		for _, kind := range kinds {
			r, err := s.GetOAuthRecord(ctx(t), kind, "mine-"+kind)
			must(t, err, "get "+kind)
			if r.Active {
				t.Fatalf("a1's %s still active", kind)
			}
			r, err = s.GetOAuthRecord(ctx(t), kind, "other-"+kind)
			must(t, err, "get other "+kind)
			if !r.Active {
				t.Fatalf("another subject's %s deactivated", kind)
			}
		}
		n, err = s.DeactivateOAuthRecordsBySubject(ctx(t), "")
		must(t, err, "empty subject")
		equal(t, n, 0, "rows without a subject are never matched")
		n, err = s.DeactivateOAuthRecordsBySubject(ctx(t), "a1")
		must(t, err, "again")
		equal(t, n, 0, "second time")
	})
	t.Run("DeactivateBySubjectAndClient", func(t *testing.T) {
		s := withClient(t, newStore)
		must(t, s.CreateClient(ctx(t), sampleClient("mail")), "create another client")
		kinds := []string{store.OAuthCode, store.OAuthAccess, store.OAuthRefresh, store.OAuthPKCE, store.OAuthOIDC, store.OAuthPAR}
		for _, kind := range kinds {
			must(t, s.CreateOAuthRecord(ctx(t), sampleRecord(kind, "mine-"+kind, "req-1")), "create "+kind)
			other := sampleRecord(kind, "other-subject-"+kind, "req-2")
			other.Subject = "a2"
			must(t, s.CreateOAuthRecord(ctx(t), other), "create another subject's "+kind)
			other = sampleRecord(kind, "other-client-"+kind, "req-3")
			other.ClientID = "mail"
			must(t, s.CreateOAuthRecord(ctx(t), other), "create a1's "+kind+" for another client")
		}
		machine := sampleRecord(store.OAuthAccess, "machine", "req-4")
		machine.Subject = "" // a client_credentials token of card
		must(t, s.CreateOAuthRecord(ctx(t), machine), "create a client's own token")
		must(t, s.DeactivateOAuthRecord(ctx(t), store.OAuthRefresh, "mine-"+store.OAuthRefresh), "rotate one")

		n, err := s.DeactivateOAuthRecordsBySubjectAndClient(ctx(t), "a1", "card")
		must(t, err, "deactivate a1's grants to card")
		equal(t, n, 2, "codes and tokens of a1 and card ended (not PKCE, OIDC or PAR rows)")
		active := func(kind, sig string) bool {
			t.Helper()
			r, err := s.GetOAuthRecord(ctx(t), kind, sig)
			must(t, err, "get "+sig)
			return r.Active
		}
		for _, kind := range kinds {
			if active(kind, "mine-"+kind) {
				t.Fatalf("a1's %s for card still active", kind)
			}
			if !active(kind, "other-subject-"+kind) {
				t.Fatalf("another subject's %s deactivated", kind)
			}
			if !active(kind, "other-client-"+kind) {
				t.Fatalf("a1's %s for another client deactivated", kind)
			}
		}
		if !active(store.OAuthAccess, "machine") {
			t.Fatal("the client's own token deactivated")
		}
		n, err = s.DeactivateOAuthRecordsBySubjectAndClient(ctx(t), "", "card")
		must(t, err, "empty subject")
		equal(t, n, 0, "rows without a subject are never matched")
		n, err = s.DeactivateOAuthRecordsBySubjectAndClient(ctx(t), "a1", "card")
		must(t, err, "again")
		equal(t, n, 0, "second time")
		n, err = s.DeactivateOAuthRecordsBySubjectAndClient(ctx(t), "a1", "nobody")
		must(t, err, "unknown client")
		equal(t, n, 0, "unknown client")
	})
	t.Run("DeleteExpiredInBatches", func(t *testing.T) {
		s := withClient(t, newStore)
		for i := range 7 {
			r := sampleRecord(store.OAuthAccess, fmt.Sprint("old", i), "req")
			r.ExpiresAt = now.Add(-time.Minute)
			must(t, s.CreateOAuthRecord(ctx(t), r), "create expired")
		}
		must(t, s.CreateOAuthRecord(ctx(t), sampleRecord(store.OAuthAccess, "fresh", "req")), "create fresh")
		n, err := s.DeleteExpiredOAuthRecords(ctx(t), now, 5)
		must(t, err, "sweep")
		equal(t, n, 5, "first batch")
		n, err = s.DeleteExpiredOAuthRecords(ctx(t), now, 5)
		must(t, err, "sweep")
		equal(t, n, 2, "second batch")
		n, err = s.DeleteExpiredOAuthRecords(ctx(t), now, 5)
		must(t, err, "sweep")
		equal(t, n, 0, "nothing left")
		_, err = s.GetOAuthRecord(ctx(t), store.OAuthAccess, "fresh")
		must(t, err, "unexpired row kept")
	})
	t.Run("DeletingClientDeletesItsGrants", func(t *testing.T) {
		s := withClient(t, newStore)
		must(t, s.CreateOAuthRecord(ctx(t), sampleRecord(store.OAuthRefresh, "r1", "req")), "create")
		must(t, s.DeleteClient(ctx(t), "card"), "delete client")
		_, err := s.GetOAuthRecord(ctx(t), store.OAuthRefresh, "r1")
		wantErr(t, err, store.ErrNotFound, "grant of a deleted client")
	})
	t.Run("UnknownClientRefused", func(t *testing.T) {
		s := newStore(t)
		if err := s.CreateOAuthRecord(ctx(t), sampleRecord(store.OAuthAccess, "a", "req")); err == nil {
			t.Fatal("record for an unknown client was stored")
		}
	})
}

func testClientAssertions(t *testing.T, newStore NewStore) {
	s := newStore(t)
	_, err := s.ClientAssertionExpiry(ctx(t), "jti-1")
	wantErr(t, err, store.ErrNotFound, "unknown jti")
	must(t, s.UseClientAssertion(ctx(t), "jti-1", now.Add(time.Minute), now), "first use")
	exp, err := s.ClientAssertionExpiry(ctx(t), "jti-1")
	must(t, err, "expiry")
	equal(t, exp, now.Add(time.Minute), "expiry")
	wantErr(t, s.UseClientAssertion(ctx(t), "jti-1", now.Add(2*time.Minute), now.Add(30*time.Second)), store.ErrAlreadyExists, "replay before expiry")
	later := now.Add(2 * time.Minute)
	must(t, s.UseClientAssertion(ctx(t), "jti-1", later.Add(time.Minute), later), "reuse after the record expired")
	must(t, s.UseClientAssertion(ctx(t), "jti-2", now.Add(time.Second), now), "another jti")
	n, err := s.DeleteExpiredClientAssertions(ctx(t), later, 10)
	must(t, err, "sweep")
	equal(t, n, 1, "expired records removed")
	_, err = s.ClientAssertionExpiry(ctx(t), "jti-1")
	must(t, err, "unexpired record kept")
}

func testTxController(t *testing.T, newStore NewStore) {
	t.Run("CommitAndRollback", func(t *testing.T) {
		s := newStore(t)
		tctx, err := s.BeginTx(ctx(t))
		must(t, err, "begin")
		must(t, s.CreateAccount(tctx, sampleAccount("a1", "anna")), "create in tx")
		must(t, s.CommitTx(tctx), "commit")
		must(t, s.RollbackTx(tctx), "rollback after commit is a no-op")
		_, err = s.GetAccount(ctx(t), "a1")
		must(t, err, "committed")

		tctx, err = s.BeginTx(ctx(t))
		must(t, err, "begin")
		must(t, s.CreateAccount(tctx, sampleAccount("a2", "boris")), "create in tx")
		must(t, s.RollbackTx(tctx), "rollback")
		_, err = s.GetAccount(ctx(t), "a2")
		wantErr(t, err, store.ErrNotFound, "rolled back")
	})
	t.Run("JoinedLeavesEndingToOwner", func(t *testing.T) {
		s := newStore(t)
		outer, err := s.BeginTx(ctx(t))
		must(t, err, "begin outer")
		inner, err := s.BeginTx(outer)
		must(t, err, "begin inner (joins)")
		must(t, s.CreateAccount(inner, sampleAccount("a1", "anna")), "create")
		must(t, s.CommitTx(inner), "inner commit is the owner's")
		must(t, s.RollbackTx(outer), "outer rollback")
		_, err = s.GetAccount(ctx(t), "a1")
		wantErr(t, err, store.ErrNotFound, "inner work undone by the owner's rollback")
	})
}

func testOAuthConcurrency(t *testing.T, newStore NewStore) {
	t.Run("RedeemCodeOnce", func(t *testing.T) {
		s := withClient(t, newStore)
		must(t, s.CreateOAuthRecord(ctx(t), sampleRecord(store.OAuthCode, "c1", "req")), "create")
		errs := race(racers, func(int) error { return s.DeactivateOAuthRecord(ctx(t), store.OAuthCode, "c1") })
		countWins(t, errs, store.ErrNotFound, "redemptions of one code")
	})
	t.Run("RedeemCodeOnceInTransactions", func(t *testing.T) {
		// As fosite does it: deactivate the code and issue a token in one
		// transaction. Exactly one transaction may commit a token.
		s := withClient(t, newStore)
		must(t, s.CreateOAuthRecord(ctx(t), sampleRecord(store.OAuthCode, "c1", "req")), "create")
		errs := race(racers, func(i int) error {
			return s.InTx(ctx(t), func(ctx context.Context) error {
				if err := s.DeactivateOAuthRecord(ctx, store.OAuthCode, "c1"); err != nil {
					return err
				}
				return s.CreateOAuthRecord(ctx, sampleRecord(store.OAuthAccess, fmt.Sprint("a", i), "req"))
			})
		})
		countWins(t, errs, store.ErrNotFound, "transactions redeeming one code")
		n, err := s.DeleteOAuthRecordsByRequest(ctx(t), store.OAuthAccess, "req")
		must(t, err, "count tokens")
		equal(t, n, 1, "access tokens issued")
	})
	t.Run("ClientAssertionOnce", func(t *testing.T) {
		s := newStore(t)
		errs := race(racers, func(int) error {
			return s.UseClientAssertion(ctx(t), "jti", now.Add(time.Minute), now)
		})
		countWins(t, errs, store.ErrAlreadyExists, "uses of one client assertion")
	})
}

// countWins checks that exactly one call succeeded and every other failed
// with loser.
func countWins(t *testing.T, errs []error, loser error, what string) {
	t.Helper()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, loser) || errors.Is(err, store.ErrConflict):
		default:
			t.Errorf("%s: loser got %v, want %v", what, err, loser)
		}
	}
	if wins != 1 {
		t.Fatalf("%s: %d succeeded, want exactly 1", what, wins)
	}
}

func testSigningKeys(t *testing.T, newStore NewStore) {
	s := newStore(t)
	keys, err := s.ListSigningKeys(ctx(t))
	must(t, err, "list empty")
	equal(t, len(keys), 0, "no keys at first")
	k2 := store.SigningKey{ID: "k2", Algorithm: "ES256", Private: []byte{1}, Public: []byte(`{"kty":"EC"}`), CreatedAt: now, SignFrom: now.Add(time.Hour)}
	k1 := store.SigningKey{ID: "k1", Algorithm: "RS256", Private: []byte{2}, Public: []byte(`{"kty":"RSA"}`), CreatedAt: now, SignFrom: now}
	must(t, s.CreateSigningKey(ctx(t), k2), "create k2")
	must(t, s.CreateSigningKey(ctx(t), k1), "create k1")
	wantErr(t, s.CreateSigningKey(ctx(t), k1), store.ErrAlreadyExists, "same id")
	keys, err = s.ListSigningKeys(ctx(t))
	must(t, err, "list")
	equal(t, keys, []store.SigningKey{k1, k2}, "ordered by SignFrom")
	must(t, s.DeleteSigningKey(ctx(t), "k1"), "delete")
	wantErr(t, s.DeleteSigningKey(ctx(t), "k1"), store.ErrNotFound, "delete twice")
}
