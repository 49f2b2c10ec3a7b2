package main

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/propusk/propusk/store"
)

// failingWrites is the command's database with its n-th write (counting
// the writes an unlock makes) failing; 0 fails none.
type failingWrites struct {
	database
	n, writes int
}

var errInjected = errors.New("injected write failure")

func (f *failingWrites) write() error {
	f.writes++
	if f.writes == f.n {
		return errInjected
	}
	return nil
}

func (f *failingWrites) UpdateMFAState(ctx context.Context, accountID string, fn func(store.MFAState) (store.MFAState, error)) (store.MFAState, error) {
	if err := f.write(); err != nil {
		return store.MFAState{}, err
	}
	return f.database.UpdateMFAState(ctx, accountID, fn)
}

func (f *failingWrites) AppendAudit(ctx context.Context, e store.AuditEvent) (int64, error) {
	if err := f.write(); err != nil {
		return 0, err
	}
	return f.database.AppendAudit(ctx, e)
}

func (f *failingWrites) ResetThrottle(ctx context.Context, key string) error {
	if err := f.write(); err != nil {
		return err
	}
	return f.database.ResetThrottle(ctx, key)
}

// TestUsersUnlockAllOrNothing: an unlock that fails at any of its writes
// leaves both lock-outs and the audit log as they were.
func TestUsersUnlockAllOrNothing(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b *backendFixture) {
		ctx := t.Context()
		vera := createUser(t, b, "vera")
		db, err := openDatabase(ctx, &b.cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		acc, err := db.GetAccount(ctx, vera.ID)
		if err != nil {
			t.Fatal(err)
		}
		locked, err := db.UpdateMFAState(ctx, vera.ID, func(st store.MFAState) (store.MFAState, error) {
			st.Failures, st.TotalFailures = 5, 5
			st.LockedUntil = time.Now().UTC().Add(time.Hour).Truncate(time.Second)
			return st, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !passwordsLocked(t, db, "vera", true) {
			t.Fatal("wrong passwords did not lock unknown browsers out")
		}
		a := &app{getenv: mapEnv(map[string]string{"USER": "olga"})}
		const writes = 4 // the second factor's state and event, the password attempts, their event
		for n := 1; n <= writes; n++ {
			t.Run(fmt.Sprintf("write %d fails", n), func(t *testing.T) {
				before := auditEvents(t, db, vera.ID, "")
				f := &failingWrites{database: db, n: n}
				if err := a.unlockAccount(ctx, f, acc, "help desk"); !errors.Is(err, errInjected) {
					t.Fatalf("unlock: %v, want the injected failure", err)
				}
				if f.writes != n {
					t.Fatalf("unlock stopped after %d writes, want %d", f.writes, n)
				}
				if st, err := db.GetMFAState(ctx, vera.ID); err != nil || !reflect.DeepEqual(st, locked) {
					t.Errorf("second factor state %+v (%v), want it untouched: %+v", st, err, locked)
				}
				if !passwordsLocked(t, db, "vera", false) {
					t.Error("the password lock-out was lifted")
				}
				if after := auditEvents(t, db, vera.ID, ""); len(after) != len(before) {
					t.Errorf("%d audit events after a failed unlock, %d before", len(after), len(before))
				}
			})
		}
		f := &failingWrites{database: db}
		if err := a.unlockAccount(ctx, f, acc, "help desk"); err != nil {
			t.Fatalf("unlock: %v", err)
		}
		if f.writes != writes {
			t.Errorf("unlock made %d writes, want %d", f.writes, writes)
		}
		if st, err := db.GetMFAState(ctx, vera.ID); err != nil || st.Failures != 0 || !st.LockedUntil.IsZero() {
			t.Errorf("after unlock: second factor state %+v (%v)", st, err)
		}
		if passwordsLocked(t, db, "vera", false) {
			t.Error("after unlock: the password lock-out is still there")
		}
		for _, typ := range []string{"mfa.unlocked", "account.password_attempts_cleared"} {
			if n := len(auditEvents(t, db, vera.ID, typ)); n != 1 {
				t.Errorf("%d %s events, want 1", n, typ)
			}
		}
	})
}
