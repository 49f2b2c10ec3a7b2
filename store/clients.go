package store

import (
	"context"
	"time"
)

// Client is a relying party.
type Client struct {
	ID   string
	Name string

	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	GrantTypes             []string
	Scopes                 []string

	Public                  bool
	TokenEndpointAuthMethod string // client_secret_basic | client_secret_post | private_key_jwt | none
	JWKS                    []byte // JSON Web Key Set for private_key_jwt; nil otherwise
	FirstParty              bool
	BackchannelLogoutURI    string
	MinimumACR              string
	// IDTokenSigningAlg is ES256 (the default) or RS256.
	IDTokenSigningAlg string
	// RequirePAR: the client must push its authorization requests (RFC 9126).
	RequirePAR bool
	// AccessTokenFormat is "opaque" (the default) or "jwt" (RFC 9068).
	AccessTokenFormat string

	// SecretHash is the keyed hash of the current secret (package clients);
	// never the secret itself.
	SecretHash []byte
	// PreviousSecretHash stays valid until PreviousSecretExpiresAt, so a
	// relying party can roll its configuration after a rotation.
	PreviousSecretHash      []byte
	PreviousSecretExpiresAt time.Time

	CreatedAt time.Time
	UpdatedAt time.Time
}

// Clients stores relying parties.
type Clients interface {
	// CreateClient inserts c; ErrAlreadyExists when the ID is taken.
	CreateClient(ctx context.Context, c Client) error
	// GetClient returns ErrNotFound for an unknown ID.
	GetClient(ctx context.Context, id string) (Client, error)
	// ListClients returns every client ordered by ID.
	ListClients(ctx context.Context) ([]Client, error)
	// UpdateClient works like UpdateAccount.
	UpdateClient(ctx context.Context, id string, fn func(Client) (Client, error)) (Client, error)
	// DeleteClient removes the client; ErrNotFound when there is none.
	DeleteClient(ctx context.Context, id string) error
}
