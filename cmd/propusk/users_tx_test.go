package main

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/mfa"
	"github.com/propusk/propusk/store"
)

// failingWrites is the command's database with its n-th write failing; 0
// fails none. It counts the writes the administrator's commands make.
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

func (f *failingWrites) UpdateAccount(ctx context.Context, id string, fn func(store.Account) (store.Account, error)) (store.Account, error) {
	if err := f.write(); err != nil {
		return store.Account{}, err
	}
	return f.database.UpdateAccount(ctx, id, fn)
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

func (f *failingWrites) DeleteAuthenticators(ctx context.Context, accountID string) (int, error) {
	if err := f.write(); err != nil {
		return 0, err
	}
	return f.database.DeleteAuthenticators(ctx, accountID)
}

func (f *failingWrites) DeleteRecoveryCodes(ctx context.Context, accountID string) error {
	if err := f.write(); err != nil {
		return err
	}
	return f.database.DeleteRecoveryCodes(ctx, accountID)
}

func (f *failingWrites) DeleteBrowserSessionsOfAccount(ctx context.Context, accountID string) (int, error) {
	if err := f.write(); err != nil {
		return 0, err
	}
	return f.database.DeleteBrowserSessionsOfAccount(ctx, accountID)
}

// accountState is everything of an account the administrator's commands
// change.
type accountState struct {
	Account         store.Account
	MFA             store.MFAState
	Authenticators  int
	RecoveryCodes   int
	Sessions        int
	AuditEvents     int
	PasswordsLocked bool
}

func stateOf(t *testing.T, db database, acc store.Account) accountState {
	t.Helper()
	ctx := t.Context()
	var s accountState
	var err error
	if s.Account, err = db.GetAccount(ctx, acc.ID); err != nil {
		t.Fatal(err)
	}
	if s.MFA, err = db.GetMFAState(ctx, acc.ID); err != nil {
		t.Fatal(err)
	}
	auths, err := db.ListAuthenticators(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	s.Authenticators = len(auths)
	if s.RecoveryCodes, err = db.CountRecoveryCodes(ctx, acc.ID); err != nil {
		t.Fatal(err)
	}
	sessions, err := db.ListBrowserSessions(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	s.Sessions = len(sessions)
	s.AuditEvents = len(auditEvents(t, db, acc.ID, ""))
	// The probe counts a wrong password when it is let through: last, and
	// only to tell locked from not.
	s.PasswordsLocked = passwordsLocked(t, db, acc.Username, false)
	return s
}

// TestAdminCommandsAllOrNothing: users unlock, set-password and reset-mfa
// each write several rows; a failure at any of those writes leaves the
// account as it was, so the operator's retry starts clean and nothing
// happened unaudited. (Each once went on after a failed write or stopped
// half-way: a password changed with the old sessions still signed in, a
// second factor unlocked with the password lock-out in place.)
func TestAdminCommandsAllOrNothing(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		writes int
		run    func(a *app, ctx context.Context, db database, acc store.Account) error
		done   func(before, after accountState) bool
	}{
		{"users unlock", 4, // second factor state and event, password attempts, their event
			func(a *app, ctx context.Context, db database, acc store.Account) error {
				return a.unlockAccount(ctx, db, acc, "help desk")
			},
			func(before, after accountState) bool {
				return after.MFA.Failures == 0 && after.MFA.LockedUntil.IsZero() && !after.PasswordsLocked
			}},
		{"users set-password", 5, // password, second factor state and event, password attempts, sessions
			func(a *app, ctx context.Context, db database, acc store.Account) error {
				_, err := a.resetPassword(ctx, db, acc, "a new long enough password")
				return err
			},
			func(before, after accountState) bool {
				return after.Account.PasswordHash != before.Account.PasswordHash && after.Sessions == 0 &&
					after.MFA.LockedUntil.IsZero() && !after.PasswordsLocked
			}},
		{"users reset-mfa", 6, // authenticators, recovery codes, second factor state and two events, sessions
			func(a *app, ctx context.Context, db database, acc store.Account) error {
				_, _, err := a.resetSecondFactor(ctx, db, acc, "lost phone")
				return err
			},
			func(before, after accountState) bool {
				return after.Authenticators == 0 && after.RecoveryCodes == 0 && after.Sessions == 0 && after.MFA.EnrolRequired
			}},
	}
	forEachBackend(t, func(t *testing.T, b *backendFixture) {
		stdout, stderr, code := b.run(t, "", "migrate")
		wantOK(t, code, stdout, stderr)
		f := newMFAFixture(t, b)
		a := &app{getenv: mapEnv(map[string]string{"USER": "olga"})}
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ctx := t.Context()
				u := createUser(t, b, fmt.Sprintf("vera%d", i))
				acc, err := f.db.GetAccount(ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				f.enrol(t, acc.ID, acc.Username)
				if _, err := f.svc.NewRecoveryCodes(ctx, acc.ID, mfa.Meta{}); err != nil {
					t.Fatal(err)
				}
				if _, _, err := (&accounts.Sessions{Store: f.db}).Create(ctx, acc.ID, accounts.Authentication{Time: timeNow(), AMR: []string{"pwd", "otp"}}, "phone", "192.0.2.1"); err != nil {
					t.Fatal(err)
				}
				if _, err := f.db.UpdateMFAState(ctx, acc.ID, func(st store.MFAState) (store.MFAState, error) {
					st.Failures, st.TotalFailures = 5, 5
					st.LockedUntil = time.Now().UTC().Add(time.Hour).Truncate(time.Second)
					return st, nil
				}); err != nil {
					t.Fatal(err)
				}
				if !passwordsLocked(t, f.db, acc.Username, true) {
					t.Fatal("wrong passwords did not lock unknown browsers out")
				}
				before := stateOf(t, f.db, acc)
				for n := 1; n <= c.writes; n++ {
					w := &failingWrites{database: f.db, n: n}
					if err := c.run(a, ctx, w, acc); !errors.Is(err, errInjected) {
						t.Fatalf("write %d failing: %v, want the injected failure", n, err)
					}
					if w.writes != n {
						t.Errorf("write %d failing: stopped after %d writes", n, w.writes)
					}
					if after := stateOf(t, f.db, acc); !reflect.DeepEqual(after, before) {
						t.Errorf("write %d failing changed the account:\n%+v\nwas\n%+v", n, after, before)
					}
				}
				w := &failingWrites{database: f.db}
				if err := c.run(a, ctx, w, acc); err != nil {
					t.Fatal(err)
				}
				if w.writes != c.writes {
					t.Errorf("%d writes, want %d", w.writes, c.writes)
				}
				if after := stateOf(t, f.db, acc); !c.done(before, after) {
					t.Errorf("not done:\n%+v\nwas\n%+v", after, before)
				}
			})
		}
	})
}
