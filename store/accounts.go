package store

import (
	"context"
	"time"
)

// Account is a person. Field values are already validated and normalised by
// package accounts; the store keeps them as given.
type Account struct {
	ID       string // random, stable, never reused
	Username string // NFKC-normalised and case-folded; unique

	Email         string
	EmailVerified bool
	Phone         string // E.164
	PhoneVerified bool

	Kind string // citizen | compatriot | foreign_national

	GivenName  string
	FamilyName string
	MiddleName string // patronymic
	// Latin-script renderings (as in a foreign passport's MRZ) next to the
	// Cyrillic ones above.
	GivenNameLatin  string
	FamilyNameLatin string
	MiddleNameLatin string

	Birthdate          string   // YYYY-MM-DD, or empty
	Citizenships       []string // ISO 3166-1 alpha-2, upper case
	CountryOfResidence string   // ISO 3166-1 alpha-2, or empty
	Locale             string   // BCP 47, or empty
	Assurance          string   // simplified | standard | confirmed

	PasswordHash string // PHC string (argon2id); empty: no password set

	CreatedAt  time.Time
	UpdatedAt  time.Time
	DisabledAt time.Time // zero: active
}

// Disabled reports whether the account has been disabled.
func (a Account) Disabled() bool { return !a.DisabledAt.IsZero() }

// Accounts stores people.
type Accounts interface {
	// CreateAccount inserts a. ErrAlreadyExists when the ID or the username
	// is taken.
	CreateAccount(ctx context.Context, a Account) error
	// GetAccount returns ErrNotFound for an unknown ID.
	GetAccount(ctx context.Context, id string) (Account, error)
	// GetAccountByUsername looks up a normalised username; ErrNotFound when
	// none has it.
	GetAccountByUsername(ctx context.Context, username string) (Account, error)
	// ListAccounts returns accounts ordered by username, at most limit
	// (all when limit <= 0), starting after the username after.
	ListAccounts(ctx context.Context, after string, limit int) ([]Account, error)
	// UpdateAccount reads the account, applies fn and writes the result, in
	// one transaction with the row locked. fn may run more than once. An
	// error from fn aborts the update and is returned unchanged. The ID and
	// CreatedAt cannot change. ErrNotFound for an unknown ID;
	// ErrAlreadyExists when the new username is taken.
	UpdateAccount(ctx context.Context, id string, fn func(Account) (Account, error)) (Account, error)
}
