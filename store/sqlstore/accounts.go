package sqlstore

import (
	"context"

	"github.com/propusk/propusk/store"
)

var accounts = newTable("accounts", `id, username, email, email_verified, phone, phone_verified, kind,
	given_name, family_name, middle_name, given_name_latin, family_name_latin, middle_name_latin,
	birthdate, citizenships, country_of_residence, locale, assurance, password_hash,
	created_at, updated_at, disabled_at`, 1, (*Store).accountArgs, (*Store).accountDests)

var accountByUsername = accounts.selectAll + ` WHERE username = $1`

func (s *Store) accountArgs(a store.Account) []any {
	return []any{a.ID, a.Username, a.Email, a.EmailVerified, a.Phone, a.PhoneVerified, a.Kind,
		a.GivenName, a.FamilyName, a.MiddleName, a.GivenNameLatin, a.FamilyNameLatin, a.MiddleNameLatin,
		a.Birthdate, s.listArg(a.Citizenships), a.CountryOfResidence, a.Locale, a.Assurance, a.PasswordHash,
		s.timeArg(a.CreatedAt), s.timeArg(a.UpdatedAt), s.timeArg(a.DisabledAt)}
}

func (s *Store) accountDests(a *store.Account) []any {
	return []any{&a.ID, &a.Username, &a.Email, &a.EmailVerified, &a.Phone, &a.PhoneVerified, &a.Kind,
		&a.GivenName, &a.FamilyName, &a.MiddleName, &a.GivenNameLatin, &a.FamilyNameLatin, &a.MiddleNameLatin,
		&a.Birthdate, s.d.ScanList(&a.Citizenships), &a.CountryOfResidence, &a.Locale, &a.Assurance, &a.PasswordHash,
		s.d.ScanTime(&a.CreatedAt), s.d.ScanTime(&a.UpdatedAt), s.d.ScanTime(&a.DisabledAt)}
}

// CreateAccount implements store.Accounts.
func (s *Store) CreateAccount(ctx context.Context, a store.Account) error {
	return accounts.create(ctx, s, "create account", a)
}

// GetAccount implements store.Accounts.
func (s *Store) GetAccount(ctx context.Context, id string) (store.Account, error) {
	return accounts.get(ctx, s, accounts.byKey, id)
}

// GetAccountByUsername implements store.Accounts.
func (s *Store) GetAccountByUsername(ctx context.Context, username string) (store.Account, error) {
	return accounts.get(ctx, s, accountByUsername, username)
}

// ListAccounts implements store.Accounts. Usernames sort by bytes on
// every backend.
func (s *Store) ListAccounts(ctx context.Context, after string, limit int) ([]store.Account, error) {
	lim := s.d.NoLimit
	if limit > 0 {
		lim = limit
	}
	username := "username" + s.d.CollateC
	return accounts.list(ctx, s, "list accounts", accounts.selectAll+
		` WHERE `+username+` > $1 ORDER BY `+username+` LIMIT $2`, after, lim)
}

// UpdateAccount implements store.Accounts. The row is locked (or the
// whole database is, on SQLite), so concurrent updaters run one after the
// other, each seeing the last one's result.
func (s *Store) UpdateAccount(ctx context.Context, id string, fn func(store.Account) (store.Account, error)) (store.Account, error) {
	return accounts.update(ctx, s, "update account", fn, func(old store.Account, a *store.Account) {
		a.ID, a.CreatedAt = old.ID, old.CreatedAt
	}, id)
}
