package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/mfa"
	"github.com/propusk/propusk/store"
)

// recoveryKeyName names the server-wide secret that keys the recovery-code
// hashes (mfa.Service.RecoveryKey). Every node, and the web handlers that
// make and check the codes, must use this same name: a different key makes
// every stored code unusable.
const recoveryKeyName = "recovery-code-hmac"

// adminActor names the administrator in the audit log: the OS user running
// the command.
func (a *app) adminActor() string {
	name := strings.TrimSpace(a.getenv("USER"))
	if name == "" {
		name = "cli"
	}
	return "admin:" + name
}

// withReason reads the account and --reason, which "users reset-mfa" and
// "users unlock" require, and runs fn with the database and that account.
// Unlocking clears counters and a reset deletes rows: neither opens a sealed
// value, so neither needs the secrets key, which an operator on a bastion
// host may rightly not have.
func (a *app) withReason(ctx context.Context, x *invocation, args []string, fn func(db database, acc store.Account, reason string) error) error {
	reason := x.fs.String("reason", "", "why, for the audit log (required)")
	who, err := a.onePositional(x.fs, args, "username or account ID")
	if err != nil {
		return err
	}
	*reason = strings.TrimSpace(*reason)
	if *reason == "" {
		return usagef("--reason is required: say why, for the audit log")
	}
	return a.withDatabase(ctx, x, func(db database) error {
		acc, err := (&accounts.Service{Store: db}).Get(ctx, who)
		if err != nil {
			return err
		}
		return fn(db, acc, *reason)
	})
}

// usersUnlock runs "users unlock", which lifts both lock-outs: the second
// factor's and the password's.
func (a *app) usersUnlock(ctx context.Context, x *invocation, args []string) error {
	return a.withReason(ctx, x, args, func(db database, acc store.Account, reason string) error {
		if err := a.unlockAccount(ctx, db, acc, reason); err != nil {
			return storeErr(err, "lift the lock-outs")
		}
		return a.answer(x, struct {
			accountRef
			Unlocked bool `json:"unlocked"`
		}{accountRef{acc.ID, acc.Username}, true},
			"second factor unlocked and wrong passwords forgotten for %s", acc.Username)
	})
}

// unlockAccount lifts both lock-outs of acc, with their audit events, in
// one transaction: a failure half-way would leave one lock-out lifted that
// the operator was told was not, or lifted without its audit event.
func (a *app) unlockAccount(ctx context.Context, db database, acc store.Account, reason string) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		s := &mfa.Service{Store: db}
		if err := s.Unlock(ctx, acc.ID, reason, mfa.Meta{ActorID: a.adminActor()}); err != nil {
			return err
		}
		// The password's lock-out too: after 100 consecutive wrong
		// passwords only known browsers may try (accounts.LoginThrottle).
		if err := (&accounts.LoginThrottle{Store: db}).Unlock(ctx, acc.Username); err != nil {
			return fmt.Errorf("clear the password attempts: %w", err)
		}
		return a.audit(ctx, db, "account.password_attempts_cleared", acc.ID, map[string]string{"reason": reason})
	})
}

// usersResetMFA runs "users reset-mfa".
func (a *app) usersResetMFA(ctx context.Context, x *invocation, args []string) error {
	return a.withReason(ctx, x, args, func(db database, acc store.Account, reason string) error {
		n, ended, err := a.resetSecondFactor(ctx, db, acc, reason)
		if err != nil {
			return storeErr(err, "reset the second factor")
		}
		return a.answer(x, struct {
			accountRef
			AuthenticatorsRemoved int `json:"authenticators_removed"`
			SessionsEnded         int `json:"sessions_ended"`
		}{accountRef{acc.ID, acc.Username}, n, ended},
			"second factor reset for %s: %d authenticators removed, %d sign-in sessions ended", acc.Username, n, ended)
	})
}

// resetSecondFactor removes acc's second factor and ends its sign-in
// sessions, in one transaction, and says how many authenticators it
// removed and sessions it ended. Stopping half-way would leave a lost
// phone's session signed in, or a reset unaudited.
func (a *app) resetSecondFactor(ctx context.Context, db database, acc store.Account, reason string) (removed, ended int, err error) {
	err = db.InTx(ctx, func(ctx context.Context) error {
		s := &mfa.Service{Store: db}
		if err := s.Reset(ctx, acc.ID, reason, mfa.Meta{ActorID: a.adminActor()}); err != nil {
			return err
		}
		var err error
		if removed, err = removedByReset(ctx, db, acc.ID); err != nil {
			return err
		}
		// Sessions that proved the removed factor would go on claiming it
		// (acr …:mfa for an account without one), and a lost phone may
		// hold one: the person signs in again and enrols.
		if ended, err = db.DeleteBrowserSessionsOfAccount(ctx, acc.ID); err != nil {
			return fmt.Errorf("end the sign-in sessions: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return removed, ended, nil
}

// removedByReset reads how many authenticators the account's newest reset
// removed from its audit event, which holds the count the delete returned.
func removedByReset(ctx context.Context, st store.Audit, accountID string) (int, error) {
	events, err := st.ListAudit(ctx, store.AuditFilter{AccountID: accountID, Type: "mfa.reset", Limit: 1})
	if err != nil {
		return 0, fmt.Errorf("read the reset from the audit log: %w", err)
	}
	if len(events) == 0 {
		return 0, fmt.Errorf("the reset is missing from the audit log")
	}
	n, err := strconv.Atoi(events[0].Details["authenticators_removed"])
	if err != nil {
		return 0, fmt.Errorf("the reset's audit event has no count of removed authenticators")
	}
	return n, nil
}
