package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/propusk/propusk/store"
)

const accountColumns = `id, username, email, email_verified, phone, phone_verified, kind,
	given_name, family_name, middle_name, given_name_latin, family_name_latin, middle_name_latin,
	birthdate, citizenships, country_of_residence, locale, assurance, password_hash,
	created_at, updated_at, disabled_at`

func accountArgs(a store.Account) []any {
	return []any{a.ID, a.Username, a.Email, a.EmailVerified, a.Phone, a.PhoneVerified, a.Kind,
		a.GivenName, a.FamilyName, a.MiddleName, a.GivenNameLatin, a.FamilyNameLatin, a.MiddleNameLatin,
		a.Birthdate, jsonList(a.Citizenships), a.CountryOfResidence, a.Locale, a.Assurance, a.PasswordHash,
		micros(a.CreatedAt), micros(a.UpdatedAt), micros(a.DisabledAt)}
}

func scanAccount(row interface{ Scan(...any) error }) (store.Account, error) {
	var a store.Account
	var created, updated, disabled sql.NullInt64
	err := row.Scan(&a.ID, &a.Username, &a.Email, &a.EmailVerified, &a.Phone, &a.PhoneVerified, &a.Kind,
		&a.GivenName, &a.FamilyName, &a.MiddleName, &a.GivenNameLatin, &a.FamilyNameLatin, &a.MiddleNameLatin,
		&a.Birthdate, listScanner{&a.Citizenships}, &a.CountryOfResidence, &a.Locale, &a.Assurance, &a.PasswordHash,
		&created, &updated, &disabled)
	if err != nil {
		return store.Account{}, mapErr(err)
	}
	a.CreatedAt, a.UpdatedAt, a.DisabledAt = fromMicros(created), fromMicros(updated), fromMicros(disabled)
	return a, nil
}

// CreateAccount implements store.Accounts.
func (db *DB) CreateAccount(ctx context.Context, a store.Account) error {
	_, err := db.writer(ctx).ExecContext(ctx,
		`INSERT INTO accounts (`+accountColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		accountArgs(a)...)
	if err != nil {
		return fmt.Errorf("create account: %w", mapErr(err))
	}
	return nil
}

// GetAccount implements store.Accounts.
func (db *DB) GetAccount(ctx context.Context, id string) (store.Account, error) {
	return scanAccount(db.reader(ctx).QueryRowContext(ctx,
		`SELECT `+accountColumns+` FROM accounts WHERE id = ?`, id))
}

// GetAccountByUsername implements store.Accounts.
func (db *DB) GetAccountByUsername(ctx context.Context, username string) (store.Account, error) {
	return scanAccount(db.reader(ctx).QueryRowContext(ctx,
		`SELECT `+accountColumns+` FROM accounts WHERE username = ?`, username))
}

// ListAccounts implements store.Accounts.
func (db *DB) ListAccounts(ctx context.Context, after string, limit int) ([]store.Account, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := db.reader(ctx).QueryContext(ctx,
		`SELECT `+accountColumns+` FROM accounts WHERE username > ? ORDER BY username LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", mapErr(err))
	}
	defer rows.Close()
	var out []store.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, mapErr(rows.Err())
}

// UpdateAccount implements store.Accounts. The transaction holds SQLite's
// write lock from its first statement, so the read and the write see no
// interleaved writer.
func (db *DB) UpdateAccount(ctx context.Context, id string, fn func(store.Account) (store.Account, error)) (store.Account, error) {
	var updated store.Account
	err := db.InTx(ctx, func(ctx context.Context) error {
		old, err := db.GetAccount(ctx, id)
		if err != nil {
			return err
		}
		a, err := fn(old)
		if err != nil {
			return err
		}
		a.ID, a.CreatedAt = old.ID, old.CreatedAt
		args := accountArgs(a)
		_, err = db.writer(ctx).ExecContext(ctx, `UPDATE accounts SET
			username = ?, email = ?, email_verified = ?, phone = ?, phone_verified = ?, kind = ?,
			given_name = ?, family_name = ?, middle_name = ?, given_name_latin = ?, family_name_latin = ?, middle_name_latin = ?,
			birthdate = ?, citizenships = ?, country_of_residence = ?, locale = ?, assurance = ?, password_hash = ?,
			updated_at = ?, disabled_at = ?
			WHERE id = ?`, append(append(args[1:19:19], args[20:]...), a.ID)...)
		if err != nil {
			return mapErr(err)
		}
		updated = a
		return nil
	})
	if err != nil {
		return store.Account{}, fmt.Errorf("update account: %w", err)
	}
	return updated, nil
}
