package mfa

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/propusk/propusk/internal/clock"
	"github.com/propusk/propusk/internal/seal"
	"github.com/propusk/propusk/store"
)

// TOTP parameters: what every authenticator app supports (SHA-1, six
// digits, thirty seconds) with a 160-bit secret, as RFC 4226 recommends.
const (
	Period     = 30 * time.Second
	Digits     = 6
	SecretSize = 20
	// Skew is how many time steps of clock drift are accepted either side.
	Skew = 1
	// Issuer labels the account in the authenticator app.
	Issuer = "Propusk"
	// MaxPendingEnrolments bounds an account's unconfirmed authenticators:
	// every showing of an enrolment page begins one, so reloading the page
	// would otherwise pile them up until the sweeper's daily pass. Beginning
	// one more drops the oldest; the few most recent stay confirmable, for
	// a person who scanned the code in one tab and reloaded another.
	MaxPendingEnrolments = 5
)

// Errors a person can be shown (each has a localised message in web).
var (
	ErrMalformedCode = errors.New("the code must be six digits")
	ErrWrongCode     = errors.New("the code is not right")
	// ErrReplayed: the code's time step was already used for this account
	// (the same code twice, or an older one after a newer one).
	ErrReplayed = errors.New("the code was already used; wait for the next one")
	// ErrNoAuthenticator: the account has no confirmed authenticator.
	ErrNoAuthenticator = errors.New("no authenticator is set up")
	// ErrEnrolmentDone: the enrolment was already confirmed (another tab).
	ErrEnrolmentDone = errors.New("this authenticator is already set up")
)

// LockedError says the second factor is locked and until when; Hard means
// only a password reset or an administrator can lift it.
type LockedError struct {
	Until time.Time
	Hard  bool
}

func (e *LockedError) Error() string {
	if e.Hard {
		return "the second factor is locked after too many wrong codes; reset the password or ask an administrator"
	}
	return fmt.Sprintf("too many wrong codes; try again after %s", e.Until.Format(time.RFC3339))
}

// Store is what the package persists.
type Store interface {
	store.Authenticators
	store.MFAStates
	store.RecoveryCodes
	store.Audit
}

// Service manages an account's second factors.
type Service struct {
	Store Store
	// Ring seals TOTP secrets.
	Ring *seal.Ring
	// RecoveryKey keys the recovery-code hashes (at least 32 bytes), shared
	// by every node.
	RecoveryKey []byte
	Clock       clock.Func
}

func secretAD(id string) seal.AD { return seal.AD{Table: "authenticators", Column: "secret", Row: id} }

// Enrolment is what the person needs to add Propusk to an authenticator
// app, three ways: scan the QR code, type the key, or open the link on the
// phone that has the app.
type Enrolment struct {
	AuthenticatorID string
	// Key is the secret in base32, grouped by four for typing.
	Key string
	// URL is the otpauth:// URI (also what the QR code holds).
	URL string
	// QRCode is a PNG image of URL.
	QRCode []byte
}

// ErrAlreadyEnrolled: the account has an authenticator, and adding another
// needs a second factor proven first (the account page re-authenticates);
// otherwise a stolen password would let anyone add their own app.
var ErrAlreadyEnrolled = errors.New("an authenticator is already set up; prove it first to add another")

// Begin starts enrolling an authenticator called name for the account. It
// becomes usable only once Confirm sees a valid code from it. additional
// must be true only when the caller has just verified one of the account's
// existing factors; without it an account that has an authenticator cannot
// begin another.
func (s *Service) Begin(ctx context.Context, accountID, username, name string, additional bool, meta Meta) (Enrolment, error) {
	all, err := s.Store.ListAuthenticators(ctx, accountID)
	if err != nil {
		return Enrolment{}, fmt.Errorf("list authenticators: %w", err)
	}
	if !additional && slices.ContainsFunc(all, func(a store.Authenticator) bool { return !a.ConfirmedAt.IsZero() }) {
		return Enrolment{}, ErrAlreadyEnrolled
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = "Authenticator"
	}
	if len([]rune(name)) > 64 {
		return Enrolment{}, errors.New("the authenticator name must be at most 64 characters")
	}
	secret := make([]byte, SecretSize)
	if _, err := rand.Read(secret); err != nil {
		return Enrolment{}, err
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: Issuer, AccountName: username, Period: uint(Period / time.Second),
		Secret: secret, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return Enrolment{}, fmt.Errorf("generate TOTP key: %w", err)
	}
	idb := make([]byte, 16)
	rand.Read(idb)
	id := hex.EncodeToString(idb)
	sealed, err := s.Ring.Seal([]byte(key.Secret()), secretAD(id))
	if err != nil {
		return Enrolment{}, err
	}
	if err := s.dropOldPending(ctx, all); err != nil {
		return Enrolment{}, err
	}
	now := s.Clock.Now()
	if err := s.Store.CreateAuthenticator(ctx, store.Authenticator{ID: id, AccountID: accountID, Name: name, Secret: sealed, CreatedAt: now}); err != nil {
		return Enrolment{}, fmt.Errorf("store authenticator: %w", err)
	}
	return enrolmentOf(id, key)
}

// dropOldPending makes room for one more unconfirmed authenticator within
// MaxPendingEnrolments, removing the oldest of all (the account's
// authenticators, oldest first). Two enrolments begun at the same moment
// may both pass it; the bound is loose by that much, and the sweeper
// removes what is left.
func (s *Service) dropOldPending(ctx context.Context, all []store.Authenticator) error {
	var pending []string // oldest first, as listed
	for _, a := range all {
		if a.ConfirmedAt.IsZero() {
			pending = append(pending, a.ID)
		}
	}
	for len(pending) >= MaxPendingEnrolments {
		if err := s.Store.DeleteAuthenticator(ctx, pending[0]); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("remove an old enrolment: %w", err)
		}
		pending = pending[1:]
	}
	return nil
}

// group splits a base32 key into blocks of four for typing.
func group(k string) string {
	var b strings.Builder
	for i, r := range k {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// normalize strips spaces (apps show "123 456") and checks the form
// strictly: exactly six ASCII digits.
func normalize(code string) (string, error) {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\u00a0' {
			return -1
		}
		return r
	}, code)
	if len(code) != Digits {
		return "", ErrMalformedCode
	}
	for _, c := range []byte(code) {
		if c < '0' || c > '9' {
			return "", ErrMalformedCode
		}
	}
	return code, nil
}

// matchStep returns the time step within the drift window whose code is
// code, or ok false. The secret is base32 (as pquerna/otp keeps it).
func matchStep(secret, code string, now time.Time) (step int64, ok bool) {
	cur := now.Unix() / int64(Period/time.Second)
	found := false
	for d := -Skew; d <= Skew; d++ {
		st := cur + int64(d)
		want, err := totp.GenerateCodeCustom(secret, time.Unix(st*int64(Period/time.Second), 0), totp.ValidateOpts{
			Period: uint(Period / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
		})
		// Compare every candidate, in constant time, so timing does not
		// say which step matched.
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && !found {
			step, found = st, true
		}
	}
	return step, found
}

func (s *Service) openSecret(a store.Authenticator) (string, error) {
	plain, err := s.Ring.Open(a.Secret, secretAD(a.ID))
	if err != nil {
		return "", fmt.Errorf("open authenticator %s: %w", a.ID, err)
	}
	if _, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(string(plain)); err != nil {
		return "", fmt.Errorf("authenticator %s: stored secret is not base32", a.ID)
	}
	return string(plain), nil
}

// Confirm finishes an enrolment with a code from the new app. The code's
// time step is burned like any sign-in code, so it cannot be used to sign
// in a moment later. Wrong codes count towards the lock-out. additional is
// as for Begin: without it, Confirm refuses while another authenticator is
// confirmed (one begun before the first was confirmed elsewhere).
func (s *Service) Confirm(ctx context.Context, accountID, authenticatorID, code string, additional bool, meta Meta) error {
	a, err := s.Store.GetAuthenticator(ctx, authenticatorID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.AccountID != accountID) {
		return ErrNoAuthenticator
	}
	if err != nil {
		return err
	}
	if !a.ConfirmedAt.IsZero() {
		return ErrEnrolmentDone
	}
	if !additional {
		if enrolled, err := s.Enrolled(ctx, accountID); err != nil {
			return err
		} else if enrolled {
			return ErrAlreadyEnrolled
		}
	}
	code, err = normalize(code)
	if err != nil {
		return err
	}
	secret, err := s.openSecret(a)
	if err != nil {
		return err
	}
	st, err := s.reserve(ctx, accountID)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	step, ok := matchStep(secret, code, now)
	if !ok {
		return s.failed(ctx, accountID, st, ErrWrongCode, meta)
	}
	if err := s.Store.UseStep(ctx, accountID, step, now); err != nil {
		if errors.Is(err, store.ErrStepUsed) {
			return s.failed(ctx, accountID, st, ErrReplayed, meta)
		}
		return err
	}
	if err := s.Store.ConfirmAuthenticator(ctx, a.ID, now); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return ErrEnrolmentDone
		}
		return err
	}
	if err := s.release(ctx, accountID, true); err != nil {
		return err
	}
	return s.audit(ctx, "mfa.enrolled", accountID, meta, map[string]string{"authenticator_id": a.ID, "name": a.Name})
}

// Verify checks a sign-in code against the account's confirmed
// authenticators. It returns nil only for a right code whose time step the
// account has not used yet.
func (s *Service) Verify(ctx context.Context, accountID, code string, meta Meta) error {
	code, err := normalize(code)
	if err != nil {
		return err
	}
	auths, err := s.confirmed(ctx, accountID)
	if err != nil {
		return err
	}
	if len(auths) == 0 {
		return ErrNoAuthenticator
	}
	st, err := s.reserve(ctx, accountID)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	for _, a := range auths {
		secret, err := s.openSecret(a)
		if err != nil {
			return err
		}
		step, ok := matchStep(secret, code, now)
		if !ok {
			continue
		}
		if err := s.Store.UseStep(ctx, accountID, step, now); err != nil {
			if errors.Is(err, store.ErrStepUsed) {
				// A right code whose step was used: counted like a wrong
				// one (whoever replays it may have seen it over a
				// shoulder), and audited as a replay.
				s.audit(ctx, "mfa.replayed", accountID, meta, nil)
				return s.failed(ctx, accountID, st, ErrReplayed, meta)
			}
			return err
		}
		if err := s.Store.TouchAuthenticator(ctx, a.ID, now); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := s.release(ctx, accountID, false); err != nil {
			return err
		}
		return s.audit(ctx, "mfa.succeeded", accountID, meta, map[string]string{"authenticator_id": a.ID})
	}
	return s.failed(ctx, accountID, st, ErrWrongCode, meta)
}

func (s *Service) confirmed(ctx context.Context, accountID string) ([]store.Authenticator, error) {
	all, err := s.Store.ListAuthenticators(ctx, accountID)
	if err != nil {
		return nil, err
	}
	var out []store.Authenticator
	for _, a := range all {
		if !a.ConfirmedAt.IsZero() {
			out = append(out, a)
		}
	}
	return out, nil
}

// MustEnrol reports whether the next sign-in must lead the person to set
// up an authenticator (after an administrator's reset).
func (s *Service) MustEnrol(ctx context.Context, accountID string) (bool, error) {
	st, err := s.Store.GetMFAState(ctx, accountID)
	return st.EnrolRequired, err
}

// Enrolled reports whether the account has a confirmed authenticator.
func (s *Service) Enrolled(ctx context.Context, accountID string) (bool, error) {
	auths, err := s.confirmed(ctx, accountID)
	return len(auths) > 0, err
}

// List returns the account's authenticators (confirmed or not).
func (s *Service) List(ctx context.Context, accountID string) ([]store.Authenticator, error) {
	return s.Store.ListAuthenticators(ctx, accountID)
}

// Remove deletes one of the account's authenticators. The caller must have
// re-authenticated the person (a fresh code or password).
func (s *Service) Remove(ctx context.Context, accountID, authenticatorID string, meta Meta) error {
	a, err := s.Store.GetAuthenticator(ctx, authenticatorID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.AccountID != accountID) {
		return ErrNoAuthenticator
	}
	if err != nil {
		return err
	}
	if err := s.Store.DeleteAuthenticator(ctx, a.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	// Recovery codes stand in for an authenticator; with none left they
	// would be a second factor of their own that the person cannot see.
	details := map[string]string{"authenticator_id": a.ID, "name": a.Name}
	if enrolled, err := s.Enrolled(ctx, accountID); err != nil {
		return err
	} else if !enrolled {
		if err := s.Store.DeleteRecoveryCodes(ctx, accountID); err != nil {
			return fmt.Errorf("remove recovery codes: %w", err)
		}
		details["recovery_codes_removed"] = "true"
	}
	return s.audit(ctx, "mfa.removed", accountID, meta, details)
}

// Reshow returns an unconfirmed enrolment of the account again (after a
// wrong code), so the person keeps the app entry they just made instead of
// scanning a new one.
func (s *Service) Reshow(ctx context.Context, accountID, authenticatorID, username string) (Enrolment, error) {
	a, err := s.Store.GetAuthenticator(ctx, authenticatorID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.AccountID != accountID) {
		return Enrolment{}, ErrNoAuthenticator
	}
	if err != nil {
		return Enrolment{}, err
	}
	if !a.ConfirmedAt.IsZero() {
		return Enrolment{}, ErrEnrolmentDone
	}
	secret, err := s.openSecret(a)
	if err != nil {
		return Enrolment{}, err
	}
	key, err := otp.NewKeyFromURL(fmt.Sprintf("otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=6&period=30",
		url.PathEscape(Issuer), url.PathEscape(username), secret, url.QueryEscape(Issuer)))
	if err != nil {
		return Enrolment{}, err
	}
	return enrolmentOf(a.ID, key)
}

func enrolmentOf(id string, key *otp.Key) (Enrolment, error) {
	img, err := key.Image(256, 256)
	if err != nil {
		return Enrolment{}, fmt.Errorf("draw QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Enrolment{}, fmt.Errorf("encode QR code: %w", err)
	}
	return Enrolment{AuthenticatorID: id, Key: group(key.Secret()), URL: key.URL(), QRCode: buf.Bytes()}, nil
}
