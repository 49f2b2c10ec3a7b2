package sqlstore

import (
	"context"

	"github.com/propusk/propusk/store"
)

var clients = newTable("clients", `id, name, redirect_uris, post_logout_redirect_uris, grant_types, scopes,
	public, token_endpoint_auth_method, jwks, first_party, backchannel_logout_uri, minimum_acr,
	secret_hash, previous_secret_hash, previous_secret_expires_at, created_at, updated_at,
	id_token_signed_response_alg, require_pushed_authorization_requests, access_token_format`,
	1, (*Store).clientArgs, (*Store).clientDests)

func (s *Store) clientArgs(c store.Client) []any {
	return []any{c.ID, c.Name, s.listArg(c.RedirectURIs), s.listArg(c.PostLogoutRedirectURIs), s.listArg(c.GrantTypes), s.listArg(c.Scopes),
		c.Public, c.TokenEndpointAuthMethod, c.JWKS, c.FirstParty, c.BackchannelLogoutURI, c.MinimumACR,
		c.SecretHash, c.PreviousSecretHash, s.timeArg(c.PreviousSecretExpiresAt), s.timeArg(c.CreatedAt), s.timeArg(c.UpdatedAt),
		orDefault(c.IDTokenSigningAlg, "ES256"), c.RequirePAR, orDefault(c.AccessTokenFormat, "opaque")}
}

func (s *Store) clientDests(c *store.Client) []any {
	return []any{&c.ID, &c.Name, s.d.ScanList(&c.RedirectURIs), s.d.ScanList(&c.PostLogoutRedirectURIs), s.d.ScanList(&c.GrantTypes), s.d.ScanList(&c.Scopes),
		&c.Public, &c.TokenEndpointAuthMethod, &c.JWKS, &c.FirstParty, &c.BackchannelLogoutURI, &c.MinimumACR,
		&c.SecretHash, &c.PreviousSecretHash, s.d.ScanTime(&c.PreviousSecretExpiresAt), s.d.ScanTime(&c.CreatedAt), s.d.ScanTime(&c.UpdatedAt),
		&c.IDTokenSigningAlg, &c.RequirePAR, &c.AccessTokenFormat}
}

// CreateClient implements store.Clients.
func (s *Store) CreateClient(ctx context.Context, c store.Client) error {
	return clients.create(ctx, s, "create client", c)
}

// GetClient implements store.Clients.
func (s *Store) GetClient(ctx context.Context, id string) (store.Client, error) {
	return clients.get(ctx, s, clients.byKey, id)
}

// ListClients implements store.Clients.
func (s *Store) ListClients(ctx context.Context) ([]store.Client, error) {
	return clients.list(ctx, s, "list clients", clients.selectAll+` ORDER BY id`+s.d.CollateC)
}

// UpdateClient implements store.Clients.
func (s *Store) UpdateClient(ctx context.Context, id string, fn func(store.Client) (store.Client, error)) (store.Client, error) {
	return clients.update(ctx, s, "update client", fn, func(old store.Client, c *store.Client) {
		c.ID, c.CreatedAt = old.ID, old.CreatedAt
	}, id)
}

// DeleteClient implements store.Clients.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	return clients.remove(ctx, s, "delete client", id)
}

// orDefault stores the documented default for an unset option.
func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
