package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/propusk/propusk/store"
)

func sampleFlow(id string) store.Flow {
	return store.Flow{
		ID: id, State: "login", ClientID: "card",
		Request:  []byte("sealed authorization request"),
		CSRFHash: []byte{7, 7, 7}, BrowserHash: []byte{9, 9},
		AccountID: "a1", SessionID: "session-hash",
		AuthTime: now.Add(-time.Minute), AMR: []string{"pwd", "otp"}, ACR: "standard", Locale: "ru",
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(30 * time.Minute),
	}
}

// withAccountAndClient returns a store holding the account "a1" and the
// client "card" that flows, sessions and consents refer to.
func withAccountAndClient(t *testing.T, newStore NewStore) store.Store {
	s := withClient(t, newStore)
	must(t, s.CreateAccount(ctx(t), sampleAccount("a1", "anna")), "create account")
	return s
}

// execScript runs raw SQL on backends that offer it (both do), for setups
// the store API has no call for, such as deleting an account.
func execScript(t *testing.T, s store.Store, script string) {
	t.Helper()
	e, ok := s.(interface {
		ExecScript(ctx context.Context, script string) error
	})
	if !ok {
		t.Skip("backend cannot run SQL scripts")
	}
	must(t, e.ExecScript(ctx(t), script), script)
}

func testFlows(t *testing.T, newStore NewStore) {
	t.Run("CreateGet", func(t *testing.T) {
		s := withClient(t, newStore)
		f := sampleFlow("f1")
		roundTrip(t, s.CreateFlow, s.GetFlow, "f1", f)
	})
	t.Run("EmptyFieldsRoundTrip", func(t *testing.T) {
		// A flow before anyone signed in: no account, session, auth time,
		// AMR or ACR yet.
		s := withClient(t, newStore)
		f := store.Flow{ID: "f1", State: "new", ClientID: "card", Request: []byte{1}, AMR: []string{},
			CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Minute)}
		roundTrip(t, s.CreateFlow, s.GetFlow, "f1", f)
	})
	t.Run("DuplicateID", func(t *testing.T) {
		s := withClient(t, newStore)
		other := sampleFlow("f1")
		other.State = "other"
		firstKept(t, s.CreateFlow, s.GetFlow, "f1", sampleFlow("f1"), other)
	})
	t.Run("NotFound", func(t *testing.T) {
		s := withClient(t, newStore)
		_, err := s.GetFlow(ctx(t), "none")
		wantErr(t, err, store.ErrNotFound, "get")
		wantErr(t, s.DeleteFlow(ctx(t), "none"), store.ErrNotFound, "delete")
		called := false
		_, err = s.UpdateFlow(ctx(t), "none", func(f store.Flow) (store.Flow, error) { called = true; return f, nil })
		wantErr(t, err, store.ErrNotFound, "update")
		if called {
			t.Fatal("updater called for an unknown flow")
		}
	})
	t.Run("ExpiredStillReadable", func(t *testing.T) {
		s := withClient(t, newStore)
		f := sampleFlow("f1")
		f.ExpiresAt = now.Add(-time.Hour)
		must(t, s.CreateFlow(ctx(t), f), "create")
		got, err := s.GetFlow(ctx(t), "f1")
		must(t, err, "get expired flow")
		equal(t, got, f, "expired flow as stored")
	})
	t.Run("Update", func(t *testing.T) {
		s := withClient(t, newStore)
		must(t, s.CreateClient(ctx(t), sampleClient("entry")), "create second client")
		f := sampleFlow("f1")
		f.AccountID, f.SessionID, f.AuthTime, f.AMR, f.ACR, f.CSRFHash, f.BrowserHash = "", "", time.Time{}, []string{}, "", nil, nil
		must(t, s.CreateFlow(ctx(t), f), "create")
		later := now.Add(time.Minute)
		got, err := s.UpdateFlow(ctx(t), "f1", func(f store.Flow) (store.Flow, error) {
			f.ID = "hijacked" // ID and CreatedAt are immutable
			f.CreatedAt = later
			f.State = "consent"
			f.ClientID = "entry"
			f.Request = []byte("another request")
			f.CSRFHash, f.BrowserHash = []byte{8}, []byte{10}
			f.AccountID, f.SessionID = "a1", "s1"
			f.AuthTime, f.AMR, f.ACR, f.Locale = later, []string{"pwd"}, "simplified", "en"
			f.UpdatedAt, f.ExpiresAt = later, later.Add(time.Hour)
			return f, nil
		})
		must(t, err, "update")
		want := store.Flow{ID: "f1", State: "consent", ClientID: "entry", Request: []byte("another request"), CSRFHash: []byte{8}, BrowserHash: []byte{10},
			AccountID: "a1", SessionID: "s1", AuthTime: later, AMR: []string{"pwd"}, ACR: "simplified", Locale: "en",
			CreatedAt: now, UpdatedAt: later, ExpiresAt: later.Add(time.Hour)}
		equal(t, got, want, "returned value")
		read, err := s.GetFlow(ctx(t), "f1")
		must(t, err, "get")
		equal(t, read, want, "stored value")
		_, err = s.GetFlow(ctx(t), "hijacked")
		wantErr(t, err, store.ErrNotFound, "ID did not change")

		// Back to empty: cleared fields read back empty.
		got, err = s.UpdateFlow(ctx(t), "f1", func(f store.Flow) (store.Flow, error) {
			f.AccountID, f.SessionID, f.AuthTime, f.AMR, f.ACR, f.CSRFHash, f.BrowserHash = "", "", time.Time{}, []string{}, "", nil, nil
			return f, nil
		})
		must(t, err, "clear")
		read, err = s.GetFlow(ctx(t), "f1")
		must(t, err, "get")
		equal(t, read, got, "stored equals returned after clearing")
		if !read.AuthTime.IsZero() || read.CSRFHash != nil || read.BrowserHash != nil {
			t.Fatalf("cleared fields read back %v, %v, %v", read.AuthTime, read.CSRFHash, read.BrowserHash)
		}
	})
	t.Run("UpdateAbortsOnError", func(t *testing.T) {
		s := withClient(t, newStore)
		must(t, s.CreateFlow(ctx(t), sampleFlow("f1")), "create")
		boom := errors.New("boom")
		_, err := s.UpdateFlow(ctx(t), "f1", func(f store.Flow) (store.Flow, error) {
			f.State = "changed"
			return f, boom
		})
		wantErr(t, err, boom, "updater error returned unchanged")
		got, err := s.GetFlow(ctx(t), "f1")
		must(t, err, "get")
		equal(t, got, sampleFlow("f1"), "nothing written")
	})
	t.Run("Delete", func(t *testing.T) {
		s := withClient(t, newStore)
		must(t, s.CreateFlow(ctx(t), sampleFlow("f1")), "create")
		must(t, s.CreateFlow(ctx(t), sampleFlow("f2")), "create")
		must(t, s.DeleteFlow(ctx(t), "f1"), "delete")
		_, err := s.GetFlow(ctx(t), "f1")
		wantErr(t, err, store.ErrNotFound, "get deleted")
		wantErr(t, s.DeleteFlow(ctx(t), "f1"), store.ErrNotFound, "delete twice")
		_, err = s.GetFlow(ctx(t), "f2")
		must(t, err, "other flow kept")
	})
	t.Run("DeleteExpiredInBatches", func(t *testing.T) {
		s := withClient(t, newStore)
		for i := range 7 {
			f := sampleFlow(fmt.Sprint("old", i))
			f.ExpiresAt = now.Add(-time.Minute)
			must(t, s.CreateFlow(ctx(t), f), "create expired")
		}
		edge := sampleFlow("edge")
		edge.ExpiresAt = now // not before now: kept
		must(t, s.CreateFlow(ctx(t), edge), "create expiring now")
		must(t, s.CreateFlow(ctx(t), sampleFlow("fresh")), "create fresh")
		for _, want := range []int{5, 2, 0} {
			n, err := s.DeleteExpiredFlows(ctx(t), now, 5)
			must(t, err, "sweep")
			equal(t, n, want, "batch")
		}
		for _, id := range []string{"edge", "fresh"} {
			_, err := s.GetFlow(ctx(t), id)
			must(t, err, "unexpired flow kept: "+id)
		}
	})
	t.Run("DeletingClientDeletesItsFlows", func(t *testing.T) {
		s := withClient(t, newStore)
		must(t, s.CreateClient(ctx(t), sampleClient("entry")), "create second client")
		must(t, s.CreateFlow(ctx(t), sampleFlow("f1")), "create")
		other := sampleFlow("f2")
		other.ClientID = "entry"
		must(t, s.CreateFlow(ctx(t), other), "create")
		must(t, s.DeleteClient(ctx(t), "card"), "delete client")
		_, err := s.GetFlow(ctx(t), "f1")
		wantErr(t, err, store.ErrNotFound, "flow of a deleted client")
		_, err = s.GetFlow(ctx(t), "f2")
		must(t, err, "another client's flow kept")
	})
	t.Run("UnknownClientRefused", func(t *testing.T) {
		s := newStore(t)
		if err := s.CreateFlow(ctx(t), sampleFlow("f1")); err == nil {
			t.Fatal("flow for an unknown client was stored")
		}
	})
	t.Run("NoAccountNeeded", func(t *testing.T) {
		// account_id has no foreign key: a flow may name an account the
		// store has not seen (it is set at sign-in, by package flow).
		s := withClient(t, newStore)
		f := sampleFlow("f1")
		f.AccountID = "not-an-account"
		must(t, s.CreateFlow(ctx(t), f), "create")
	})
}

func sampleSession(id, publicID, accountID string) store.BrowserSession {
	return store.BrowserSession{
		ID: id, PublicID: publicID, AccountID: accountID,
		AuthTime: now.Add(-time.Second), AMR: []string{"pwd", "otp"}, ACR: "standard",
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", RemoteAddr: "192.0.2.10",
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(12 * time.Hour),
	}
}

func testBrowserSessions(t *testing.T, newStore NewStore) {
	t.Run("CreateGet", func(t *testing.T) {
		s := withAccountAndClient(t, newStore)
		bs := sampleSession("h1", "sid1", "a1")
		roundTrip(t, s.CreateBrowserSession, s.GetBrowserSession, "h1", bs)
		got, err := s.GetBrowserSessionByPublicID(ctx(t), "sid1")
		must(t, err, "get by public id")
		equal(t, got, bs, "round trip by public id")
	})
	t.Run("EmptyFieldsRoundTrip", func(t *testing.T) {
		s := withAccountAndClient(t, newStore)
		bs := store.BrowserSession{ID: "h1", PublicID: "sid1", AccountID: "a1", AuthTime: now, AMR: []string{},
			CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
		roundTrip(t, s.CreateBrowserSession, s.GetBrowserSession, "h1", bs)
	})
	t.Run("Duplicates", func(t *testing.T) {
		s := withAccountAndClient(t, newStore)
		must(t, s.CreateBrowserSession(ctx(t), sampleSession("h1", "sid1", "a1")), "create")
		wantErr(t, s.CreateBrowserSession(ctx(t), sampleSession("h1", "sid2", "a1")), store.ErrAlreadyExists, "same id")
		_, err := s.GetBrowserSessionByPublicID(ctx(t), "sid2")
		wantErr(t, err, store.ErrNotFound, "rejected row must not be written")
		wantErr(t, s.CreateBrowserSession(ctx(t), sampleSession("h2", "sid1", "a1")), store.ErrAlreadyExists, "same public id")
		_, err = s.GetBrowserSession(ctx(t), "h2")
		wantErr(t, err, store.ErrNotFound, "rejected row must not be written")
	})
	t.Run("NotFound", func(t *testing.T) {
		s := withAccountAndClient(t, newStore)
		_, err := s.GetBrowserSession(ctx(t), "none")
		wantErr(t, err, store.ErrNotFound, "get")
		_, err = s.GetBrowserSessionByPublicID(ctx(t), "none")
		wantErr(t, err, store.ErrNotFound, "get by public id")
		_, err = s.UpdateBrowserSession(ctx(t), "none", func(bs store.BrowserSession) (store.BrowserSession, error) { return bs, nil })
		wantErr(t, err, store.ErrNotFound, "update")
		wantErr(t, s.TouchBrowserSession(ctx(t), "none", now), store.ErrNotFound, "touch")
		wantErr(t, s.DeleteBrowserSession(ctx(t), "none"), store.ErrNotFound, "delete")
	})
	t.Run("Update", func(t *testing.T) {
		s := withAccountAndClient(t, newStore)
		must(t, s.CreateAccount(ctx(t), sampleAccount("a2", "boris")), "create second account")
		must(t, s.CreateBrowserSession(ctx(t), sampleSession("h1", "sid1", "a1")), "create")
		later := now.Add(time.Hour)
		got, err := s.UpdateBrowserSession(ctx(t), "h1", func(bs store.BrowserSession) (store.BrowserSession, error) {
			// ID, PublicID, AccountID and CreatedAt are immutable.
			bs.ID, bs.PublicID, bs.AccountID, bs.CreatedAt = "hijacked", "sid-hijacked", "a2", later
			bs.AuthTime, bs.AMR, bs.ACR = later, []string{"pwd", "otp", "fed"}, "confirmed"
			bs.UserAgent, bs.RemoteAddr = "curl/8", "2001:db8::1"
			bs.LastSeenAt, bs.ExpiresAt = later, later.Add(12*time.Hour)
			return bs, nil
		})
		must(t, err, "update")
		want := store.BrowserSession{ID: "h1", PublicID: "sid1", AccountID: "a1",
			AuthTime: later, AMR: []string{"pwd", "otp", "fed"}, ACR: "confirmed",
			UserAgent: "curl/8", RemoteAddr: "2001:db8::1",
			CreatedAt: now, LastSeenAt: later, ExpiresAt: later.Add(12 * time.Hour)}
		equal(t, got, want, "returned value")
		read, err := s.GetBrowserSession(ctx(t), "h1")
		must(t, err, "get")
		equal(t, read, want, "stored value")
		_, err = s.GetBrowserSessionByPublicID(ctx(t), "sid-hijacked")
		wantErr(t, err, store.ErrNotFound, "public id did not change")
		list, err := s.ListBrowserSessions(ctx(t), "a2")
		must(t, err, "list")
		equal(t, len(list), 0, "session did not move to another account")
	})
	t.Run("UpdateAbortsOnError", func(t *testing.T) {
		s := withAccountAndClient(t, newStore)
		must(t, s.CreateBrowserSession(ctx(t), sampleSession("h1", "sid1", "a1")), "create")
		boom := errors.New("boom")
		_, err := s.UpdateBrowserSession(ctx(t), "h1", func(bs store.BrowserSession) (store.BrowserSession, error) {
			bs.ACR = "changed"
			return bs, boom
		})
		wantErr(t, err, boom, "updater error returned unchanged")
		got, err := s.GetBrowserSession(ctx(t), "h1")
		must(t, err, "get")
		equal(t, got, sampleSession("h1", "sid1", "a1"), "nothing written")
	})
	t.Run("Touch", func(t *testing.T) {
		s := withAccountAndClient(t, newStore)
		must(t, s.CreateBrowserSession(ctx(t), sampleSession("h1", "sid1", "a1")), "create")
		at := now.Add(17 * time.Minute)
		must(t, s.TouchBrowserSession(ctx(t), "h1", at), "touch")
		got, err := s.GetBrowserSession(ctx(t), "h1")
		must(t, err, "get")
		want := sampleSession("h1", "sid1", "a1")
		want.LastSeenAt = at
		equal(t, got, want, "only LastSeenAt changed")
		must(t, s.TouchBrowserSession(ctx(t), "h1", at), "touch with the same time")
	})
	t.Run("DeleteAndList", func(t *testing.T) {
		s := withAccountAndClient(t, newStore)
		must(t, s.CreateAccount(ctx(t), sampleAccount("a2", "boris")), "create second account")
		for i, id := range []string{"h-b", "h-c", "h-a"} {
			bs := sampleSession(id, "sid-"+id, "a1")
			bs.CreatedAt = now.Add(time.Duration(i) * time.Minute)
			must(t, s.CreateBrowserSession(ctx(t), bs), "create")
		}
		must(t, s.CreateBrowserSession(ctx(t), sampleSession("h-other", "sid-other", "a2")), "create other account's")
		list, err := s.ListBrowserSessions(ctx(t), "a1")
		must(t, err, "list")
		equal(t, sessionIDs(list), []string{"h-a", "h-c", "h-b"}, "newest first, only a1's")
		for _, bs := range list {
			if bs.PublicID != "sid-"+bs.ID || bs.AccountID != "a1" {
				t.Fatalf("listed session %+v", bs)
			}
		}
		list, err = s.ListBrowserSessions(ctx(t), "nobody")
		must(t, err, "list for an account without sessions")
		equal(t, len(list), 0, "no sessions")

		must(t, s.DeleteBrowserSession(ctx(t), "h-c"), "delete")
		wantErr(t, s.DeleteBrowserSession(ctx(t), "h-c"), store.ErrNotFound, "delete twice")
		_, err = s.GetBrowserSessionByPublicID(ctx(t), "sid-h-c")
		wantErr(t, err, store.ErrNotFound, "deleted session by public id")
		list, err = s.ListBrowserSessions(ctx(t), "a1")
		must(t, err, "list")
		equal(t, sessionIDs(list), []string{"h-a", "h-b"}, "after delete")

		n, err := s.DeleteBrowserSessionsOfAccount(ctx(t), "a1")
		must(t, err, "delete the account's sessions")
		equal(t, n, 2, "sessions of a1 deleted")
		list, err = s.ListBrowserSessions(ctx(t), "a1")
		must(t, err, "list")
		equal(t, len(list), 0, "none left")
		list, err = s.ListBrowserSessions(ctx(t), "a2")
		must(t, err, "list other")
		equal(t, sessionIDs(list), []string{"h-other"}, "another account's session stays")
		n, err = s.DeleteBrowserSessionsOfAccount(ctx(t), "a1")
		must(t, err, "again")
		equal(t, n, 0, "second time")
	})
	t.Run("DeleteExpiredInBatches", func(t *testing.T) {
		s := withAccountAndClient(t, newStore)
		idleBefore := now.Add(-30 * time.Minute)
		for i := range 4 { // past the absolute timeout, recently seen
			bs := sampleSession(fmt.Sprint("abs", i), fmt.Sprint("sid-abs", i), "a1")
			bs.ExpiresAt = now.Add(-time.Minute)
			must(t, s.CreateBrowserSession(ctx(t), bs), "create expired")
		}
		for i := range 3 { // within the absolute timeout, idle too long
			bs := sampleSession(fmt.Sprint("idle", i), fmt.Sprint("sid-idle", i), "a1")
			bs.LastSeenAt = idleBefore.Add(-time.Second)
			must(t, s.CreateBrowserSession(ctx(t), bs), "create idle")
		}
		edge := sampleSession("edge", "sid-edge", "a1")
		edge.LastSeenAt, edge.ExpiresAt = idleBefore, now // neither before: kept
		must(t, s.CreateBrowserSession(ctx(t), edge), "create at the edges")
		must(t, s.CreateBrowserSession(ctx(t), sampleSession("fresh", "sid-fresh", "a1")), "create fresh")
		for _, want := range []int{5, 2, 0} {
			n, err := s.DeleteExpiredBrowserSessions(ctx(t), now, idleBefore, 5)
			must(t, err, "sweep")
			equal(t, n, want, "batch")
		}
		list, err := s.ListBrowserSessions(ctx(t), "a1")
		must(t, err, "list")
		equal(t, sessionIDs(list), []string{"edge", "fresh"}, "live sessions kept")
	})
	t.Run("UnknownAccountRefused", func(t *testing.T) {
		s := newStore(t)
		if err := s.CreateBrowserSession(ctx(t), sampleSession("h1", "sid1", "nobody")); err == nil {
			t.Fatal("session for an unknown account was stored")
		}
	})
	t.Run("DeletingAccountDeletesItsSessions", func(t *testing.T) {
		s := withAccountAndClient(t, newStore)
		must(t, s.CreateAccount(ctx(t), sampleAccount("a2", "boris")), "create second account")
		must(t, s.CreateBrowserSession(ctx(t), sampleSession("h1", "sid1", "a1")), "create")
		must(t, s.CreateBrowserSession(ctx(t), sampleSession("h2", "sid2", "a2")), "create")
		execScript(t, s, "DELETE FROM accounts WHERE id = 'a1'")
		_, err := s.GetBrowserSession(ctx(t), "h1")
		wantErr(t, err, store.ErrNotFound, "session of a deleted account")
		_, err = s.GetBrowserSession(ctx(t), "h2")
		must(t, err, "another account's session kept")
	})
}

func sessionIDs(l []store.BrowserSession) []string {
	return pluck(l, func(s store.BrowserSession) string { return s.ID })
}

func testConsents(t *testing.T, newStore NewStore) {
	t.Run("PutGet", func(t *testing.T) {
		s := withAccountAndClient(t, newStore)
		_, err := s.GetConsent(ctx(t), "a1", "card")
		wantErr(t, err, store.ErrNotFound, "get before put")
		c := store.Consent{AccountID: "a1", ClientID: "card", Scopes: []string{"email", "openid", "profile"}, CreatedAt: now, UpdatedAt: now}
		must(t, s.PutConsent(ctx(t), c), "put")
		got, err := s.GetConsent(ctx(t), "a1", "card")
		must(t, err, "get")
		equal(t, got, c, "round trip")
	})
	t.Run("EmptyScopesRoundTrip", func(t *testing.T) {
		s := withAccountAndClient(t, newStore)
		c := store.Consent{AccountID: "a1", ClientID: "card", Scopes: []string{}, CreatedAt: now, UpdatedAt: now}
		must(t, s.PutConsent(ctx(t), c), "put")
		got, err := s.GetConsent(ctx(t), "a1", "card")
		must(t, err, "get")
		equal(t, got, c, "round trip")
	})
	t.Run("PutReplaces", func(t *testing.T) {
		s := withAccountAndClient(t, newStore)
		must(t, s.PutConsent(ctx(t), store.Consent{AccountID: "a1", ClientID: "card",
			Scopes: []string{"email", "openid", "profile"}, CreatedAt: now, UpdatedAt: now}), "put")
		later := now.Add(time.Hour)
		must(t, s.PutConsent(ctx(t), store.Consent{AccountID: "a1", ClientID: "card",
			Scopes: []string{"openid"}, CreatedAt: later, UpdatedAt: later}), "put again")
		got, err := s.GetConsent(ctx(t), "a1", "card")
		must(t, err, "get")
		equal(t, got, store.Consent{AccountID: "a1", ClientID: "card", Scopes: []string{"openid"}, CreatedAt: now, UpdatedAt: later},
			"scopes and UpdatedAt replaced, first CreatedAt kept")
		list, err := s.ListConsents(ctx(t), "a1")
		must(t, err, "list")
		equal(t, len(list), 1, "one consent per account and client")
	})
	t.Run("NotFound", func(t *testing.T) {
		s := withAccountAndClient(t, newStore)
		_, err := s.GetConsent(ctx(t), "a1", "none")
		wantErr(t, err, store.ErrNotFound, "get")
		wantErr(t, s.DeleteConsent(ctx(t), "a1", "card"), store.ErrNotFound, "delete")
	})
	t.Run("ListAndDelete", func(t *testing.T) {
		s := withAccountAndClient(t, newStore)
		must(t, s.CreateAccount(ctx(t), sampleAccount("a2", "boris")), "create second account")
		for _, id := range []string{"entry", "admin"} {
			must(t, s.CreateClient(ctx(t), sampleClient(id)), "create client")
		}
		for _, p := range [][2]string{{"a1", "entry"}, {"a1", "card"}, {"a1", "admin"}, {"a2", "card"}} {
			must(t, s.PutConsent(ctx(t), store.Consent{AccountID: p[0], ClientID: p[1], Scopes: []string{"openid"},
				CreatedAt: now, UpdatedAt: now}), "put")
		}
		list, err := s.ListConsents(ctx(t), "a1")
		must(t, err, "list")
		equal(t, consentClients(list), []string{"admin", "card", "entry"}, "ordered by client, only a1's")
		list, err = s.ListConsents(ctx(t), "nobody")
		must(t, err, "list for an account without consents")
		equal(t, len(list), 0, "no consents")

		must(t, s.DeleteConsent(ctx(t), "a1", "card"), "delete")
		wantErr(t, s.DeleteConsent(ctx(t), "a1", "card"), store.ErrNotFound, "delete twice")
		_, err = s.GetConsent(ctx(t), "a2", "card")
		must(t, err, "another account's consent to the same client kept")
		list, err = s.ListConsents(ctx(t), "a1")
		must(t, err, "list")
		equal(t, consentClients(list), []string{"admin", "entry"}, "after delete")
	})
	t.Run("DeletingClientOrAccountDeletesConsent", func(t *testing.T) {
		s := withAccountAndClient(t, newStore)
		must(t, s.CreateAccount(ctx(t), sampleAccount("a2", "boris")), "create second account")
		must(t, s.CreateClient(ctx(t), sampleClient("entry")), "create second client")
		for _, p := range [][2]string{{"a1", "card"}, {"a1", "entry"}, {"a2", "entry"}} {
			must(t, s.PutConsent(ctx(t), store.Consent{AccountID: p[0], ClientID: p[1], Scopes: []string{"openid"},
				CreatedAt: now, UpdatedAt: now}), "put")
		}
		must(t, s.DeleteClient(ctx(t), "card"), "delete client")
		_, err := s.GetConsent(ctx(t), "a1", "card")
		wantErr(t, err, store.ErrNotFound, "consent to a deleted client")
		_, err = s.GetConsent(ctx(t), "a1", "entry")
		must(t, err, "consent to another client kept")
		execScript(t, s, "DELETE FROM accounts WHERE id = 'a1'")
		_, err = s.GetConsent(ctx(t), "a1", "entry")
		wantErr(t, err, store.ErrNotFound, "consent of a deleted account")
		_, err = s.GetConsent(ctx(t), "a2", "entry")
		must(t, err, "another account's consent kept")
	})
	t.Run("UnknownAccountOrClientRefused", func(t *testing.T) {
		s := withAccountAndClient(t, newStore)
		if err := s.PutConsent(ctx(t), store.Consent{AccountID: "nobody", ClientID: "card", Scopes: []string{},
			CreatedAt: now, UpdatedAt: now}); err == nil {
			t.Fatal("consent of an unknown account was stored")
		}
		if err := s.PutConsent(ctx(t), store.Consent{AccountID: "a1", ClientID: "none", Scopes: []string{},
			CreatedAt: now, UpdatedAt: now}); err == nil {
			t.Fatal("consent to an unknown client was stored")
		}
	})
}

func consentClients(l []store.Consent) []string {
	return pluck(l, func(c store.Consent) string { return c.ClientID })
}

func testThrottles(t *testing.T, newStore NewStore) {
	const window = 15 * time.Minute
	wantCount := func(t *testing.T, s store.Store, key string, at time.Time, n int, end time.Time) {
		t.Helper()
		got, gotEnd, err := s.ThrottleCount(ctx(t), key, at)
		must(t, err, "count")
		equal(t, got, n, "count of "+key)
		equal(t, gotEnd, end, "window end of "+key)
	}
	hit := func(t *testing.T, s store.Store, key string, at time.Time, want int) {
		t.Helper()
		n, err := s.HitThrottle(ctx(t), key, at, window)
		must(t, err, "hit")
		equal(t, n, want, "count after hit on "+key)
	}
	t.Run("Windows", func(t *testing.T) {
		s := newStore(t)
		wantCount(t, s, "pwd:anna", now, 0, time.Time{})
		hit(t, s, "pwd:anna", now, 1)
		hit(t, s, "pwd:anna", now.Add(time.Minute), 2)
		hit(t, s, "pwd:anna", now.Add(window-time.Microsecond), 3) // last instant of the window
		wantCount(t, s, "pwd:anna", now.Add(time.Minute), 3, now.Add(window))
		wantCount(t, s, "pwd:boris", now, 0, time.Time{})

		// The window ends at now+window: at that instant it is over.
		end := now.Add(window)
		wantCount(t, s, "pwd:anna", end, 0, time.Time{})
		wantCount(t, s, "pwd:anna", end.Add(time.Hour), 0, time.Time{})
		hit(t, s, "pwd:anna", end.Add(time.Minute), 1) // a new window starts at this attempt
		hit(t, s, "pwd:anna", end.Add(2*time.Minute), 2)
		wantCount(t, s, "pwd:anna", end.Add(2*time.Minute), 2, end.Add(time.Minute+window))
	})
	t.Run("KeysAreIndependent", func(t *testing.T) {
		s := newStore(t)
		hit(t, s, "a", now, 1)
		hit(t, s, "a", now, 2)
		hit(t, s, "b", now, 1)
		wantCount(t, s, "a", now, 2, now.Add(window))
		wantCount(t, s, "b", now, 1, now.Add(window))
	})
	t.Run("Reset", func(t *testing.T) {
		s := newStore(t)
		hit(t, s, "a", now, 1)
		hit(t, s, "a", now, 2)
		hit(t, s, "b", now, 1)
		must(t, s.ResetThrottle(ctx(t), "a"), "reset")
		wantCount(t, s, "a", now, 0, time.Time{})
		wantCount(t, s, "b", now, 1, now.Add(window))
		must(t, s.ResetThrottle(ctx(t), "a"), "reset twice")
		must(t, s.ResetThrottle(ctx(t), "never-hit"), "reset unknown")
		hit(t, s, "a", now.Add(time.Second), 1)
		wantCount(t, s, "a", now.Add(time.Second), 1, now.Add(time.Second+window))
	})
	t.Run("Spaced", func(t *testing.T) {
		s := newStore(t)
		// Free for two attempts, then a pause of n seconds after the n-th.
		pause := func(n int) time.Duration {
			if n < 2 {
				return 0
			}
			return time.Duration(n) * time.Second
		}
		spaced := func(at time.Time, want store.ThrottleTurn) {
			t.Helper()
			got, err := s.HitThrottleSpaced(ctx(t), "pwd:anna", at, window, pause)
			must(t, err, "spaced hit")
			equal(t, got, want, fmt.Sprintf("turn at %v", at.Sub(now)))
		}
		end := now.Add(window)
		spaced(now, store.ThrottleTurn{Counted: true, Count: 1, NextAt: now, WindowEnd: end})
		spaced(now, store.ThrottleTurn{Counted: true, Count: 2, NextAt: now.Add(2 * time.Second), WindowEnd: end})
		// During the pause nothing counts and neither the pause nor the
		// window moves, so refused attempts cannot push them ever further.
		for range 3 {
			spaced(now.Add(time.Second), store.ThrottleTurn{Count: 2, NextAt: now.Add(2 * time.Second), WindowEnd: end})
		}
		// A counted attempt moves the window's end to window after it.
		at := now.Add(2 * time.Second)
		end = at.Add(window)
		spaced(at, store.ThrottleTurn{Counted: true, Count: 3, NextAt: at.Add(3 * time.Second), WindowEnd: end})
		wantCount(t, s, "pwd:anna", now.Add(3*time.Second), 3, end)
		// So the run goes on until window after its last attempt
		// (consecutive failures: forgotten only a window after the last),
		// with its count and pause.
		later := end.Add(-time.Second)
		spaced(later, store.ThrottleTurn{Counted: true, Count: 4, NextAt: later.Add(4 * time.Second), WindowEnd: later.Add(window)})
		end = later.Add(window)
		wantCount(t, s, "pwd:anna", end.Add(-time.Microsecond), 4, end)
		// A pause ends with its window: the next attempt opens a new one.
		spaced(end, store.ThrottleTurn{Counted: true, Count: 1, NextAt: end, WindowEnd: end.Add(window)})
		// Reset forgets the pause with the count.
		spaced(end, store.ThrottleTurn{Counted: true, Count: 2, NextAt: end.Add(2 * time.Second), WindowEnd: end.Add(window)})
		must(t, s.ResetThrottle(ctx(t), "pwd:anna"), "reset")
		spaced(end, store.ThrottleTurn{Counted: true, Count: 1, NextAt: end, WindowEnd: end.Add(window)})
		// Spaced windows are swept like the others.
		n, err := s.DeleteExpiredThrottles(ctx(t), end.Add(2*window), 5)
		must(t, err, "sweep")
		equal(t, n, 1, "swept spaced windows")
	})
	t.Run("Sliding", func(t *testing.T) {
		s := newStore(t)
		slide := func(key string, at time.Time, want int) {
			t.Helper()
			n, err := s.HitThrottleSliding(ctx(t), key, at, window)
			must(t, err, "sliding hit")
			equal(t, n, want, "count after sliding hit on "+key)
		}
		// Each hit moves the end to window after it: hits spaced just
		// under a window apart are never forgotten.
		at := now
		for i := 1; i <= 4; i++ {
			slide("dev:a", at, i)
			wantCount(t, s, "dev:a", at, i, at.Add(window))
			at = at.Add(window - time.Second)
		}
		// A window after the last hit they are.
		last := at.Add(-(window - time.Second))
		wantCount(t, s, "dev:a", last.Add(window), 0, time.Time{})
		slide("dev:a", last.Add(window), 1)
		// A fixed hit on a sliding key counts without moving the end; a
		// sliding hit never moves it earlier.
		end := last.Add(2 * window)
		hit(t, s, "dev:a", last.Add(window+time.Minute), 2)
		wantCount(t, s, "dev:a", last.Add(window+time.Minute), 2, end)
		n, err := s.HitThrottleSliding(ctx(t), "dev:a", last.Add(window+time.Minute), time.Minute)
		must(t, err, "short sliding hit")
		equal(t, n, 3, "count after a short sliding hit")
		wantCount(t, s, "dev:a", last.Add(window+time.Minute), 3, end)
		// Takebacks and resets work as on fixed windows.
		must(t, s.UnhitThrottle(ctx(t), "dev:a", last.Add(window+time.Minute)), "unhit")
		wantCount(t, s, "dev:a", last.Add(window+time.Minute), 2, end)
		must(t, s.ResetThrottle(ctx(t), "dev:a"), "reset")
		wantCount(t, s, "dev:a", last.Add(window+time.Minute), 0, time.Time{})
	})
	t.Run("SlidingOnSpacedKey", func(t *testing.T) {
		// Known browsers' failures count on the account by sliding hits:
		// they move the end as spaced ones do, and leave the pause.
		s := newStore(t)
		pause := func(n int) time.Duration {
			if n < 2 {
				return 0
			}
			return time.Hour
		}
		spaced := func(at time.Time, want store.ThrottleTurn) {
			t.Helper()
			got, err := s.HitThrottleSpaced(ctx(t), "acct:anna", at, window, pause)
			must(t, err, "spaced hit")
			equal(t, got, want, fmt.Sprintf("turn at %v", at.Sub(now)))
		}
		spaced(now, store.ThrottleTurn{Counted: true, Count: 1, NextAt: now, WindowEnd: now.Add(window)})
		spaced(now, store.ThrottleTurn{Counted: true, Count: 2, NextAt: now.Add(time.Hour), WindowEnd: now.Add(window)})
		at := now.Add(10 * time.Minute)
		n, err := s.HitThrottleSliding(ctx(t), "acct:anna", at, window)
		must(t, err, "sliding hit")
		equal(t, n, 3, "count after a sliding hit on a spaced key")
		spaced(at.Add(time.Minute), store.ThrottleTurn{Count: 3, NextAt: now.Add(time.Hour), WindowEnd: at.Add(window)})
	})
	t.Run("Unhit", func(t *testing.T) {
		s := newStore(t)
		unhit := func(key string, at time.Time) {
			t.Helper()
			must(t, s.UnhitThrottle(ctx(t), key, at), "unhit")
		}
		hit(t, s, "addr:a", now, 1)
		hit(t, s, "addr:a", now.Add(time.Minute), 2)
		unhit("addr:a", now.Add(time.Minute))
		wantCount(t, s, "addr:a", now.Add(time.Minute), 1, now.Add(window))
		unhit("addr:a", now)
		unhit("addr:a", now) // never below zero
		wantCount(t, s, "addr:a", now.Add(time.Minute), 0, now.Add(window))
		hit(t, s, "addr:a", now.Add(2*time.Minute), 1)
		unhit("never-hit", now) // nothing to take back: no error, no row
		wantCount(t, s, "never-hit", now, 0, time.Time{})
		// A hit counted in an ended window is not taken from the next one.
		end := now.Add(window)
		hit(t, s, "addr:a", end, 1)
		unhit("addr:a", end.Add(-time.Second))
		unhit("addr:a", now.Add(-time.Second)) // before any window
		wantCount(t, s, "addr:a", end, 1, end.Add(window))
		unhit("addr:a", end.Add(window-time.Microsecond)) // its last instant
		wantCount(t, s, "addr:a", end, 0, end.Add(window))
	})
	t.Run("HitOnSpacedKey", func(t *testing.T) {
		// HitThrottle counts whatever a pause says and leaves the pause; a
		// new window has none, even when the last pause outran the old one.
		s := newStore(t)
		pause := func(n int) time.Duration {
			if n < 2 {
				return 0
			}
			return 2 * window
		}
		spaced := func(at time.Time, want store.ThrottleTurn) {
			t.Helper()
			got, err := s.HitThrottleSpaced(ctx(t), "acct:anna", at, window, pause)
			must(t, err, "spaced hit")
			equal(t, got, want, fmt.Sprintf("turn at %v", at.Sub(now)))
		}
		end := now.Add(window)
		spaced(now, store.ThrottleTurn{Counted: true, Count: 1, NextAt: now, WindowEnd: end})
		spaced(now, store.ThrottleTurn{Counted: true, Count: 2, NextAt: now.Add(2 * window), WindowEnd: end})
		hit(t, s, "acct:anna", now.Add(time.Second), 3)
		spaced(now.Add(time.Minute), store.ThrottleTurn{Count: 3, NextAt: now.Add(2 * window), WindowEnd: end})
		hit(t, s, "acct:anna", end, 1)
		spaced(end, store.ThrottleTurn{Counted: true, Count: 2, NextAt: end.Add(2 * window), WindowEnd: end.Add(window)})
	})
	t.Run("DeleteExpiredInBatches", func(t *testing.T) {
		s := newStore(t)
		for i := range 7 {
			hit(t, s, fmt.Sprint("old", i), now.Add(-window-time.Minute), 1)
		}
		hit(t, s, "edge", now.Add(-window), 1) // ends at now: not before now
		hit(t, s, "live", now, 1)
		for _, want := range []int{5, 2, 0} {
			n, err := s.DeleteExpiredThrottles(ctx(t), now, 5)
			must(t, err, "sweep")
			equal(t, n, want, "batch")
		}
		wantCount(t, s, "live", now, 1, now.Add(window))
		// "edge" survived the sweep: a hit at its end starts a new window.
		hit(t, s, "edge", now, 1)
		hit(t, s, "live", now, 2)
	})
}

func testSessionConcurrency(t *testing.T, newStore NewStore) {
	t.Run("FlowStepOnce", func(t *testing.T) {
		// Two tabs posting the same step: only one may move the flow.
		s := withClient(t, newStore)
		must(t, s.CreateFlow(ctx(t), sampleFlow("f1")), "create")
		moved := errors.New("flow already moved on")
		errs := race(racers, func(i int) error {
			_, err := s.UpdateFlow(ctx(t), "f1", func(f store.Flow) (store.Flow, error) {
				if f.State != "login" {
					return f, moved
				}
				f.State = "consent"
				f.Locale = fmt.Sprint("winner-", i)
				return f, nil
			})
			return err
		})
		countWins(t, errs, moved, "moves of one flow")
		got, err := s.GetFlow(ctx(t), "f1")
		must(t, err, "get")
		equal(t, got.State, "consent", "state")
	})
	t.Run("ThrottleHitsNotLost", func(t *testing.T) {
		s := newStore(t)
		counts := make([]int, racers)
		errs := race(racers, func(i int) error {
			n, err := s.HitThrottle(ctx(t), "pwd:anna", now, time.Minute)
			counts[i] = n
			return err
		})
		for _, err := range errs {
			must(t, err, "hit")
		}
		n, _, err := s.ThrottleCount(ctx(t), "pwd:anna", now)
		must(t, err, "count")
		equal(t, n, racers, "count after concurrent hits")
		slices.Sort(counts)
		want := make([]int, racers)
		for i := range want {
			want[i] = i + 1
		}
		equal(t, counts, want, "each hit saw its own count")
	})
	t.Run("ThrottleHitsAndUnhitsNotLost", func(t *testing.T) {
		// Parallel sign-ins from one address: each takes a turn and half
		// give theirs back; none of either is lost.
		s := newStore(t)
		errs := race(racers, func(i int) error {
			if _, err := s.HitThrottle(ctx(t), "addr:a", now, time.Minute); err != nil {
				return err
			}
			if i%2 == 0 {
				return s.UnhitThrottle(ctx(t), "addr:a", now)
			}
			return nil
		})
		for _, err := range errs {
			must(t, err, "hit and unhit")
		}
		n, _, err := s.ThrottleCount(ctx(t), "addr:a", now)
		must(t, err, "count")
		equal(t, n, racers/2, "count after concurrent hits and takebacks")
	})
	t.Run("ThrottleSpacedBurstTakesTurns", func(t *testing.T) {
		// A burst of parallel guesses at one instant: only the attempts
		// before the first pause count, on any node.
		s := newStore(t)
		pause := func(n int) time.Duration {
			if n < 3 {
				return 0
			}
			return time.Minute
		}
		turns := make([]store.ThrottleTurn, racers)
		errs := race(racers, func(i int) error {
			var err error
			turns[i], err = s.HitThrottleSpaced(ctx(t), "pwd:anna", now, time.Hour, pause)
			return err
		})
		for _, err := range errs {
			must(t, err, "spaced hit")
		}
		var counted []int
		for _, tr := range turns {
			if tr.Counted {
				counted = append(counted, tr.Count)
			} else {
				equal(t, []any{tr.Count, tr.NextAt}, []any{3, now.Add(time.Minute)}, "refused turn")
			}
		}
		slices.Sort(counted)
		equal(t, counted, []int{1, 2, 3}, "counted attempts of the burst")
	})
	t.Run("ThrottleSpacedWhileSwept", func(t *testing.T) {
		// The sweeper deletes ended windows while sign-ins hit them: a hit
		// whose row vanishes under it starts a new window, never an error
		// (an error page for a sign-in), and a window it renewed is live,
		// not swept.
		s := newStore(t)
		pause := func(int) time.Duration { return 0 }
		const keys = 40
		for round := range 5 {
			start := now.Add(time.Duration(round) * 3 * time.Hour)
			for k := range keys {
				if _, err := s.HitThrottleSpaced(ctx(t), fmt.Sprint("acct:", k), start.Add(-2*time.Hour), time.Hour, pause); err != nil {
					t.Fatal(err)
				}
			}
			errs := race(2*racers, func(i int) error {
				if i%2 == 1 {
					for range keys / 4 {
						if _, err := s.DeleteExpiredThrottles(ctx(t), start, 10); err != nil {
							return err
						}
					}
					return nil
				}
				for k := i / 2; k < keys; k += racers {
					turn, err := s.HitThrottleSpaced(ctx(t), fmt.Sprint("acct:", k), start, time.Hour, pause)
					if err != nil {
						return err
					}
					if !turn.Counted || turn.Count != 1 || !turn.WindowEnd.Equal(start.Add(time.Hour)) {
						return fmt.Errorf("round %d, key %d: %+v, want a new window's first attempt", round, k, turn)
					}
				}
				return nil
			})
			for _, err := range errs {
				must(t, err, "spaced hit or sweep")
			}
			for k := range keys {
				wantCount := 1
				n, _, err := s.ThrottleCount(ctx(t), fmt.Sprint("acct:", k), start)
				must(t, err, "count")
				equal(t, n, wantCount, fmt.Sprintf("round %d, key %d: count after the sweep", round, k))
			}
		}
	})
	t.Run("CreateSessionSamePublicIDOneWins", func(t *testing.T) {
		s := withAccountAndClient(t, newStore)
		errs := race(racers, func(i int) error {
			return s.CreateBrowserSession(ctx(t), sampleSession(fmt.Sprint("h", i), "contested-sid", "a1"))
		})
		countWins(t, errs, store.ErrAlreadyExists, "creations of one public id")
		list, err := s.ListBrowserSessions(ctx(t), "a1")
		must(t, err, "list")
		equal(t, len(list), 1, "sessions stored")
	})
}

func testMergeConsent(t *testing.T, newStore NewStore) {
	s := newStore(t)
	must(t, s.CreateAccount(ctx(t), sampleAccount("a1", "anna")), "create account")
	must(t, s.CreateClient(ctx(t), sampleClient("card")), "create client")
	first := store.Consent{AccountID: "a1", ClientID: "card", Scopes: []string{"profile", "openid"}, CreatedAt: now, UpdatedAt: now}
	must(t, s.MergeConsent(ctx(t), first), "merge into nothing")
	got, err := s.GetConsent(ctx(t), "a1", "card")
	must(t, err, "get")
	equal(t, got.Scopes, []string{"openid", "profile"}, "sorted scopes")
	later := now.Add(time.Hour)
	must(t, s.MergeConsent(ctx(t), store.Consent{AccountID: "a1", ClientID: "card", Scopes: []string{"email", "openid"}, CreatedAt: later, UpdatedAt: later}), "merge more")
	got, err = s.GetConsent(ctx(t), "a1", "card")
	must(t, err, "get")
	equal(t, got, store.Consent{AccountID: "a1", ClientID: "card", Scopes: []string{"email", "openid", "profile"}, CreatedAt: now, UpdatedAt: later}, "union, first CreatedAt")

	// Concurrent merges (two tabs consenting) lose nothing.
	scopes := []string{"s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"}
	errs := race(len(scopes), func(i int) error {
		return s.MergeConsent(ctx(t), store.Consent{AccountID: "a1", ClientID: "card", Scopes: []string{scopes[i]}, CreatedAt: now, UpdatedAt: now})
	})
	for _, err := range errs {
		must(t, err, "concurrent merge")
	}
	got, err = s.GetConsent(ctx(t), "a1", "card")
	must(t, err, "get")
	equal(t, len(got.Scopes), 3+len(scopes), "every concurrent scope kept")
}

// A flow of Propusk's own pages has no client and a return path.
func testLocalFlows(t *testing.T, newStore NewStore) {
	s := newStore(t)
	f := sampleFlow("local")
	f.ClientID, f.ReturnTo = "", "/account"
	must(t, s.CreateFlow(ctx(t), f), "create local flow")
	got, err := s.GetFlow(ctx(t), "local")
	must(t, err, "get")
	equal(t, got, f, "round trip")
	got, err = s.UpdateFlow(ctx(t), "local", func(f store.Flow) (store.Flow, error) {
		f.State, f.ReturnTo = "consent", "/account?x=1"
		return f, nil
	})
	must(t, err, "update")
	read, err := s.GetFlow(ctx(t), "local")
	must(t, err, "get")
	equal(t, read, got, "stored equals returned")
	equal(t, read.ClientID, "", "still no client")
}
