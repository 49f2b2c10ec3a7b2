package store

import (
	"context"
	"time"
)

// ServerSecret is a server-wide secret (such as the key for client-secret
// hashes) kept in the database so every node shares it, sealed with the
// configured secrets key.
type ServerSecret struct {
	Name      string
	Sealed    []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ServerSecrets stores server-wide sealed secrets.
type ServerSecrets interface {
	// CreateServerSecret inserts s; ErrAlreadyExists when the name is taken
	// (another node created it first: read that one).
	CreateServerSecret(ctx context.Context, s ServerSecret) error
	// GetServerSecret returns ErrNotFound for an unknown name.
	GetServerSecret(ctx context.Context, name string) (ServerSecret, error)
	// UpdateServerSecret replaces the sealed value (re-sealing under a new
	// key); ErrNotFound for an unknown name.
	UpdateServerSecret(ctx context.Context, name string, sealed []byte, now time.Time) error
}
