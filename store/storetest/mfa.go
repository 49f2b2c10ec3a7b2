package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/propusk/propusk/store"
)

// withAccounts returns a store holding the accounts "a1" and "a2".
func withAccounts(t *testing.T, newStore NewStore) store.Store {
	s := newStore(t)
	must(t, s.CreateAccount(ctx(t), sampleAccount("a1", "anna")), "create account")
	must(t, s.CreateAccount(ctx(t), sampleAccount("a2", "boris")), "create second account")
	return s
}

func sampleAuthenticator(id, accountID string) store.Authenticator {
	return store.Authenticator{
		ID: id, AccountID: accountID, Name: "телефон",
		Secret:    []byte("sealed totp secret \x00\xff"),
		CreatedAt: now, ConfirmedAt: now.Add(time.Minute), LastUsedAt: now.Add(time.Hour),
	}
}

func authenticatorIDs(l []store.Authenticator) []string {
	return pluck(l, func(a store.Authenticator) string { return a.ID })
}

func testAuthenticators(t *testing.T, newStore NewStore) {
	t.Run("CreateGet", func(t *testing.T) {
		s := withAccounts(t, newStore)
		a := sampleAuthenticator("t1", "a1")
		roundTrip(t, s.CreateAuthenticator, s.GetAuthenticator, "t1", a)
	})
	t.Run("UnconfirmedRoundTrip", func(t *testing.T) {
		// Enrolment just started: no label, never confirmed, never used.
		s := withAccounts(t, newStore)
		a := store.Authenticator{ID: "t1", AccountID: "a1", Secret: []byte{1}, CreatedAt: now}
		got := roundTrip(t, s.CreateAuthenticator, s.GetAuthenticator, "t1", a)
		if !got.ConfirmedAt.IsZero() || !got.LastUsedAt.IsZero() {
			t.Fatalf("zero times read back %v, %v", got.ConfirmedAt, got.LastUsedAt)
		}
	})
	t.Run("DuplicateID", func(t *testing.T) {
		s := withAccounts(t, newStore)
		must(t, s.CreateAuthenticator(ctx(t), sampleAuthenticator("t1", "a1")), "create")
		other := sampleAuthenticator("t1", "a2")
		other.Name = "other"
		wantErr(t, s.CreateAuthenticator(ctx(t), other), store.ErrAlreadyExists, "same id")
		got, err := s.GetAuthenticator(ctx(t), "t1")
		must(t, err, "get")
		equal(t, got, sampleAuthenticator("t1", "a1"), "first one kept")
	})
	t.Run("NotFound", func(t *testing.T) {
		s := withAccounts(t, newStore)
		_, err := s.GetAuthenticator(ctx(t), "none")
		wantErr(t, err, store.ErrNotFound, "get")
		wantErr(t, s.ConfirmAuthenticator(ctx(t), "none", now), store.ErrNotFound, "confirm")
		wantErr(t, s.TouchAuthenticator(ctx(t), "none", now), store.ErrNotFound, "touch")
		wantErr(t, s.DeleteAuthenticator(ctx(t), "none"), store.ErrNotFound, "delete")
		n, err := s.DeleteAuthenticators(ctx(t), "a1")
		must(t, err, "delete all of an account without any")
		equal(t, n, 0, "deleted")
	})
	t.Run("ConfirmOnce", func(t *testing.T) {
		s := withAccounts(t, newStore)
		a := store.Authenticator{ID: "t1", AccountID: "a1", Name: "phone", Secret: []byte{1, 2}, CreatedAt: now}
		must(t, s.CreateAuthenticator(ctx(t), a), "create")
		at := now.Add(2 * time.Minute)
		must(t, s.ConfirmAuthenticator(ctx(t), "t1", at), "confirm")
		// A second tab finishing the same enrolment loses.
		wantErr(t, s.ConfirmAuthenticator(ctx(t), "t1", at.Add(time.Second)), store.ErrNotFound, "confirm twice")
		got, err := s.GetAuthenticator(ctx(t), "t1")
		must(t, err, "get")
		a.ConfirmedAt = at
		equal(t, got, a, "only ConfirmedAt changed, by the first confirmation")
	})
	t.Run("Touch", func(t *testing.T) {
		s := withAccounts(t, newStore)
		must(t, s.CreateAuthenticator(ctx(t), sampleAuthenticator("t1", "a1")), "create")
		at := now.Add(3 * time.Hour)
		must(t, s.TouchAuthenticator(ctx(t), "t1", at), "touch")
		must(t, s.TouchAuthenticator(ctx(t), "t1", at), "touch with the same time")
		got, err := s.GetAuthenticator(ctx(t), "t1")
		must(t, err, "get")
		want := sampleAuthenticator("t1", "a1")
		want.LastUsedAt = at
		equal(t, got, want, "only LastUsedAt changed")
	})
	t.Run("ListOrderAndIsolation", func(t *testing.T) {
		s := withAccounts(t, newStore)
		for i, id := range []string{"t-c", "t-a", "t-b"} {
			a := sampleAuthenticator(id, "a1")
			a.CreatedAt = now.Add(time.Duration(2-i) * time.Minute) // inserted newest first
			if id == "t-a" {
				a.ConfirmedAt = time.Time{} // unconfirmed ones are listed too
			}
			must(t, s.CreateAuthenticator(ctx(t), a), "create")
		}
		same := sampleAuthenticator("t-0", "a1") // same CreatedAt as t-b: ordered by ID
		same.CreatedAt = now
		must(t, s.CreateAuthenticator(ctx(t), same), "create")
		must(t, s.CreateAuthenticator(ctx(t), sampleAuthenticator("t-other", "a2")), "create other account's")
		list, err := s.ListAuthenticators(ctx(t), "a1")
		must(t, err, "list")
		equal(t, authenticatorIDs(list), []string{"t-0", "t-b", "t-a", "t-c"}, "oldest first, only a1's")
		for _, a := range list {
			got, err := s.GetAuthenticator(ctx(t), a.ID)
			must(t, err, "get")
			equal(t, a, got, "listed equals stored")
		}
		list, err = s.ListAuthenticators(ctx(t), "a2")
		must(t, err, "list")
		equal(t, authenticatorIDs(list), []string{"t-other"}, "a2's")
		list, err = s.ListAuthenticators(ctx(t), "nobody")
		must(t, err, "list for an account without authenticators")
		equal(t, len(list), 0, "no authenticators")
	})
	t.Run("Delete", func(t *testing.T) {
		s := withAccounts(t, newStore)
		for _, id := range []string{"t1", "t2", "t3"} {
			must(t, s.CreateAuthenticator(ctx(t), sampleAuthenticator(id, "a1")), "create")
		}
		must(t, s.CreateAuthenticator(ctx(t), sampleAuthenticator("t-other", "a2")), "create other account's")
		must(t, s.DeleteAuthenticator(ctx(t), "t2"), "delete")
		wantErr(t, s.DeleteAuthenticator(ctx(t), "t2"), store.ErrNotFound, "delete twice")
		_, err := s.GetAuthenticator(ctx(t), "t2")
		wantErr(t, err, store.ErrNotFound, "get deleted")

		n, err := s.DeleteAuthenticators(ctx(t), "a1")
		must(t, err, "delete all of a1's")
		equal(t, n, 2, "deleted")
		n, err = s.DeleteAuthenticators(ctx(t), "a1")
		must(t, err, "delete all again")
		equal(t, n, 0, "deleted the second time")
		list, err := s.ListAuthenticators(ctx(t), "a1")
		must(t, err, "list")
		equal(t, len(list), 0, "a1's left")
		_, err = s.GetAuthenticator(ctx(t), "t-other")
		must(t, err, "another account's authenticator kept")
	})
	t.Run("UnknownAccountRefused", func(t *testing.T) {
		s := newStore(t)
		if err := s.CreateAuthenticator(ctx(t), sampleAuthenticator("t1", "nobody")); err == nil {
			t.Fatal("authenticator for an unknown account was stored")
		}
	})
	t.Run("DeletingAccountDeletesThem", func(t *testing.T) {
		s := withAccounts(t, newStore)
		must(t, s.CreateAuthenticator(ctx(t), sampleAuthenticator("t1", "a1")), "create")
		must(t, s.CreateAuthenticator(ctx(t), sampleAuthenticator("t2", "a2")), "create")
		execScript(t, s, "DELETE FROM accounts WHERE id = 'a1'")
		_, err := s.GetAuthenticator(ctx(t), "t1")
		wantErr(t, err, store.ErrNotFound, "authenticator of a deleted account")
		_, err = s.GetAuthenticator(ctx(t), "t2")
		must(t, err, "another account's authenticator kept")
	})
}

func testMFAStates(t *testing.T, newStore NewStore) {
	const step = 59_000_000 // a TOTP time step of 2026
	t.Run("ZeroStateForNewAccount", func(t *testing.T) {
		s := withAccounts(t, newStore)
		got, err := s.GetMFAState(ctx(t), "a1")
		must(t, err, "get")
		equal(t, got, store.MFAState{AccountID: "a1"}, "zero state")
	})
	t.Run("UseStep", func(t *testing.T) {
		s := withAccounts(t, newStore)
		wantErr(t, s.UseStep(ctx(t), "a1", 0, now), store.ErrStepUsed, "step 0 is not later than the zero state's")
		must(t, s.UseStep(ctx(t), "a1", step, now), "first step")
		got, err := s.GetMFAState(ctx(t), "a1")
		must(t, err, "get")
		equal(t, got, store.MFAState{AccountID: "a1", LastStep: step, UpdatedAt: now}, "state after the first step")

		later := now.Add(30 * time.Second)
		wantErr(t, s.UseStep(ctx(t), "a1", step, later), store.ErrStepUsed, "same step again")
		wantErr(t, s.UseStep(ctx(t), "a1", step-1, later), store.ErrStepUsed, "earlier step")
		got, err = s.GetMFAState(ctx(t), "a1")
		must(t, err, "get")
		equal(t, got, store.MFAState{AccountID: "a1", LastStep: step, UpdatedAt: now}, "refused steps change nothing")

		must(t, s.UseStep(ctx(t), "a1", step+1, later), "next step")
		must(t, s.UseStep(ctx(t), "a1", step+5, later), "a step further on")
		wantErr(t, s.UseStep(ctx(t), "a1", step+3, later), store.ErrStepUsed, "step between")
		got, err = s.GetMFAState(ctx(t), "a1")
		must(t, err, "get")
		equal(t, got.LastStep, int64(step+5), "last step")

		// Steps are per account.
		must(t, s.UseStep(ctx(t), "a2", step, later), "same step for another account")
	})
	t.Run("UseStepKeepsCounters", func(t *testing.T) {
		s := withAccounts(t, newStore)
		locked := now.Add(time.Minute)
		_, err := s.UpdateMFAState(ctx(t), "a1", func(m store.MFAState) (store.MFAState, error) {
			m.Failures, m.TotalFailures, m.LockedUntil, m.UpdatedAt = 2, 5, locked, now
			return m, nil
		})
		must(t, err, "update")
		later := now.Add(time.Hour)
		must(t, s.UseStep(ctx(t), "a1", step, later), "use step")
		got, err := s.GetMFAState(ctx(t), "a1")
		must(t, err, "get")
		equal(t, got, store.MFAState{AccountID: "a1", LastStep: step, Failures: 2, TotalFailures: 5,
			LockedUntil: locked, UpdatedAt: later}, "counters kept")
	})
	t.Run("UpdateCreatesThenUpdates", func(t *testing.T) {
		s := withAccounts(t, newStore)
		locked := now.Add(5 * time.Minute)
		got, err := s.UpdateMFAState(ctx(t), "a1", func(m store.MFAState) (store.MFAState, error) {
			if m != (store.MFAState{AccountID: "a1"}) {
				return m, fmt.Errorf("updater got %+v, want the zero state", m)
			}
			m.AccountID, m.LastStep = "a2", 999 // cannot change
			m.Failures, m.TotalFailures, m.LockedUntil, m.UpdatedAt = 1, 1, locked, now
			return m, nil
		})
		must(t, err, "create through update")
		want := store.MFAState{AccountID: "a1", Failures: 1, TotalFailures: 1, LockedUntil: locked, UpdatedAt: now}
		equal(t, got, want, "returned value")
		read, err := s.GetMFAState(ctx(t), "a1")
		must(t, err, "get")
		equal(t, read, want, "stored value")
		other, err := s.GetMFAState(ctx(t), "a2")
		must(t, err, "get a2")
		equal(t, other, store.MFAState{AccountID: "a2"}, "AccountID did not change")

		must(t, s.UseStep(ctx(t), "a1", step, now), "use step")
		later := now.Add(time.Hour)
		got, err = s.UpdateMFAState(ctx(t), "a1", func(m store.MFAState) (store.MFAState, error) {
			if m.Failures != 1 || m.LastStep != step {
				return m, fmt.Errorf("updater got %+v", m)
			}
			m.LastStep = 0 // cannot change
			m.Failures, m.TotalFailures, m.LockedUntil, m.UpdatedAt = 0, 7, time.Time{}, later
			return m, nil
		})
		must(t, err, "update")
		want = store.MFAState{AccountID: "a1", LastStep: step, TotalFailures: 7, UpdatedAt: later}
		equal(t, got, want, "returned value")
		read, err = s.GetMFAState(ctx(t), "a1")
		must(t, err, "get")
		equal(t, read, want, "stored value, lock-out cleared")
		wantErr(t, s.UseStep(ctx(t), "a1", step, later), store.ErrStepUsed, "LastStep still guards replays")
	})
	t.Run("UpdateAbortsOnError", func(t *testing.T) {
		s := withAccounts(t, newStore)
		boom := errors.New("boom")
		_, err := s.UpdateMFAState(ctx(t), "a1", func(m store.MFAState) (store.MFAState, error) {
			m.Failures = 9
			return m, boom
		})
		wantErr(t, err, boom, "updater error returned unchanged")
		got, err := s.GetMFAState(ctx(t), "a1")
		must(t, err, "get")
		equal(t, got, store.MFAState{AccountID: "a1"}, "nothing written for a new account")

		must(t, s.UseStep(ctx(t), "a1", step, now), "use step")
		_, err = s.UpdateMFAState(ctx(t), "a1", func(m store.MFAState) (store.MFAState, error) {
			m.Failures = 9
			return m, boom
		})
		wantErr(t, err, boom, "updater error returned unchanged")
		got, err = s.GetMFAState(ctx(t), "a1")
		must(t, err, "get")
		equal(t, got, store.MFAState{AccountID: "a1", LastStep: step, UpdatedAt: now}, "nothing written")
	})
	t.Run("UnknownAccountRefused", func(t *testing.T) {
		s := newStore(t)
		if err := s.UseStep(ctx(t), "nobody", step, now); err == nil {
			t.Fatal("time step of an unknown account was stored")
		}
		if _, err := s.UpdateMFAState(ctx(t), "nobody", func(m store.MFAState) (store.MFAState, error) {
			m.Failures++
			return m, nil
		}); err == nil {
			t.Fatal("state of an unknown account was stored")
		}
	})
	t.Run("DeletingAccountDeletesState", func(t *testing.T) {
		s := withAccounts(t, newStore)
		must(t, s.UseStep(ctx(t), "a1", step, now), "use step")
		must(t, s.UseStep(ctx(t), "a2", step, now), "use step")
		execScript(t, s, "DELETE FROM accounts WHERE id = 'a1'")
		got, err := s.GetMFAState(ctx(t), "a1")
		must(t, err, "get")
		equal(t, got, store.MFAState{AccountID: "a1"}, "state of a deleted account")
		got, err = s.GetMFAState(ctx(t), "a2")
		must(t, err, "get")
		equal(t, got.LastStep, int64(step), "another account's state kept")
	})
}

func recoveryHashes(prefix string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(fmt.Sprintf("%s-hash-%d\x00", prefix, i))
	}
	return out
}

func testRecoveryCodes(t *testing.T, newStore NewStore) {
	wantCount := func(t *testing.T, s store.Store, accountID string, want int) {
		t.Helper()
		n, err := s.CountRecoveryCodes(ctx(t), accountID)
		must(t, err, "count")
		equal(t, n, want, "unused codes of "+accountID)
	}
	t.Run("UseOnce", func(t *testing.T) {
		s := withAccounts(t, newStore)
		wantCount(t, s, "a1", 0)
		codes := recoveryHashes("one", 10)
		must(t, s.ReplaceRecoveryCodes(ctx(t), "a1", codes, now), "replace")
		must(t, s.ReplaceRecoveryCodes(ctx(t), "a2", recoveryHashes("two", 3), now), "replace a2's")
		wantCount(t, s, "a1", 10)
		must(t, s.UseRecoveryCode(ctx(t), "a1", codes[3], now.Add(time.Minute)), "use")
		wantCount(t, s, "a1", 9)
		wantErr(t, s.UseRecoveryCode(ctx(t), "a1", codes[3], now.Add(2*time.Minute)), store.ErrNotFound, "use twice")
		wantErr(t, s.UseRecoveryCode(ctx(t), "a1", []byte("wrong"), now), store.ErrNotFound, "wrong code")
		wantErr(t, s.UseRecoveryCode(ctx(t), "a1", recoveryHashes("two", 1)[0], now), store.ErrNotFound, "another account's code")
		wantErr(t, s.UseRecoveryCode(ctx(t), "nobody", codes[0], now), store.ErrNotFound, "unknown account")
		wantCount(t, s, "a1", 9)
		wantCount(t, s, "a2", 3)
		wantCount(t, s, "nobody", 0)
	})
	t.Run("SameHashForTwoAccounts", func(t *testing.T) {
		s := withAccounts(t, newStore)
		codes := recoveryHashes("shared", 2)
		must(t, s.ReplaceRecoveryCodes(ctx(t), "a1", codes, now), "replace")
		must(t, s.ReplaceRecoveryCodes(ctx(t), "a2", codes, now), "replace a2's")
		must(t, s.UseRecoveryCode(ctx(t), "a1", codes[0], now), "use a1's")
		wantCount(t, s, "a1", 1)
		wantCount(t, s, "a2", 2)
		must(t, s.UseRecoveryCode(ctx(t), "a2", codes[0], now), "use a2's")
	})
	t.Run("ReplaceInvalidatesOldCodes", func(t *testing.T) {
		s := withAccounts(t, newStore)
		old := recoveryHashes("old", 5)
		must(t, s.ReplaceRecoveryCodes(ctx(t), "a1", old, now), "replace")
		must(t, s.ReplaceRecoveryCodes(ctx(t), "a2", recoveryHashes("two", 3), now), "replace a2's")
		must(t, s.UseRecoveryCode(ctx(t), "a1", old[0], now), "use")
		fresh := recoveryHashes("new", 4)
		fresh = append(fresh, old[1]) // a hash that happens to recur is a new, unused code
		must(t, s.ReplaceRecoveryCodes(ctx(t), "a1", fresh, now.Add(time.Hour)), "regenerate")
		wantCount(t, s, "a1", 5)
		for _, h := range old[2:] {
			wantErr(t, s.UseRecoveryCode(ctx(t), "a1", h, now.Add(time.Hour)), store.ErrNotFound, "old code after regenerating")
		}
		must(t, s.UseRecoveryCode(ctx(t), "a1", fresh[0], now.Add(time.Hour)), "use new code")
		must(t, s.UseRecoveryCode(ctx(t), "a1", old[1], now.Add(time.Hour)), "use recurring code")
		wantCount(t, s, "a1", 3)
		wantCount(t, s, "a2", 3)

		must(t, s.ReplaceRecoveryCodes(ctx(t), "a1", nil, now), "replace with none")
		wantCount(t, s, "a1", 0)
		wantErr(t, s.UseRecoveryCode(ctx(t), "a1", fresh[1], now), store.ErrNotFound, "code after replacing with none")
		wantErr(t, s.ReplaceRecoveryCodes(ctx(t), "nobody", fresh, now), store.ErrNotFound, "replace for an unknown account")
	})
	t.Run("ReplaceIsAtomic", func(t *testing.T) {
		s := withAccounts(t, newStore)
		old := recoveryHashes("old", 3)
		must(t, s.ReplaceRecoveryCodes(ctx(t), "a1", old, now), "replace")
		dup := recoveryHashes("new", 2)
		dup = append(dup, dup[0])
		if err := s.ReplaceRecoveryCodes(ctx(t), "a1", dup, now); err == nil {
			t.Fatal("a set with a duplicate hash was stored")
		}
		wantCount(t, s, "a1", 3)
		must(t, s.UseRecoveryCode(ctx(t), "a1", old[0], now), "old codes still valid after a failed replace")
	})
	t.Run("Delete", func(t *testing.T) {
		s := withAccounts(t, newStore)
		must(t, s.ReplaceRecoveryCodes(ctx(t), "a1", recoveryHashes("one", 4), now), "replace")
		must(t, s.ReplaceRecoveryCodes(ctx(t), "a2", recoveryHashes("two", 3), now), "replace a2's")
		must(t, s.DeleteRecoveryCodes(ctx(t), "a1"), "delete")
		must(t, s.DeleteRecoveryCodes(ctx(t), "a1"), "delete twice")
		must(t, s.DeleteRecoveryCodes(ctx(t), "nobody"), "delete for an unknown account")
		wantCount(t, s, "a1", 0)
		wantCount(t, s, "a2", 3)
	})
	t.Run("DeletingAccountDeletesThem", func(t *testing.T) {
		s := withAccounts(t, newStore)
		must(t, s.ReplaceRecoveryCodes(ctx(t), "a1", recoveryHashes("one", 4), now), "replace")
		must(t, s.ReplaceRecoveryCodes(ctx(t), "a2", recoveryHashes("two", 3), now), "replace a2's")
		execScript(t, s, "DELETE FROM accounts WHERE id = 'a1'")
		wantCount(t, s, "a1", 0)
		wantCount(t, s, "a2", 3)
	})
}

func sampleAuditEvent(typ, accountID string) store.AuditEvent {
	return store.AuditEvent{
		At: now, Type: typ, AccountID: accountID, ActorID: accountID, ClientID: "card",
		RemoteAddr: "192.0.2.10", FlowID: "f1",
		Details: map[string]string{"authenticator": "t1", "reason": "неверный код", "nul": "a\x00b", "empty": ""},
	}
}

func auditIDs(l []store.AuditEvent) []int64 {
	return pluck(l, func(e store.AuditEvent) int64 { return e.ID })
}

func testAudit(t *testing.T, newStore NewStore) {
	t.Run("AppendList", func(t *testing.T) {
		s := newStore(t)
		events := []store.AuditEvent{
			sampleAuditEvent("mfa.enrolled", "a1"),
			{At: now.Add(time.Second), Type: "mfa.reset", ActorID: "admin:root"}, // nil details, no account
			{At: now.Add(2 * time.Second), Type: "mfa.failed", AccountID: "a2", Details: map[string]string{}},
		}
		var ids []int64
		for i, e := range events {
			id, err := s.AppendAudit(ctx(t), e)
			must(t, err, "append")
			if i > 0 && id <= ids[i-1] {
				t.Fatalf("ID %d after %d: IDs must increase", id, ids[i-1])
			}
			ids = append(ids, id)
		}
		got, err := s.ListAudit(ctx(t), store.AuditFilter{})
		must(t, err, "list")
		want := make([]store.AuditEvent, len(events))
		for i, e := range events {
			e.ID = ids[i]
			if e.Details == nil {
				e.Details = map[string]string{} // nil reads back empty
			}
			want[len(events)-1-i] = e
		}
		equal(t, got, want, "every event, newest first")
	})
	t.Run("Filters", func(t *testing.T) {
		s := newStore(t)
		ids := map[string]int64{}
		for i, p := range [][2]string{
			{"mfa.failed", "a1"}, {"mfa.failed", "a2"}, {"mfa.locked", "a1"},
			{"mfa.failed", "a1"}, {"mfa.recovery_used", "a2"}, {"mfa.reset", ""},
		} {
			e := sampleAuditEvent(p[0], p[1])
			e.At = now.Add(time.Duration(i) * time.Second)
			id, err := s.AppendAudit(ctx(t), e)
			must(t, err, "append")
			ids[fmt.Sprint(i)] = id
		}
		id := func(is ...int) []int64 {
			out := []int64{}
			for _, i := range is {
				out = append(out, ids[fmt.Sprint(i)])
			}
			return out
		}
		for _, tc := range []struct {
			f    store.AuditFilter
			want []int64
		}{
			{store.AuditFilter{}, id(5, 4, 3, 2, 1, 0)},
			{store.AuditFilter{AccountID: "a1"}, id(3, 2, 0)},
			{store.AuditFilter{AccountID: "a2"}, id(4, 1)},
			{store.AuditFilter{Type: "mfa.failed"}, id(3, 1, 0)},
			{store.AuditFilter{AccountID: "a1", Type: "mfa.failed"}, id(3, 0)},
			{store.AuditFilter{AccountID: "nobody"}, id()},
			{store.AuditFilter{Type: "mfa.none"}, id()},
			{store.AuditFilter{Limit: 2}, id(5, 4)},
			{store.AuditFilter{BeforeID: ids["4"], Limit: 2}, id(3, 2)},
			{store.AuditFilter{BeforeID: ids["2"], Limit: 2}, id(1, 0)},
			{store.AuditFilter{BeforeID: ids["0"], Limit: 2}, id()},
			{store.AuditFilter{AccountID: "a1", BeforeID: ids["3"]}, id(2, 0)},
			{store.AuditFilter{AccountID: "a1", Type: "mfa.failed", BeforeID: ids["3"], Limit: 1}, id(0)},
		} {
			got, err := s.ListAudit(ctx(t), tc.f)
			must(t, err, "list")
			equal(t, auditIDs(got), tc.want, fmt.Sprintf("filter %+v", tc.f))
			for _, e := range got {
				if (tc.f.AccountID != "" && e.AccountID != tc.f.AccountID) || (tc.f.Type != "" && e.Type != tc.f.Type) {
					t.Fatalf("filter %+v listed %+v", tc.f, e)
				}
			}
		}
	})
	t.Run("PagingAndDefaultLimit", func(t *testing.T) {
		s := newStore(t)
		const total = 105
		for i := range total {
			e := sampleAuditEvent("mfa.failed", "a1")
			e.Details = map[string]string{"n": fmt.Sprint(i)}
			_, err := s.AppendAudit(ctx(t), e)
			must(t, err, "append")
		}
		page, err := s.ListAudit(ctx(t), store.AuditFilter{AccountID: "a1"})
		must(t, err, "list")
		equal(t, len(page), 100, "default limit")
		equal(t, page[0].Details["n"], fmt.Sprint(total-1), "newest first")
		// Walk every page of 10 by BeforeID: each event exactly once, in order.
		var seen []string
		before := int64(0)
		for {
			page, err := s.ListAudit(ctx(t), store.AuditFilter{AccountID: "a1", BeforeID: before, Limit: 10})
			must(t, err, "list page")
			if len(page) == 0 {
				break
			}
			for _, e := range page {
				seen = append(seen, e.Details["n"])
			}
			before = page[len(page)-1].ID
		}
		want := []string{}
		for i := total - 1; i >= 0; i-- {
			want = append(want, fmt.Sprint(i))
		}
		equal(t, seen, want, "every event once, newest first")
	})
	t.Run("AppendOnly", func(t *testing.T) {
		s := withAccounts(t, newStore)
		e := sampleAuditEvent("mfa.enrolled", "a1")
		id, err := s.AppendAudit(ctx(t), e)
		must(t, err, "append")
		e.ID = id
		x, ok := s.(interface {
			ExecScript(ctx context.Context, script string) error
		})
		if !ok {
			t.Skip("backend cannot run SQL scripts")
		}
		for _, q := range []string{
			"UPDATE audit_events SET type = 'rewritten'",
			fmt.Sprintf("UPDATE audit_events SET account_id = 'a2' WHERE id = %d", id),
			"DELETE FROM audit_events",
			fmt.Sprintf("DELETE FROM audit_events WHERE id = %d", id),
			// Rewrites disguised as inserts; each is valid in one dialect
			// (SQLite's REPLACE deletes without firing delete triggers).
			fmt.Sprintf("INSERT OR REPLACE INTO audit_events (id, at, type) VALUES (%d, 0, 'rewritten')", id),
			fmt.Sprintf("REPLACE INTO audit_events (id, at, type) VALUES (%d, 0, 'rewritten')", id),
			fmt.Sprintf("INSERT INTO audit_events (id, at, type) VALUES (%d, 0, 'rewritten') ON CONFLICT (id) DO UPDATE SET type = 'rewritten'", id),
			fmt.Sprintf("INSERT INTO audit_events (id, at, type) OVERRIDING SYSTEM VALUE VALUES (%d, now(), 'rewritten') ON CONFLICT (id) DO UPDATE SET type = 'rewritten'", id),
		} {
			if err := x.ExecScript(ctx(t), q); err == nil {
				t.Fatalf("%s: succeeded on the append-only audit log", q)
			}
		}
		// The log outlives the account it mentions.
		execScript(t, s, "DELETE FROM accounts WHERE id = 'a1'")
		got, err := s.ListAudit(ctx(t), store.AuditFilter{})
		must(t, err, "list")
		equal(t, got, []store.AuditEvent{e}, "history unchanged")
		id2, err := s.AppendAudit(ctx(t), sampleAuditEvent("mfa.reset", "a1"))
		must(t, err, "append after refused rewrites")
		if id2 <= id {
			t.Fatalf("ID %d after %d: IDs must increase", id2, id)
		}
	})
}

func testMFAConcurrency(t *testing.T, newStore NewStore) {
	const step = 59_000_000
	t.Run("TimeStepOnce", func(t *testing.T) {
		// One code entered on several nodes at once: exactly one accepts
		// it, first-ever row creation and later steps alike.
		s := withAccounts(t, newStore)
		for _, st := range []int64{step, step + 1} {
			errs := race(racers, func(int) error {
				return s.UseStep(ctx(t), "a1", st, now)
			})
			countWins(t, errs, store.ErrStepUsed, fmt.Sprint("uses of time step ", st))
		}
		got, err := s.GetMFAState(ctx(t), "a1")
		must(t, err, "get")
		equal(t, got.LastStep, int64(step+1), "last step")
	})
	t.Run("RecoveryCodeOnce", func(t *testing.T) {
		s := withAccounts(t, newStore)
		codes := recoveryHashes("one", 3)
		must(t, s.ReplaceRecoveryCodes(ctx(t), "a1", codes, now), "replace")
		errs := race(racers, func(int) error {
			return s.UseRecoveryCode(ctx(t), "a1", codes[1], now)
		})
		countWins(t, errs, store.ErrNotFound, "uses of one recovery code")
		n, err := s.CountRecoveryCodes(ctx(t), "a1")
		must(t, err, "count")
		equal(t, n, 2, "unused codes")
	})
	t.Run("FailuresNotLost", func(t *testing.T) {
		// Wrong codes on several nodes at once, starting with no state row:
		// every one is counted.
		s := withAccounts(t, newStore)
		errs := race(racers, func(i int) error {
			_, err := s.UpdateMFAState(ctx(t), "a1", func(m store.MFAState) (store.MFAState, error) {
				m.Failures++
				m.TotalFailures++
				m.UpdatedAt = now.Add(time.Duration(i) * time.Second)
				return m, nil
			})
			return err
		})
		for _, err := range errs {
			must(t, err, "update")
		}
		got, err := s.GetMFAState(ctx(t), "a1")
		must(t, err, "get")
		equal(t, []int{got.Failures, got.TotalFailures}, []int{racers, racers}, "failures after concurrent updates")
	})
	t.Run("ReplaceRecoveryCodesLeavesOneSet", func(t *testing.T) {
		s := withAccounts(t, newStore)
		errs := race(racers, func(i int) error {
			return s.ReplaceRecoveryCodes(ctx(t), "a1", recoveryHashes(fmt.Sprint("set", i), 3), now)
		})
		for _, err := range errs {
			must(t, err, "replace")
		}
		n, err := s.CountRecoveryCodes(ctx(t), "a1")
		must(t, err, "count")
		equal(t, n, 3, "codes after concurrent regenerations")
	})
	t.Run("AppendAuditIDsUnique", func(t *testing.T) {
		s := newStore(t)
		ids := make([]int64, racers)
		errs := race(racers, func(i int) error {
			id, err := s.AppendAudit(ctx(t), sampleAuditEvent("mfa.failed", "a1"))
			ids[i] = id
			return err
		})
		for _, err := range errs {
			must(t, err, "append")
		}
		seen := map[int64]bool{}
		for _, id := range ids {
			if seen[id] {
				t.Fatalf("ID %d assigned twice: %v", id, ids)
			}
			seen[id] = true
		}
		got, err := s.ListAudit(ctx(t), store.AuditFilter{})
		must(t, err, "list")
		equal(t, len(got), racers, "events stored")
	})
}

func testUnconfirmedAuthenticatorsSwept(t *testing.T, newStore NewStore) {
	s := newStore(t)
	must(t, s.CreateAccount(ctx(t), sampleAccount("a1", "anna")), "create account")
	old := store.Authenticator{ID: "old", AccountID: "a1", Name: "x", Secret: []byte{1}, CreatedAt: now.Add(-48 * time.Hour)}
	oldConfirmed := store.Authenticator{ID: "kept", AccountID: "a1", Name: "y", Secret: []byte{1}, CreatedAt: now.Add(-48 * time.Hour)}
	fresh := store.Authenticator{ID: "fresh", AccountID: "a1", Name: "z", Secret: []byte{1}, CreatedAt: now}
	for _, a := range []store.Authenticator{old, oldConfirmed, fresh} {
		must(t, s.CreateAuthenticator(ctx(t), a), "create "+a.ID)
	}
	must(t, s.ConfirmAuthenticator(ctx(t), "kept", now.Add(-47*time.Hour)), "confirm")
	n, err := s.DeleteUnconfirmedAuthenticators(ctx(t), now.Add(-24*time.Hour), 10)
	must(t, err, "sweep")
	equal(t, n, 1, "abandoned enrolments removed")
	_, err = s.GetAuthenticator(ctx(t), "old")
	wantErr(t, err, store.ErrNotFound, "abandoned enrolment")
	_, err = s.GetAuthenticator(ctx(t), "kept")
	must(t, err, "confirmed authenticator kept")
	_, err = s.GetAuthenticator(ctx(t), "fresh")
	must(t, err, "recent enrolment kept")
}

func testEnrolRequired(t *testing.T, newStore NewStore) {
	s := newStore(t)
	must(t, s.CreateAccount(ctx(t), sampleAccount("a1", "anna")), "create account")
	st, err := s.UpdateMFAState(ctx(t), "a1", func(st store.MFAState) (store.MFAState, error) {
		st.EnrolRequired = true
		return st, nil
	})
	must(t, err, "set")
	got, err := s.GetMFAState(ctx(t), "a1")
	must(t, err, "get")
	equal(t, got, st, "round trip")
	equal(t, got.EnrolRequired, true, "enrol required")
}
