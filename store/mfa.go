package store

import (
	"context"
	"time"
)

// Authenticator is a TOTP authenticator app registered to an account.
type Authenticator struct {
	ID        string
	AccountID string
	Name      string // the person's label ("phone", "work laptop")
	// Secret is the TOTP secret, sealed (internal/seal) by package mfa.
	Secret    []byte
	CreatedAt time.Time
	// ConfirmedAt is when the person proved the app works by entering a
	// code; zero while enrolment is unfinished. An unconfirmed
	// authenticator never counts for sign-in.
	ConfirmedAt time.Time
	LastUsedAt  time.Time // zero: never used to sign in
}

// Authenticators stores TOTP authenticators.
type Authenticators interface {
	// CreateAuthenticator inserts a (unconfirmed); ErrAlreadyExists when the
	// ID is taken.
	CreateAuthenticator(ctx context.Context, a Authenticator) error
	// GetAuthenticator returns ErrNotFound for an unknown ID.
	GetAuthenticator(ctx context.Context, id string) (Authenticator, error)
	// ListAuthenticators returns an account's authenticators, confirmed or
	// not, oldest first.
	ListAuthenticators(ctx context.Context, accountID string) ([]Authenticator, error)
	// ConfirmAuthenticator sets ConfirmedAt on an unconfirmed authenticator
	// in one conditional write. ErrNotFound when there is no unconfirmed
	// authenticator with that ID (a second tab finishing the same
	// enrolment loses here).
	ConfirmAuthenticator(ctx context.Context, id string, at time.Time) error
	// TouchAuthenticator sets LastUsedAt; ErrNotFound when unknown.
	TouchAuthenticator(ctx context.Context, id string, at time.Time) error
	// DeleteAuthenticator removes one; ErrNotFound when unknown.
	DeleteAuthenticator(ctx context.Context, id string) error
	// DeleteAuthenticators removes every authenticator of an account
	// (administrator reset) and says how many went.
	DeleteAuthenticators(ctx context.Context, accountID string) (int, error)
	// DeleteUnconfirmedAuthenticators removes at most limit enrolments
	// begun before before and never confirmed (the sweeper's job: every
	// showing of an enrolment page begins one).
	DeleteUnconfirmedAuthenticators(ctx context.Context, before time.Time, limit int) (int, error)
}

// MFAState is an account's second-factor bookkeeping: the last TOTP time
// step accepted (so each step is accepted once per account, across every
// node) and the failure counters behind the lock-out.
type MFAState struct {
	AccountID string
	// LastStep is the highest TOTP time step accepted for the account; a
	// code for this step or an earlier one is a replay.
	LastStep int64
	// Failures counts wrong codes since the last success; it drives the
	// growing lock-out delay.
	Failures int
	// TotalFailures counts wrong codes since the last password reset or
	// administrator unlock; past a hard limit the second factor stays
	// locked until one of those.
	TotalFailures int
	LockedUntil   time.Time
	// EnrolRequired leads the person to set up an authenticator at the next
	// sign-in (after an administrator's reset).
	EnrolRequired bool
	UpdatedAt     time.Time
}

// MFAStates stores second-factor bookkeeping.
type MFAStates interface {
	// GetMFAState returns the account's state, or the zero state (with
	// AccountID set) when it has none yet.
	GetMFAState(ctx context.Context, accountID string) (MFAState, error)
	// UseStep records step as accepted for the account if it is later than
	// LastStep, in one conditional write (an upsert that only moves
	// LastStep forward). ErrStepUsed when step is not later: the code was
	// already used, on this node or another.
	UseStep(ctx context.Context, accountID string, step int64, at time.Time) error
	// UpdateMFAState reads the state (the zero state when none), applies fn
	// and writes the result, in one transaction with the row locked, so
	// concurrent failures on several nodes are all counted. fn may run more
	// than once; AccountID and LastStep cannot change through it.
	UpdateMFAState(ctx context.Context, accountID string, fn func(MFAState) (MFAState, error)) (MFAState, error)
}

// RecoveryCodes stores an account's single-use recovery codes as keyed
// hashes (package mfa); never the codes.
type RecoveryCodes interface {
	// ReplaceRecoveryCodes removes the account's codes and stores hashes,
	// in one transaction: regenerating invalidates the old set at once.
	ReplaceRecoveryCodes(ctx context.Context, accountID string, hashes [][]byte, at time.Time) error
	// UseRecoveryCode marks the account's unused code with hash as used, in
	// one conditional write. ErrNotFound when no unused code matches (a
	// wrong code, or one already used).
	UseRecoveryCode(ctx context.Context, accountID string, hash []byte, at time.Time) error
	// CountRecoveryCodes says how many unused codes the account has.
	CountRecoveryCodes(ctx context.Context, accountID string) (int, error)
	// DeleteRecoveryCodes removes all of an account's codes.
	DeleteRecoveryCodes(ctx context.Context, accountID string) error
}
