package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/propusk/propusk/store"
)

const clientColumns = `id, name, redirect_uris, post_logout_redirect_uris, grant_types, scopes,
	public, token_endpoint_auth_method, jwks, first_party, backchannel_logout_uri, minimum_acr,
	secret_hash, previous_secret_hash, previous_secret_expires_at, created_at, updated_at,
	id_token_signed_response_alg, require_pushed_authorization_requests, access_token_format`

func clientArgs(c store.Client) []any {
	return []any{c.ID, c.Name, list(c.RedirectURIs), list(c.PostLogoutRedirectURIs), list(c.GrantTypes), list(c.Scopes),
		c.Public, c.TokenEndpointAuthMethod, c.JWKS, c.FirstParty, c.BackchannelLogoutURI, c.MinimumACR,
		c.SecretHash, c.PreviousSecretHash, nullTime(c.PreviousSecretExpiresAt), nullTime(c.CreatedAt), nullTime(c.UpdatedAt),
		orDefault(c.IDTokenSigningAlg, "ES256"), c.RequirePAR, orDefault(c.AccessTokenFormat, "opaque")}
}

func scanClient(row interface{ Scan(...any) error }) (store.Client, error) {
	var c store.Client
	var prevExp, created, updated *time.Time
	err := row.Scan(&c.ID, &c.Name, &c.RedirectURIs, &c.PostLogoutRedirectURIs, &c.GrantTypes, &c.Scopes,
		&c.Public, &c.TokenEndpointAuthMethod, &c.JWKS, &c.FirstParty, &c.BackchannelLogoutURI, &c.MinimumACR,
		&c.SecretHash, &c.PreviousSecretHash, &prevExp, &created, &updated,
		&c.IDTokenSigningAlg, &c.RequirePAR, &c.AccessTokenFormat)
	if err != nil {
		return store.Client{}, mapErr(err)
	}
	c.PreviousSecretExpiresAt, c.CreatedAt, c.UpdatedAt = fromNull(prevExp), fromNull(created), fromNull(updated)
	return c, nil
}

// CreateClient implements store.Clients.
func (db *DB) CreateClient(ctx context.Context, c store.Client) error {
	_, err := db.q(ctx).Exec(ctx, `INSERT INTO clients (`+clientColumns+`)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20)`, clientArgs(c)...)
	if err != nil {
		return fmt.Errorf("create client: %w", mapErr(err))
	}
	return nil
}

// GetClient implements store.Clients.
func (db *DB) GetClient(ctx context.Context, id string) (store.Client, error) {
	return scanClient(db.q(ctx).QueryRow(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = $1`, id))
}

// ListClients implements store.Clients.
func (db *DB) ListClients(ctx context.Context) ([]store.Client, error) {
	rows, err := db.q(ctx).Query(ctx, `SELECT `+clientColumns+` FROM clients ORDER BY id COLLATE "C"`)
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
		old, err := scanClient(db.q(ctx).QueryRow(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		c, err := fn(old)
		if err != nil {
			return err
		}
		c.ID, c.CreatedAt = old.ID, old.CreatedAt
		args := clientArgs(c)
		_, err = db.q(ctx).Exec(ctx, `UPDATE clients SET
			name = $1, redirect_uris = $2, post_logout_redirect_uris = $3, grant_types = $4, scopes = $5,
			public = $6, token_endpoint_auth_method = $7, jwks = $8, first_party = $9, backchannel_logout_uri = $10, minimum_acr = $11,
			secret_hash = $12, previous_secret_hash = $13, previous_secret_expires_at = $14, updated_at = $15,
			id_token_signed_response_alg = $16, require_pushed_authorization_requests = $17, access_token_format = $18
			WHERE id = $19`, append(append(append(args[1:15:15], args[16]), args[17:]...), c.ID)...)
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
	tag, err := db.q(ctx).Exec(ctx, `DELETE FROM clients WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete client: %w", mapErr(err))
	}
	if tag.RowsAffected() == 0 {
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
