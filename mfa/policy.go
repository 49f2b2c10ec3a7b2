package mfa

import (
	"context"
	"strconv"
	"time"

	"github.com/propusk/propusk/store"
)

// Lock-out policy: guessing six digits is one in a million per try, so a
// handful of tries is harmless and a few hundred is not.
const (
	// FreeFailures is how many wrong codes in a row are allowed before the
	// second factor locks.
	FreeFailures = 5
	// FirstDelay is the first lock's length; each further failure doubles
	// it, up to MaxDelay.
	FirstDelay = 30 * time.Second
	MaxDelay   = time.Hour
	// HardLimit is the most wrong codes accepted without a password reset
	// or an administrator (propusk users unlock).
	HardLimit = 100
)

// Meta says where an event happened, for the audit log.
type Meta struct {
	ActorID    string // who acted; empty: the person themselves
	ClientID   string
	FlowID     string
	RemoteAddr string
}

// lockDelay is the wait after the n-th consecutive failure.
func lockDelay(n int) time.Duration {
	if n < FreeFailures {
		return 0
	}
	d := FirstDelay
	for i := FreeFailures; i < n && d < MaxDelay; i++ {
		d *= 2
	}
	return min(d, MaxDelay)
}

// reserve counts an attempt before its code is checked, under the row
// lock: a locked account is refused, and N guesses sent in parallel are N
// counted attempts — checking the lock, then the code, then counting would
// let a burst of parallel guesses all pass the check. A right code gives
// the reservation back (release).
func (s *Service) reserve(ctx context.Context, accountID string) (store.MFAState, error) {
	now := s.Clock.Now()
	return s.Store.UpdateMFAState(ctx, accountID, func(st store.MFAState) (store.MFAState, error) {
		if st.TotalFailures >= HardLimit {
			return st, &LockedError{Hard: true}
		}
		if now.Before(st.LockedUntil) {
			return st, &LockedError{Until: st.LockedUntil}
		}
		st.Failures++
		st.TotalFailures++
		if d := lockDelay(st.Failures); d > 0 {
			st.LockedUntil = now.Add(d)
		}
		st.UpdatedAt = now
		return st, nil
	})
}

// release undoes a reservation whose code was right: the run of failures
// ends and the lock, if this attempt set one, goes. The total keeps every
// earlier failure (only a password reset or an administrator clears it).
// A confirmed enrolment (enrolled) also ends an administrator's demand to
// enrol, in the same write.
func (s *Service) release(ctx context.Context, accountID string, enrolled bool) error {
	now := s.Clock.Now()
	_, err := s.Store.UpdateMFAState(ctx, accountID, func(st store.MFAState) (store.MFAState, error) {
		st.Failures, st.LockedUntil, st.UpdatedAt = 0, time.Time{}, now
		if st.TotalFailures > 0 {
			st.TotalFailures--
		}
		if enrolled {
			st.EnrolRequired = false
		}
		return st, nil
	})
	return err
}

// failed records a wrong (already counted) attempt in the audit log and
// returns cause, or the lock this attempt set.
func (s *Service) failed(ctx context.Context, accountID string, st store.MFAState, cause error, meta Meta) error {
	if err := s.audit(ctx, "mfa.failed", accountID, meta, map[string]string{"reason": cause.Error()}); err != nil {
		return err
	}
	switch {
	case st.TotalFailures >= HardLimit:
		s.audit(ctx, "mfa.locked", accountID, meta, map[string]string{"hard": "true"})
		return &LockedError{Hard: true}
	case s.Clock.Now().Before(st.LockedUntil):
		s.audit(ctx, "mfa.locked", accountID, meta, map[string]string{"until": st.LockedUntil.Format(time.RFC3339)})
		return &LockedError{Until: st.LockedUntil}
	}
	return cause
}

func (s *Service) audit(ctx context.Context, typ, accountID string, meta Meta, details map[string]string) error {
	actor := meta.ActorID
	if actor == "" {
		actor = accountID
	}
	_, err := s.Store.AppendAudit(ctx, store.AuditEvent{
		At: s.Clock.Now(), Type: typ, AccountID: accountID, ActorID: actor,
		ClientID: meta.ClientID, FlowID: meta.FlowID, RemoteAddr: meta.RemoteAddr, Details: details,
	})
	return err
}

// Unlock lifts a lock-out (the hard one too): an administrator's act,
// recorded with its reason.
func (s *Service) Unlock(ctx context.Context, accountID, reason string, meta Meta) error {
	return s.unlock(ctx, accountID, reason, false, meta)
}

// unlock clears every failure counter and, for a reset, demands a new
// enrolment, in one write.
func (s *Service) unlock(ctx context.Context, accountID, reason string, requireEnrolment bool, meta Meta) error {
	now := s.Clock.Now()
	if _, err := s.Store.UpdateMFAState(ctx, accountID, func(st store.MFAState) (store.MFAState, error) {
		st.Failures, st.TotalFailures, st.LockedUntil, st.UpdatedAt = 0, 0, time.Time{}, now
		st.EnrolRequired = st.EnrolRequired || requireEnrolment
		return st, nil
	}); err != nil {
		return err
	}
	return s.audit(ctx, "mfa.unlocked", accountID, meta, map[string]string{"reason": reason})
}

// Reset removes every authenticator and recovery code of the account and
// lifts any lock; the next sign-in leads the person to enrol again
// (EnrolRequired, cleared when an enrolment is confirmed). An
// administrator's act, recorded with its reason.
func (s *Service) Reset(ctx context.Context, accountID, reason string, meta Meta) error {
	n, err := s.Store.DeleteAuthenticators(ctx, accountID)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteRecoveryCodes(ctx, accountID); err != nil {
		return err
	}
	if err := s.unlock(ctx, accountID, reason, true, meta); err != nil {
		return err
	}
	return s.audit(ctx, "mfa.reset", accountID, meta, map[string]string{"reason": reason, "authenticators_removed": strconv.Itoa(n)})
}
