package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/propusk/propusk/store"
)

const clientColumns = `id, name, redirect_uris, post_logout_redirect_uris, grant_types, scopes,
	public, token_endpoint_auth_method, jwks, first_party, backchannel_logout_uri, minimum_acr,
	secret_hash, previous_secret_hash, previous_secret_expires_at, created_at, updated_at,
	id_token_signed_response_alg, require_pushed_authorization_requests, access_token_format`

func clientArgs(c store.Client) []any {
	return []any{c.ID, c.Name, jsonList(c.RedirectURIs), jsonList(c.PostLogoutRedirectURIs), jsonList(c.GrantTypes), jsonList(c.Scopes),
		c.Public, c.TokenEndpointAuthMethod, c.JWKS, c.FirstParty, c.BackchannelLogoutURI, c.MinimumACR,
		c.SecretHash, c.PreviousSecretHash, micros(c.PreviousSecretExpiresAt), micros(c.CreatedAt), micros(c.UpdatedAt),
		orDefault(c.IDTokenSigningAlg, "ES256"), c.RequirePAR, orDefault(c.AccessTokenFormat, "opaque")}
}

func scanClient(row interface{ Scan(...any) error }) (store.Client, error) {
	var c store.Client
	var prevExp, created, updated sql.NullInt64
	err := row.Scan(&c.ID, &c.Name, listScanner{&c.RedirectURIs}, listScanner{&c.PostLogoutRedirectURIs}, listScanner{&c.GrantTypes}, listScanner{&c.Scopes},
		&c.Public, &c.TokenEndpointAuthMethod, &c.JWKS, &c.FirstParty, &c.BackchannelLogoutURI, &c.MinimumACR,
		&c.SecretHash, &c.PreviousSecretHash, &prevExp, &created, &updated,
		&c.IDTokenSigningAlg, &c.RequirePAR, &c.AccessTokenFormat)
	if err != nil {
		return store.Client{}, mapErr(err)
	}
	c.PreviousSecretExpiresAt, c.CreatedAt, c.UpdatedAt = fromMicros(prevExp), fromMicros(created), fromMicros(updated)
	return c, nil
}

// CreateClient implements store.Clients.
func (db *DB) CreateClient(ctx context.Context, c store.Client) error {
	_, err := db.writer(ctx).ExecContext(ctx,
		`INSERT INTO clients (`+clientColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, clientArgs(c)...)
	if err != nil {
		return fmt.Errorf("create client: %w", mapErr(err))
	}
	return nil
}

// GetClient implements store.Clients.
func (db *DB) GetClient(ctx context.Context, id string) (store.Client, error) {
	return scanClient(db.reader(ctx).QueryRowContext(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = ?`, id))
}

// ListClients implements store.Clients.
func (db *DB) ListClients(ctx context.Context) ([]store.Client, error) {
	rows, err := db.reader(ctx).QueryContext(ctx, `SELECT `+clientColumns+` FROM clients ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", mapErr(err))
	}
	defer rows.Close()
	var out []store.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, fmt.Errorf("list clients: %w", err)
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}

// UpdateClient implements store.Clients.
func (db *DB) UpdateClient(ctx context.Context, id string, fn func(store.Client) (store.Client, error)) (store.Client, error) {
	var updated store.Client
	err := db.InTx(ctx, func(ctx context.Context) error {
		old, err := db.GetClient(ctx, id)
		if err != nil {
			return err
		}
		c, err := fn(old)
		if err != nil {
			return err
		}
		c.ID, c.CreatedAt = old.ID, old.CreatedAt
		args := clientArgs(c)
		_, err = db.writer(ctx).ExecContext(ctx, `UPDATE clients SET
			name = ?, redirect_uris = ?, post_logout_redirect_uris = ?, grant_types = ?, scopes = ?,
			public = ?, token_endpoint_auth_method = ?, jwks = ?, first_party = ?, backchannel_logout_uri = ?, minimum_acr = ?,
			secret_hash = ?, previous_secret_hash = ?, previous_secret_expires_at = ?, updated_at = ?,
			id_token_signed_response_alg = ?, require_pushed_authorization_requests = ?, access_token_format = ?
			WHERE id = ?`, append(append(append(args[1:15:15], args[16]), args[17:]...), c.ID)...)
		if err != nil {
			return mapErr(err)
		}
		updated = c
		return nil
	})
	if err != nil {
		return store.Client{}, fmt.Errorf("update client: %w", err)
	}
	return updated, nil
}

// DeleteClient implements store.Clients.
func (db *DB) DeleteClient(ctx context.Context, id string) error {
	res, err := db.writer(ctx).ExecContext(ctx, `DELETE FROM clients WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete client: %w", mapErr(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete client: %w", mapErr(err))
	} else if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// orDefault stores the documented default for an unset option.
func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
