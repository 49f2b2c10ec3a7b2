package store

import (
	"context"
	"time"
)

// Kinds of OAuthRecord: what fosite persists, one row per token or
// per pending request.
const (
	OAuthCode    = "code"    // authorization code, by signature
	OAuthAccess  = "access"  // access token, by signature
	OAuthRefresh = "refresh" // refresh token, by signature
	OAuthPKCE    = "pkce"    // PKCE challenge of a code, by code signature
	OAuthOIDC    = "oidc"    // OpenID Connect request of a code, by a hash of the code
	OAuthPAR     = "par"     // pushed authorization request, by request_uri
)

// GrantKind reports whether kind is a code or a token: what a person or
// an administrator is told was ended. The other kinds are request context
// kept beside them (PKCE, OpenID Connect, PAR).
func GrantKind(kind string) bool {
	return kind == OAuthCode || kind == OAuthAccess || kind == OAuthRefresh
}

// OAuthRecord is one persisted OAuth request: a token, a code, or the
// request context stored with it. Tokens are kept by signature only, never
// in the clear; Data is the serialised request, sealed by package oauth.
type OAuthRecord struct {
	Kind      string
	Signature string
	// RequestID is shared by everything issued from one authorization (the
	// code, its tokens, every rotated refresh token): revoking a family is
	// by RequestID.
	RequestID string
	ClientID  string
	Subject   string
	// SessionID names the SSO session the grant came from, so logout can
	// find every client holding tokens from it; empty for client
	// credentials.
	SessionID string
	// AccessSignature links a refresh token to the access token issued
	// with it.
	AccessSignature string
	Active          bool
	RequestedAt     time.Time
	ExpiresAt       time.Time // the sweeper deletes the row after this
	Data            []byte
}

// OAuthRecords stores OAuth requests. Single use (codes) and rotation
// (refresh tokens) are conditional writes that exactly one concurrent
// caller can win.
type OAuthRecords interface {
	// CreateOAuthRecord inserts r; ErrAlreadyExists when (Kind, Signature)
	// is taken.
	CreateOAuthRecord(ctx context.Context, r OAuthRecord) error
	// GetOAuthRecord returns the row whether active or not (fosite must see
	// a used code or a rotated refresh token to detect a replay);
	// ErrNotFound when there is none.
	GetOAuthRecord(ctx context.Context, kind, signature string) (OAuthRecord, error)
	// DeleteOAuthRecord removes one row; ErrNotFound when there is none.
	DeleteOAuthRecord(ctx context.Context, kind, signature string) error
	// DeactivateOAuthRecord turns an active row inactive in one conditional
	// write. ErrNotFound when no active row matched: the record is unknown,
	// or another caller deactivated it first.
	DeactivateOAuthRecord(ctx context.Context, kind, signature string) error
	// DeactivateOAuthRecordsByRequest turns every active row of kind and
	// requestID inactive and says how many it changed.
	DeactivateOAuthRecordsByRequest(ctx context.Context, kind, requestID string) (int, error)
	// DeleteOAuthRecordsByRequest removes every row of kind and requestID
	// and says how many it removed.
	DeleteOAuthRecordsByRequest(ctx context.Context, kind, requestID string) (int, error)
	// DeactivateOAuthRecordsBySubject turns every active row issued to
	// subject (an account ID) inactive, of every kind, and says how many
	// codes and tokens (GrantKind) it ended: a disabled account's tokens
	// and codes stop working at once.
	DeactivateOAuthRecordsBySubject(ctx context.Context, subject string) (int, error)
	// DeactivateOAuthRecordsBySubjectAndClient turns every active row
	// issued to subject for clientID inactive, of every kind, and says how
	// many codes and tokens (GrantKind) it ended: a person who withdraws
	// consent ends that client's access, and only that client's.
	DeactivateOAuthRecordsBySubjectAndClient(ctx context.Context, subject, clientID string) (int, error)
	// LockGrants takes subject's grant lock: every transaction that issues
	// tokens or codes for a person, and every one that ends a person's
	// grants (withdrawn consent, a disabled account), takes it first, so
	// they run one after the other. Without it, on PostgreSQL (READ
	// COMMITTED) a withdrawal's UPDATE skips the rows a token request in
	// flight inserts, and those tokens outlive the withdrawal. It must be
	// called inside a transaction, as its first statement (a transaction's
	// later statements then see what the previous holder committed), and
	// holds until the transaction ends; outside a transaction it is an
	// error. Taking it again in the same transaction returns at once.
	// Begin such a transaction with a context marked WithGrantSubject, so a
	// backend whose lock waits would hold a pooled connection can queue
	// the transaction in the process first.
	LockGrants(ctx context.Context, subject string) error
	// DeleteExpiredOAuthRecords removes at most limit rows whose ExpiresAt
	// is before before, and says how many it removed. The sweeper calls it
	// in a loop; it is never on a request path.
	DeleteExpiredOAuthRecords(ctx context.Context, before time.Time, limit int) (int, error)
}

// ClientAssertions remembers the IDs (jti) of client-assertion JWTs until
// they expire, so each is accepted once.
type ClientAssertions interface {
	// UseClientAssertion records jti as used until expiresAt. A jti already
	// recorded and unexpired at now gives ErrAlreadyExists (a replay); an
	// expired record is replaced. It is one insert-or-update, so two
	// concurrent uses of one jti cannot both succeed.
	UseClientAssertion(ctx context.Context, jti string, expiresAt, now time.Time) error
	// ClientAssertionExpiry returns when the record of jti expires;
	// ErrNotFound when there is none.
	ClientAssertionExpiry(ctx context.Context, jti string) (time.Time, error)
	// DeleteExpiredClientAssertions removes at most limit expired records.
	DeleteExpiredClientAssertions(ctx context.Context, before time.Time, limit int) (int, error)
}
