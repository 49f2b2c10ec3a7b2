package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/propusk/propusk/store"
)

const accountColumns = `id, username, email, email_verified, phone, phone_verified, kind,
	given_name, family_name, middle_name, given_name_latin, family_name_latin, middle_name_latin,
	birthdate, citizenships, country_of_residence, locale, assurance, password_hash,
	created_at, updated_at, disabled_at`

func accountArgs(a store.Account) []any {
	return []any{a.ID, a.Username, a.Email, a.EmailVerified, a.Phone, a.PhoneVerified, a.Kind,
		a.GivenName, a.FamilyName, a.MiddleName, a.GivenNameLatin, a.FamilyNameLatin, a.MiddleNameLatin,
		a.Birthdate, list(a.Citizenships), a.CountryOfResidence, a.Locale, a.Assurance, a.PasswordHash,
		nullTime(a.CreatedAt), nullTime(a.UpdatedAt), nullTime(a.DisabledAt)}
}

func scanAccount(row interface{ Scan(...any) error }) (store.Account, error) {
	var a store.Account
	var created, updated, disabled *time.Time
	err := row.Scan(&a.ID, &a.Username, &a.Email, &a.EmailVerified, &a.Phone, &a.PhoneVerified, &a.Kind,
		&a.GivenName, &a.FamilyName, &a.MiddleName, &a.GivenNameLatin, &a.FamilyNameLatin, &a.MiddleNameLatin,
		&a.Birthdate, &a.Citizenships, &a.CountryOfResidence, &a.Locale, &a.Assurance, &a.PasswordHash,
		&created, &updated, &disabled)
	if err != nil {
		return store.Account{}, mapErr(err)
	}
	a.CreatedAt, a.UpdatedAt, a.DisabledAt = fromNull(created), fromNull(updated), fromNull(disabled)
	return a, nil
}

// CreateAccount implements store.Accounts.
func (db *DB) CreateAccount(ctx context.Context, a store.Account) error {
	_, err := db.q(ctx).Exec(ctx, `INSERT INTO accounts (`+accountColumns+`)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22)`, accountArgs(a)...)
	if err != nil {
		return fmt.Errorf("create account: %w", mapErr(err))
	}
	return nil
}

// GetAccount implements store.Accounts.
func (db *DB) GetAccount(ctx context.Context, id string) (store.Account, error) {
	return scanAccount(db.q(ctx).QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id))
}

// GetAccountByUsername implements store.Accounts.
func (db *DB) GetAccountByUsername(ctx context.Context, username string) (store.Account, error) {
	return scanAccount(db.q(ctx).QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE username = $1`, username))
}

// ListAccounts implements store.Accounts.
func (db *DB) ListAccounts(ctx context.Context, after string, limit int) ([]store.Account, error) {
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, err := db.q(ctx).Query(ctx, `SELECT `+accountColumns+` FROM accounts
		WHERE username COLLATE "C" > $1 ORDER BY username COLLATE "C" LIMIT $2`, after, lim)
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

// UpdateAccount implements store.Accounts. FOR UPDATE locks the row, so
// concurrent updaters run one after the other, each seeing the last one's
// result.
func (db *DB) UpdateAccount(ctx context.Context, id string, fn func(store.Account) (store.Account, error)) (store.Account, error) {
	var updated store.Account
	err := db.InTx(ctx, func(ctx context.Context) error {
		old, err := scanAccount(db.q(ctx).QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		a, err := fn(old)
		if err != nil {
			return err
		}
		a.ID, a.CreatedAt = old.ID, old.CreatedAt
		args := accountArgs(a)
		_, err = db.q(ctx).Exec(ctx, `UPDATE accounts SET
			username = $1, email = $2, email_verified = $3, phone = $4, phone_verified = $5, kind = $6,
			given_name = $7, family_name = $8, middle_name = $9, given_name_latin = $10, family_name_latin = $11, middle_name_latin = $12,
			birthdate = $13, citizenships = $14, country_of_residence = $15, locale = $16, assurance = $17, password_hash = $18,
			updated_at = $19, disabled_at = $20
			WHERE id = $21`, append(append(args[1:19:19], args[20:]...), a.ID)...)
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
