package accounts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/propusk/propusk/internal/clock"
	"github.com/propusk/propusk/store"
)

var (
	// ErrInvalidCredentials is the only answer to a failed login, whatever
	// the reason (unknown username, wrong password, disabled account, no
	// password set), so the answer does not reveal whether an account
	// exists.
	ErrInvalidCredentials = errors.New("invalid username or password")
	// ErrAlreadyDisabled: Disable was called on a disabled account. It is
	// an error rather than a no-op so that an administrator notices that
	// the account was not active.
	ErrAlreadyDisabled = errors.New("account is already disabled")
)

// Service creates and authenticates accounts on top of a store. All its
// fields may be set once before use; it is then safe for concurrent use.
type Service struct {
	Store store.Accounts
	// Access, when set, is what Disable ends besides the account itself:
	// its SSO sessions and every grant issued to it, in one transaction,
	// so a disabled person's tokens stop working at once rather than when
	// they expire. Without it Disable only marks the account.
	Access AccessStore
	// Hasher hashes new passwords; its zero value is DefaultPasswordHasher.
	// Raising it makes Authenticate upgrade older hashes as people log in.
	Hasher PasswordHasher
	Clock  clock.Func
}

// newID returns 128 random bits as 32 lower-case hex characters: unguessable,
// never reused, and free of any meaning a relying party could depend on.
func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Create registers a person. Username, profile and password are all checked
// first and every problem is reported together (errors.Join of *FieldError
// and *PasswordError). A taken username is a *FieldError for "username"
// that wraps store.ErrAlreadyExists, so a form shows it like any other
// username problem.
func (s *Service) Create(ctx context.Context, username string, p Profile, password string) (store.Account, error) {
	now := s.Clock.Now()
	u, uerr := NormalizeUsername(username)
	p, perr := p.normalize(now)
	nameForRule := u
	if uerr != nil {
		nameForRule = username
	}
	pwerr := CheckPassword(password, nameForRule)
	if err := errors.Join(uerr, perr, pwerr); err != nil {
		return store.Account{}, err
	}
	hash, err := s.Hasher.Hash(password)
	if err != nil {
		return store.Account{}, err
	}
	a := store.Account{
		ID:           newID(),
		Username:     u,
		PasswordHash: hash,
		CreatedAt:    now,
		UpdatedAt:    now,
	}
	p.apply(&a)
	if err := s.Store.CreateAccount(ctx, a); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			// With 128 random bits the ID does not collide; the username
			// does.
			return store.Account{}, &FieldError{
				Field:   "username",
				Message: fmt.Sprintf("username %q is taken", u),
				err:     err,
			}
		}
		return store.Account{}, fmt.Errorf("create account %q: %w", u, err)
	}
	return a, nil
}

// Get finds an account by username (in any spelling that normalises to it)
// or, failing that, by ID. The username comes first because that is what
// people type; an ID is 32 hex characters, which is also a valid login name,
// so the order matters only in theory.
func (s *Service) Get(ctx context.Context, usernameOrID string) (store.Account, error) {
	if u, err := NormalizeUsername(usernameOrID); err == nil {
		a, err := s.Store.GetAccountByUsername(ctx, u)
		if err == nil || !errors.Is(err, store.ErrNotFound) {
			return a, err
		}
	}
	if id := strings.TrimSpace(usernameOrID); id != "" {
		a, err := s.Store.GetAccount(ctx, id)
		if err == nil || !errors.Is(err, store.ErrNotFound) {
			return a, err
		}
	}
	return store.Account{}, fmt.Errorf("account %q: %w", usernameOrID, store.ErrNotFound)
}

// List returns every account ordered by username.
func (s *Service) List(ctx context.Context) ([]store.Account, error) {
	return s.Store.ListAccounts(ctx, "", 0)
}

// AccessStore is the part of the store that disabling an account touches
// besides the account.
type AccessStore interface {
	store.GrantLocker
	DeleteBrowserSessionsOfAccount(ctx context.Context, accountID string) (int, error)
	DeactivateOAuthRecordsBySubject(ctx context.Context, subject string) (int, error)
}

// Ended counts what disabling an account ended.
type Ended struct {
	Sessions int // SSO sessions removed
	Grants   int // codes and tokens deactivated
}

// Disable stops an account from logging in and, with s.Access, ends its
// SSO sessions and grants. Disabling a disabled account still ends what is
// left (a token refreshed while the account was being disabled) and then
// returns ErrAlreadyDisabled.
func (s *Service) Disable(ctx context.Context, usernameOrID string) (Ended, error) {
	a, err := s.Get(ctx, usernameOrID)
	if err != nil {
		return Ended{}, err
	}
	now := s.Clock.Now()
	var ended Ended
	already := false
	disable := func(ctx context.Context) error {
		_, err := s.Store.UpdateAccount(ctx, a.ID, func(a store.Account) (store.Account, error) {
			if a.Disabled() {
				return a, ErrAlreadyDisabled
			}
			a.DisabledAt = now
			a.UpdatedAt = now
			return a, nil
		})
		if errors.Is(err, ErrAlreadyDisabled) {
			already, err = true, nil
		}
		if err != nil || s.Access == nil {
			return err
		}
		if ended.Sessions, err = s.Access.DeleteBrowserSessionsOfAccount(ctx, a.ID); err != nil {
			return err
		}
		ended.Grants, err = s.Access.DeactivateOAuthRecordsBySubject(ctx, a.ID)
		return err
	}
	if s.Access != nil {
		// Under the account's grant lock: the deactivation ends what a
		// token request in flight wrote instead of leaving it working.
		err = store.InGrantTx(ctx, s.Access, a.ID, disable)
	} else {
		err = disable(ctx)
	}
	if err != nil {
		return Ended{}, fmt.Errorf("disable account %q: %w", a.Username, err)
	}
	if already {
		return ended, fmt.Errorf("disable account %q: %w", a.Username, ErrAlreadyDisabled)
	}
	return ended, nil
}

// SetPassword replaces an account's password after checking the password
// rules (a *PasswordError when broken). It works on disabled accounts too,
// so an administrator can prepare one before enabling it.
func (s *Service) SetPassword(ctx context.Context, usernameOrID, password string) error {
	a, err := s.Get(ctx, usernameOrID)
	if err != nil {
		return err
	}
	if err := CheckPassword(password, a.Username); err != nil {
		return err
	}
	hash, err := s.Hasher.Hash(password)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	_, err = s.Store.UpdateAccount(ctx, a.ID, func(a store.Account) (store.Account, error) {
		a.PasswordHash = hash
		a.UpdatedAt = now
		return a, nil
	})
	if err != nil {
		return fmt.Errorf("set password of %q: %w", a.Username, err)
	}
	return nil
}

// Authenticate checks a username and password. Every failure the person
// could cause is ErrInvalidCredentials, and every path spends one password
// verification, so neither the answer nor its timing reveals whether the
// account exists or is disabled. Other errors (the store failing, a damaged
// stored hash) are internal and returned as such.
//
// A hash made with weaker parameters than the Service's hasher is replaced
// on success; failing to store the new hash does not fail the login.
func (s *Service) Authenticate(ctx context.Context, username, password string) (store.Account, error) {
	u, err := NormalizeUsername(username)
	if err != nil {
		s.Hasher.DummyVerify(password)
		return store.Account{}, ErrInvalidCredentials
	}
	a, err := s.Store.GetAccountByUsername(ctx, u)
	if errors.Is(err, store.ErrNotFound) {
		s.Hasher.DummyVerify(password)
		return store.Account{}, ErrInvalidCredentials
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("authenticate: %w", err)
	}
	if a.PasswordHash == "" {
		s.Hasher.DummyVerify(password)
		return store.Account{}, ErrInvalidCredentials
	}
	ok, rehash, err := s.Hasher.Verify(a.PasswordHash, password)
	if err != nil {
		s.Hasher.DummyVerify(password)
		return store.Account{}, fmt.Errorf("authenticate account %s: stored password hash: %w", a.ID, err)
	}
	// Disabled is checked only after the password, so a disabled account
	// costs the same time as an active one.
	if !ok || a.Disabled() {
		return store.Account{}, ErrInvalidCredentials
	}
	if rehash {
		if updated, err := s.rehash(ctx, a, password); err == nil {
			a = updated
		}
	}
	return a, nil
}

// errHashChanged aborts a rehash when the stored hash is no longer the one
// we verified (the password was changed meanwhile): the newer one wins.
var errHashChanged = errors.New("password hash changed concurrently")

func (s *Service) rehash(ctx context.Context, a store.Account, password string) (store.Account, error) {
	hash, err := s.Hasher.Hash(password)
	if err != nil {
		return a, err
	}
	old := a.PasswordHash
	now := s.Clock.Now()
	return s.Store.UpdateAccount(ctx, a.ID, func(cur store.Account) (store.Account, error) {
		if cur.PasswordHash != old {
			return cur, errHashChanged
		}
		cur.PasswordHash = hash
		cur.UpdatedAt = now
		return cur, nil
	})
}

// LogValue renders an account for logs as its ID, username and kind only:
// store.Account holds the password hash and personal data, which must not
// end up in log files.
func LogValue(a store.Account) slog.Value {
	return slog.GroupValue(
		slog.String("id", a.ID),
		slog.String("username", a.Username),
		slog.String("kind", a.Kind),
	)
}
