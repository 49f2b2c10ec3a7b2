package clients

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/propusk/propusk/internal/clock"
	"github.com/propusk/propusk/store"
)

// DefaultSecretGrace is how long a rotated-out secret keeps working: long
// enough for a relying party to deploy its new configuration during a
// working day, short enough that a leaked old secret dies soon.
const DefaultSecretGrace = 24 * time.Hour

// ErrNoSecret is returned (wrapped) by RotateSecret for a client that does
// not authenticate with a secret: public clients and private_key_jwt ones.
var ErrNoSecret = errors.New("client has no secret")

// Service registers relying parties and manages their secrets on top of a
// store.Clients.
type Service struct {
	Store   store.Clients
	Secrets *SecretHasher
	Clock   clock.Func
}

// Create validates r and stores the client. A confidential client that
// authenticates with a secret (client_secret_basic or client_secret_post)
// gets a freshly generated one, returned here and never again: only its
// hash is stored. Public and private_key_jwt clients get secret "".
//
// A taken ID yields an error wrapping store.ErrAlreadyExists; an invalid
// registration yields Validate's joined problems.
func (s *Service) Create(ctx context.Context, r Registration) (c store.Client, secret string, err error) {
	reg, err := r.Validate()
	if err != nil {
		return store.Client{}, "", err
	}
	now := s.Clock.Now()
	c = store.Client{
		ID:                      reg.ID,
		Name:                    reg.Name,
		RedirectURIs:            reg.RedirectURIs,
		PostLogoutRedirectURIs:  reg.PostLogoutRedirectURIs,
		GrantTypes:              reg.GrantTypes,
		Scopes:                  reg.Scopes,
		Public:                  reg.Public,
		TokenEndpointAuthMethod: reg.AuthMethod,
		JWKS:                    reg.JWKS,
		FirstParty:              reg.FirstParty,
		BackchannelLogoutURI:    reg.BackchannelLogoutURI,
		MinimumACR:              reg.MinimumACR,
		IDTokenSigningAlg:       reg.IDTokenSigningAlg,
		RequirePAR:              reg.RequirePAR,
		AccessTokenFormat:       reg.AccessTokenFormat,
		CreatedAt:               now,
		UpdatedAt:               now,
	}
	if usesSecret(c) {
		if s.Secrets == nil {
			return store.Client{}, "", errors.New("clients: no secret hasher configured")
		}
		secret, err = GenerateSecret()
		if err != nil {
			return store.Client{}, "", err
		}
		c.SecretHash = s.Secrets.HashSecret(secret)
	}
	if err := s.Store.CreateClient(ctx, c); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return store.Client{}, "", &clientError{msg: fmt.Sprintf("client %q already exists", c.ID), err: err}
		}
		return store.Client{}, "", fmt.Errorf("create client %q: %w", c.ID, err)
	}
	return c, secret, nil
}

// Get returns the client; an unknown ID yields an error wrapping
// store.ErrNotFound.
func (s *Service) Get(ctx context.Context, id string) (store.Client, error) {
	c, err := s.Store.GetClient(ctx, id)
	if err != nil {
		return store.Client{}, wrapLookup("get", id, err)
	}
	return c, nil
}

// List returns every client ordered by ID.
func (s *Service) List(ctx context.Context) ([]store.Client, error) {
	cs, err := s.Store.ListClients(ctx)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	return cs, nil
}

// Delete removes the client; an unknown ID yields an error wrapping
// store.ErrNotFound.
func (s *Service) Delete(ctx context.Context, id string) error {
	if err := s.Store.DeleteClient(ctx, id); err != nil {
		return wrapLookup("delete", id, err)
	}
	return nil
}

// RotateSecret gives the client a new secret and returns it (once; only its
// hash is stored). The current secret becomes the previous one and keeps
// working for grace (DefaultSecretGrace is a sensible choice), so the relying
// party can switch without an outage; grace 0 revokes it at once, which is
// what a leaked secret calls for. There is a single previous slot: rotating
// again drops the older secret even if its grace had not run out.
//
// Clients without a secret (public, private_key_jwt) yield an error wrapping
// ErrNoSecret; an unknown ID one wrapping store.ErrNotFound.
func (s *Service) RotateSecret(ctx context.Context, id string, grace time.Duration) (secret string, err error) {
	if grace < 0 {
		return "", fmt.Errorf("secret grace period %v is negative", grace)
	}
	if s.Secrets == nil {
		return "", errors.New("clients: no secret hasher configured")
	}
	// Generated outside the update function: that function may run more
	// than once (store.Clients.UpdateClient) and must stay free of side
	// effects, and every run must install the secret we return.
	secret, err = GenerateSecret()
	if err != nil {
		return "", err
	}
	hash := s.Secrets.HashSecret(secret)
	now := s.Clock.Now()

	_, err = s.Store.UpdateClient(ctx, id, func(c store.Client) (store.Client, error) {
		if !usesSecret(c) || len(c.SecretHash) == 0 {
			return c, &clientError{
				msg: fmt.Sprintf("client %q has no secret to rotate (auth method %q)", id, c.TokenEndpointAuthMethod),
				err: ErrNoSecret,
			}
		}
		if grace > 0 {
			c.PreviousSecretHash = c.SecretHash
			c.PreviousSecretExpiresAt = now.Add(grace)
		} else {
			c.PreviousSecretHash = nil
			c.PreviousSecretExpiresAt = time.Time{}
		}
		c.SecretHash = hash
		c.UpdatedAt = now
		return c, nil
	})
	if err != nil {
		if errors.Is(err, ErrNoSecret) {
			return "", err
		}
		return "", wrapLookup("rotate secret of", id, err)
	}
	return secret, nil
}

// VerifySecret reports whether secret authenticates c at time now: it
// matches the current secret, or the previous one while now is before
// PreviousSecretExpiresAt.
//
// Both hashes are always compared, each in constant time, so the response
// time does not depend on which one (if any) matched.
func (s *Service) VerifySecret(c store.Client, secret string, now time.Time) bool {
	if s.Secrets == nil || !usesSecret(c) {
		return false
	}
	current := s.Secrets.Matches(c.SecretHash, secret)
	previous := s.Secrets.Matches(c.PreviousSecretHash, secret)
	return current || previous && now.Before(c.PreviousSecretExpiresAt)
}

// usesSecret reports whether c authenticates to the token endpoint with a
// client secret.
func usesSecret(c store.Client) bool {
	if c.Public {
		return false
	}
	switch c.TokenEndpointAuthMethod {
	case AuthClientSecretBasic, AuthClientSecretPost:
		return true
	}
	return false
}

// wrapLookup turns store.ErrNotFound into `client "x" not found` (still
// matching errors.Is(err, store.ErrNotFound)) and adds context to anything
// else.
func wrapLookup(op, id string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return &clientError{msg: fmt.Sprintf("client %q not found", id), err: err}
	}
	return fmt.Errorf("%s client %q: %w", op, id, err)
}

// clientError carries a message meant for people (`client "x" not found`)
// while still unwrapping to the store's error or sentinel, so the message
// does not read "client "x" not found: not found" and errors.Is keeps
// working.
type clientError struct {
	msg string
	err error
}

func (e *clientError) Error() string { return e.msg }
func (e *clientError) Unwrap() error { return e.err }
