package store

import (
	"context"
	"time"
)

// Store is everything a backend offers. Consumers should depend on the
// smallest area interface they need, not on Store.
type Store interface {
	Accounts
	Clients
	ServerSecrets
	OAuthRecords
	ClientAssertions
	SigningKeys
	Flows
	BrowserSessions
	Consents
	Throttles
	Authenticators
	MFAStates
	RecoveryCodes
	Audit
	SealedValues
	Transactor
	TxController

	// Ping reports whether the database answers (readiness).
	Ping(ctx context.Context) error
	// Close releases connections. The Store must not be used afterwards.
	Close() error
}

// Transactor runs several store calls as one transaction. The transaction
// travels in the context handed to fn: every store method called with that
// context joins it. A nested InTx joins the outer transaction. fn's error
// rolls everything back and is returned unchanged. After a store call
// fails inside fn, fn must return (with that error or another): on
// PostgreSQL a failed statement aborts the transaction, so later calls
// would fail too, while SQLite would carry on; the backends agree only if
// nobody continues.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Migrator brings a database's schema to a version. Backends implement it;
// see package migrations for the files.
type Migrator interface {
	// Migrate applies every pending migration. It returns
	// migrations.ErrSchemaTooNew when the database is ahead of the binary.
	Migrate(ctx context.Context) error
	// MigrateTo applies pending migrations up to and including version.
	MigrateTo(ctx context.Context, version int) error
	// SchemaVersion is the highest applied version, 0 for an empty database.
	SchemaVersion(ctx context.Context) (int, error)
}

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
