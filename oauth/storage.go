package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"
	fositestorage "github.com/ory/fosite/storage"
	"golang.org/x/text/language"

	"github.com/propusk/propusk/internal/clock"
	"github.com/propusk/propusk/internal/seal"
	"github.com/propusk/propusk/store"
)

// StorageBackend is what the adapter needs from a store.
type StorageBackend interface {
	store.Clients
	store.OAuthRecords
	store.ClientAssertions
	store.TxController
	store.Transactor
}

// Storage adapts store to every fosite storage interface Propusk serves
// (the list is at the bottom of this file).
type Storage struct {
	Store StorageBackend
	// Ring seals stored requests: they hold ID-token claims (personal data).
	Ring *seal.Ring
	// NewSession makes an empty session for requests read back without one
	// (PAR, revocation).
	NewSession func() fosite.Session
	Clock      clock.Func
	// PARLifespan bounds a pushed request whose session carries no expiry.
	PARLifespan time.Duration
	// ClientCacheTTL: 0 means DefaultClientCacheTTL, negative disables.
	ClientCacheTTL time.Duration

	clients sync.Map // client ID → cachedClient
}

// storedRequest is the serialised form of a fosite request. Authorize-only
// fields are kept for pushed authorization requests.
type storedRequest struct {
	ID                string    `json:"id"`
	RequestedAt       time.Time `json:"requested_at"`
	ClientID          string    `json:"client_id"`
	RequestedScope    []string  `json:"requested_scope,omitempty"`
	GrantedScope      []string  `json:"granted_scope,omitempty"`
	RequestedAudience []string  `json:"requested_audience,omitempty"`
	GrantedAudience   []string  `json:"granted_audience,omitempty"`
	Form              string    `json:"form,omitempty"`
	Lang              string    `json:"lang,omitempty"`
	// Session is the fosite session itself: written and read in the same
	// pass as the request (reading sets it to the session to fill first).
	Session any `json:"session,omitempty"`

	ResponseTypes []string `json:"response_types,omitempty"`
	RedirectURI   string   `json:"redirect_uri,omitempty"`
	State         string   `json:"state,omitempty"`
	ResponseMode  string   `json:"response_mode,omitempty"`
	DefaultMode   string   `json:"default_response_mode,omitempty"`
}

// credentialParams never rest in the database, whatever fosite hands us.
var credentialParams = []string{"client_secret", "client_assertion", "client_assertion_type", "code_verifier", "password"}

// sessionIDer is implemented by sessions that know their SSO session, so
// logout can find the grants it issued.
type sessionIDer interface{ SSOSessionID() string }

func (s *Storage) ad(kind, signature string) seal.AD {
	return seal.AD{Table: "oauth_records", Column: "data", Row: kind + ":" + signature}
}

// record builds the row for req. expiryType names the session expiry that
// bounds the row's life.
func (s *Storage) record(kind, signature string, req fosite.Requester, expiryType fosite.TokenType) (store.OAuthRecord, error) {
	sr := storedRequestOf(req)
	var subject, sid string
	expires := time.Time{}
	if sess := req.GetSession(); sess != nil {
		sr.Session = sess
		if ps, ok := sess.(*Session); ok {
			sr.Session = ps.toJSON()
		}
		subject = sess.GetSubject()
		expires = sess.GetExpiresAt(expiryType)
		if si, ok := sess.(sessionIDer); ok {
			sid = si.SSOSessionID()
		}
	}
	plain, err := json.Marshal(sr)
	if err != nil {
		return store.OAuthRecord{}, fmt.Errorf("serialise request: %w", err)
	}
	sealed, err := s.Ring.Seal(plain, s.ad(kind, signature))
	if err != nil {
		return store.OAuthRecord{}, err
	}
	if expires.IsZero() {
		// fosite sets every expiry it relies on; this only bounds rows of
		// requests whose session carries none, so the sweeper can find them.
		expires = s.Clock.Now().Add(24 * time.Hour)
	}
	return store.OAuthRecord{
		Kind: kind, Signature: signature, RequestID: req.GetID(), ClientID: req.GetClient().GetID(),
		Subject: subject, SessionID: sid, Active: true,
		RequestedAt: req.GetRequestedAt().UTC(), ExpiresAt: expires.UTC(), Data: sealed,
	}, nil
}

func (s *Storage) create(ctx context.Context, kind, signature string, req fosite.Requester, expiryType fosite.TokenType) error {
	r, err := s.record(kind, signature, req, expiryType)
	if err != nil {
		return err
	}
	return fositeErr(s.Store.CreateOAuthRecord(ctx, r))
}

// getActive is get for the records fosite asks to be active: an inactive
// one comes back with its request and ifInactive, fosite's "used" error,
// so that fosite revokes what was issued from it.
func (s *Storage) getActive(ctx context.Context, kind, signature string, sess fosite.Session, ifInactive error) (fosite.Requester, error) {
	req, inactive, err := s.get(ctx, kind, signature, sess)
	if err != nil {
		return nil, err
	}
	if inactive {
		return req, ifInactive
	}
	return req, nil
}

// get reads and opens a record into a fosite request whose session is sess
// (or a new one). It returns the request even for an inactive record, with
// inactive reporting that, so callers can return fosite's "used" errors
// together with the request as the contract demands.
func (s *Storage) get(ctx context.Context, kind, signature string, sess fosite.Session) (req *fosite.AuthorizeRequest, inactive bool, err error) {
	r, err := s.Store.GetOAuthRecord(ctx, kind, signature)
	if err != nil {
		return nil, false, fositeErr(err)
	}
	req, err = s.open(ctx, r, sess)
	return req, !r.Active, err
}

// open turns a stored record back into a fosite request: the CPU half of
// get, on every token and introspection request (BenchmarkOpenAccessRecord).
func (s *Storage) open(ctx context.Context, r store.OAuthRecord, sess fosite.Session) (*fosite.AuthorizeRequest, error) {
	kind := r.Kind
	plain, err := s.Ring.Open(r.Data, s.ad(kind, r.Signature))
	if err != nil {
		return nil, fmt.Errorf("open stored %s request: %w", kind, err)
	}
	if sess == nil && s.NewSession != nil {
		sess = s.NewSession()
	}
	var sr storedRequest
	ps, propusk := sess.(*Session)
	var sj *sessionJSON
	switch {
	case propusk:
		sj = ps.decodeInto()
		sr.Session = sj // decoded in place, in the same pass
	case sess != nil:
		sr.Session = sess
	}
	if err := json.Unmarshal(plain, &sr); err != nil {
		return nil, fmt.Errorf("read stored %s request: %w", kind, err)
	}
	if propusk {
		ps.fromJSON(sj)
	}
	client, err := s.GetClient(ctx, sr.ClientID)
	if err != nil {
		return nil, err
	}
	ar, err := sr.rebuild(client, sess)
	if err != nil {
		return nil, fmt.Errorf("read stored %s request: %w", kind, err)
	}
	return ar, nil
}

// storedRequestOf copies what req holds, but its session, into a
// storedRequest; credentialParams, and the form parameters named in drop,
// are left out of its form.
func storedRequestOf(req fosite.Requester, drop ...string) storedRequest {
	form := url.Values{}
	for k, v := range req.GetRequestForm() {
		form[k] = v
	}
	for _, k := range append(credentialParams, drop...) {
		form.Del(k)
	}
	sr := storedRequest{
		ID: req.GetID(), RequestedAt: req.GetRequestedAt().UTC(), ClientID: req.GetClient().GetID(),
		RequestedScope: req.GetRequestedScopes(), GrantedScope: req.GetGrantedScopes(),
		RequestedAudience: req.GetRequestedAudience(), GrantedAudience: req.GetGrantedAudience(),
		Form: form.Encode(),
	}
	if l, ok := req.(interface{ GetLang() language.Tag }); ok && l.GetLang() != language.Und {
		sr.Lang = l.GetLang().String()
	}
	if ar, ok := req.(fosite.AuthorizeRequester); ok {
		sr.ResponseTypes = ar.GetResponseTypes()
		if u := ar.GetRedirectURI(); u != nil {
			sr.RedirectURI = u.String()
		}
		sr.State = ar.GetState()
		sr.ResponseMode = string(ar.GetResponseMode())
		sr.DefaultMode = string(ar.GetDefaultResponseMode())
	}
	return sr
}

// rebuild is the fosite request sr holds, for client and with sess.
func (sr *storedRequest) rebuild(client fosite.Client, sess fosite.Session) (*fosite.AuthorizeRequest, error) {
	form, err := url.ParseQuery(sr.Form)
	if err != nil {
		return nil, fmt.Errorf("form: %w", err)
	}
	ar := fosite.NewAuthorizeRequest()
	ar.ID = sr.ID
	ar.RequestedAt = sr.RequestedAt
	ar.Client = client
	ar.RequestedScope = sr.RequestedScope
	ar.GrantedScope = sr.GrantedScope
	ar.RequestedAudience = sr.RequestedAudience
	ar.GrantedAudience = sr.GrantedAudience
	ar.Form = form
	ar.Session = sess
	if sr.Lang != "" {
		ar.Lang, _ = language.Parse(sr.Lang)
	}
	ar.ResponseTypes = sr.ResponseTypes
	ar.State = sr.State
	ar.ResponseMode = fosite.ResponseModeType(sr.ResponseMode)
	ar.DefaultResponseMode = fosite.ResponseModeType(sr.DefaultMode)
	if sr.RedirectURI != "" {
		if ar.RedirectURI, err = url.Parse(sr.RedirectURI); err != nil {
			return nil, fmt.Errorf("redirect URI: %w", err)
		}
	}
	return ar, nil
}

// DefaultClientCacheTTL bounds how long a node serves a client from memory.
// Every token, introspection and revocation request reads its client, most
// of them twice (to authenticate it and to rebuild the stored request);
// keeping clients a few seconds makes the common path one database round
// trip. The cost: a rotated secret's predecessor, or a deleted client,
// may still authenticate on a node for up to this long (a deleted client's
// grants are gone from the database at once).
const DefaultClientCacheTTL = 3 * time.Second

type cachedClient struct {
	c      *Client // parsed once (its JWKS too); copied per request
	loaded time.Time
}

// GetClient implements fosite.ClientManager.
func (s *Storage) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	c, err := s.loadClient(ctx, id)
	if err != nil {
		return nil, err
	}
	out := *c
	out.now = s.Clock.Now() // decides whether the previous secret still counts
	return &out, nil
}

func (s *Storage) loadClient(ctx context.Context, id string) (*Client, error) {
	ttl := s.ClientCacheTTL
	if ttl == 0 {
		ttl = DefaultClientCacheTTL
	}
	if ttl > 0 {
		if v, ok := s.clients.Load(id); ok && time.Since(v.(cachedClient).loaded) < ttl {
			return v.(cachedClient).c, nil
		}
	}
	sc, err := s.Store.GetClient(ctx, id)
	if err != nil {
		s.clients.Delete(id)
		return nil, fositeErr(err)
	}
	c, err := newClient(sc, time.Time{})
	if err != nil {
		return nil, fmt.Errorf("client %s: read its JWKS: %w", id, err)
	}
	if ttl > 0 {
		s.clients.Store(id, cachedClient{c: c, loaded: time.Now()})
	}
	return c, nil
}

// ClientAssertionJWTValid implements fosite.ClientManager: a jti is invalid
// while a record of it has not expired. A failed read lets the jti pass:
// fosite turns any error here into jti_known, which would tell a client
// whose database is down that its assertion is a replay; the conditional
// write in SetClientAssertionJWT still refuses a replay, and fails too
// while the database is down.
func (s *Storage) ClientAssertionJWTValid(ctx context.Context, jti string) error {
	exp, err := s.Store.ClientAssertionExpiry(ctx, jti)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return nil
	case exp.After(s.Clock.Now()):
		return fosite.ErrJTIKnown
	}
	return nil
}

// SetClientAssertionJWT implements fosite.ClientManager. fosite calls it
// after ClientAssertionJWTValid; the check and this write are not atomic,
// so this write is the real guard: one conditional upsert, and a replay
// racing the first use loses here with ErrJTIKnown.
//
// fosite reads an exp of 0 as "no exp" and holds an assertion valid through
// the whole second its exp names, while the record below counts as expired
// from that second on: either would let the same jti through again. An
// assertion is good only before its exp (RFC 7519 §4.1.4).
func (s *Storage) SetClientAssertionJWT(ctx context.Context, jti string, exp time.Time) error {
	if !exp.After(s.Clock.Now()) {
		return fosite.ErrInvalidClient.WithHint("The client assertion has expired or has no usable 'exp' claim.")
	}
	err := s.Store.UseClientAssertion(ctx, jti, exp, s.Clock.Now())
	if errors.Is(err, store.ErrAlreadyExists) {
		return fosite.ErrJTIKnown
	}
	return fositeErr(err)
}

// CreateAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage.
func (s *Storage) CreateAuthorizeCodeSession(ctx context.Context, signature string, req fosite.Requester) error {
	return s.create(ctx, store.OAuthCode, signature, req, fosite.AuthorizeCode)
}

// GetAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage. A used
// code comes back with ErrInvalidatedAuthorizeCode and its request, so
// fosite revokes every token issued from it.
func (s *Storage) GetAuthorizeCodeSession(ctx context.Context, signature string, sess fosite.Session) (fosite.Requester, error) {
	return s.getActive(ctx, store.OAuthCode, signature, sess, fosite.ErrInvalidatedAuthorizeCode)
}

// InvalidateAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage.
// Of two concurrent redemptions only one finds the code active; the other
// gets ErrInvalidatedAuthorizeCode and its transaction rolls back.
func (s *Storage) InvalidateAuthorizeCodeSession(ctx context.Context, signature string) error {
	err := s.Store.DeactivateOAuthRecord(ctx, store.OAuthCode, signature)
	if errors.Is(err, store.ErrNotFound) {
		return fosite.ErrInvalidatedAuthorizeCode
	}
	return fositeErr(err)
}

// CreateAccessTokenSession implements oauth2.AccessTokenStorage.
func (s *Storage) CreateAccessTokenSession(ctx context.Context, signature string, req fosite.Requester) error {
	return s.create(ctx, store.OAuthAccess, signature, req, fosite.AccessToken)
}

// GetAccessTokenSession implements oauth2.AccessTokenStorage.
func (s *Storage) GetAccessTokenSession(ctx context.Context, signature string, sess fosite.Session) (fosite.Requester, error) {
	return s.getActive(ctx, store.OAuthAccess, signature, sess, fosite.ErrInactiveToken)
}

// DeleteAccessTokenSession implements oauth2.AccessTokenStorage.
func (s *Storage) DeleteAccessTokenSession(ctx context.Context, signature string) error {
	return fositeErr(s.Store.DeleteOAuthRecord(ctx, store.OAuthAccess, signature))
}

// CreateRefreshTokenSession implements oauth2.RefreshTokenStorage. The
// family's lifetime is absolute: the first refresh token fixes its end, and
// a rotated token never outlives it (fosite would give every rotated token
// a fresh full lifetime, so a stolen, regularly refreshed token would live
// for ever).
func (s *Storage) CreateRefreshTokenSession(ctx context.Context, signature, accessSignature string, req fosite.Requester) error {
	if sess, ok := req.GetSession().(*Session); ok {
		exp := sess.GetExpiresAt(fosite.RefreshToken)
		switch {
		case sess.FamilyExpiresAt.IsZero():
			sess.FamilyExpiresAt = exp
		case exp.IsZero() || exp.After(sess.FamilyExpiresAt):
			sess.SetExpiresAt(fosite.RefreshToken, sess.FamilyExpiresAt)
		}
	}
	r, err := s.record(store.OAuthRefresh, signature, req, fosite.RefreshToken)
	if err != nil {
		return err
	}
	r.AccessSignature = accessSignature
	return fositeErr(s.Store.CreateOAuthRecord(ctx, r))
}

// GetRefreshTokenSession implements oauth2.RefreshTokenStorage. A rotated
// or revoked token comes back with ErrInactiveToken and its request, so
// fosite treats the use as a replay and revokes the whole family.
func (s *Storage) GetRefreshTokenSession(ctx context.Context, signature string, sess fosite.Session) (fosite.Requester, error) {
	return s.getActive(ctx, store.OAuthRefresh, signature, sess, fosite.ErrInactiveToken)
}

// DeleteRefreshTokenSession implements oauth2.RefreshTokenStorage.
func (s *Storage) DeleteRefreshTokenSession(ctx context.Context, signature string) error {
	return fositeErr(s.Store.DeleteOAuthRecord(ctx, store.OAuthRefresh, signature))
}

// ErrRefreshTokenRaced reports that a refresh token was rotated by a
// concurrent request between fosite's read and this rotation. That is a
// replay as much as a later reuse is (one of the two callers holds a stolen
// copy), but the family cannot be revoked here: the caller's transaction is
// about to roll back. The token endpoint sees this error and calls
// RevokeFamily after it.
var ErrRefreshTokenRaced = errors.New("refresh token rotated by a concurrent request")

// RotateRefreshToken implements oauth2.RefreshTokenStorage with strict
// rotation: the used token turns inactive in one conditional write (the row
// stays until it expires, for replay detection) and the access tokens
// issued before it are revoked.
func (s *Storage) RotateRefreshToken(ctx context.Context, requestID, signature string) error {
	err := s.Store.DeactivateOAuthRecord(ctx, store.OAuthRefresh, signature)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrRefreshTokenRaced, fosite.ErrInactiveToken)
	}
	if err != nil {
		return fositeErr(err)
	}
	_, err = s.Store.DeleteOAuthRecordsByRequest(ctx, store.OAuthAccess, requestID)
	return fositeErr(err)
}

// RevokeFamily ends every token issued from one authorization: its refresh
// tokens turn inactive (kept for replay detection) and its access tokens go.
func (s *Storage) RevokeFamily(ctx context.Context, requestID string) error {
	return s.Store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.Store.DeactivateOAuthRecordsByRequest(ctx, store.OAuthRefresh, requestID); err != nil {
			return err
		}
		_, err := s.Store.DeleteOAuthRecordsByRequest(ctx, store.OAuthAccess, requestID)
		return err
	})
}

// RevokeRefreshToken implements oauth2.TokenRevocationStorage: every refresh
// token of the authorization turns inactive.
func (s *Storage) RevokeRefreshToken(ctx context.Context, requestID string) error {
	_, err := s.Store.DeactivateOAuthRecordsByRequest(ctx, store.OAuthRefresh, requestID)
	return fositeErr(err)
}

// RevokeAccessToken implements oauth2.TokenRevocationStorage.
func (s *Storage) RevokeAccessToken(ctx context.Context, requestID string) error {
	_, err := s.Store.DeleteOAuthRecordsByRequest(ctx, store.OAuthAccess, requestID)
	return fositeErr(err)
}

// oidcKey is how an OpenID Connect request is keyed. fosite hands over the
// raw authorization code here (not its signature); only a hash of it is
// stored, so the database never holds a usable code.
func oidcKey(code string) string {
	sum := sha256.Sum256([]byte(code))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// CreateOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (s *Storage) CreateOpenIDConnectSession(ctx context.Context, code string, req fosite.Requester) error {
	return s.create(ctx, store.OAuthOIDC, oidcKey(code), req, fosite.AuthorizeCode)
}

// GetOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (s *Storage) GetOpenIDConnectSession(ctx context.Context, code string, req fosite.Requester) (fosite.Requester, error) {
	var sess fosite.Session
	if req != nil {
		sess = req.GetSession()
	}
	got, _, err := s.get(ctx, store.OAuthOIDC, oidcKey(code), sess)
	if errors.Is(err, fosite.ErrNotFound) {
		return nil, fmt.Errorf("%w: %w", openid.ErrNoSessionFound, err)
	}
	if err != nil {
		return nil, err
	}
	return got, nil
}

// DeleteOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (s *Storage) DeleteOpenIDConnectSession(ctx context.Context, code string) error {
	return fositeErr(s.Store.DeleteOAuthRecord(ctx, store.OAuthOIDC, oidcKey(code)))
}

// CreatePKCERequestSession implements pkce.PKCERequestStorage.
func (s *Storage) CreatePKCERequestSession(ctx context.Context, signature string, req fosite.Requester) error {
	return s.create(ctx, store.OAuthPKCE, signature, req, fosite.AuthorizeCode)
}

// GetPKCERequestSession implements pkce.PKCERequestStorage.
func (s *Storage) GetPKCERequestSession(ctx context.Context, signature string, sess fosite.Session) (fosite.Requester, error) {
	req, _, err := s.get(ctx, store.OAuthPKCE, signature, sess)
	if err != nil {
		return nil, err
	}
	return req, nil
}

// DeletePKCERequestSession implements pkce.PKCERequestStorage.
func (s *Storage) DeletePKCERequestSession(ctx context.Context, signature string) error {
	return fositeErr(s.Store.DeleteOAuthRecord(ctx, store.OAuthPKCE, signature))
}

// CreatePARSession implements fosite.PARStorage.
func (s *Storage) CreatePARSession(ctx context.Context, requestURI string, req fosite.AuthorizeRequester) error {
	r, err := s.record(store.OAuthPAR, requestURI, req, fosite.PushedAuthorizeRequestContext)
	if err != nil {
		return err
	}
	if sess := req.GetSession(); sess == nil || sess.GetExpiresAt(fosite.PushedAuthorizeRequestContext).IsZero() {
		r.ExpiresAt = s.Clock.Now().Add(s.PARLifespan)
	}
	return fositeErr(s.Store.CreateOAuthRecord(ctx, r))
}

// GetPARSession implements fosite.PARStorage. fosite does not check a
// pushed request's expiry; this does: an expired request_uri is unknown.
func (s *Storage) GetPARSession(ctx context.Context, requestURI string) (fosite.AuthorizeRequester, error) {
	r, err := s.Store.GetOAuthRecord(ctx, store.OAuthPAR, requestURI)
	if err != nil {
		return nil, fositeErr(err)
	}
	if !r.ExpiresAt.After(s.Clock.Now()) {
		return nil, fmt.Errorf("%w: pushed authorization request expired", fosite.ErrNotFound)
	}
	req, _, err := s.get(ctx, store.OAuthPAR, requestURI, nil)
	if err != nil {
		return nil, err
	}
	return req, nil
}

// DeletePARSession implements fosite.PARStorage. A request_uri is single
// use: of two concurrent uses, one deletes it and the other fails here.
func (s *Storage) DeletePARSession(ctx context.Context, requestURI string) error {
	return fositeErr(s.Store.DeleteOAuthRecord(ctx, store.OAuthPAR, requestURI))
}

// BeginTX implements fosite's storage.Transactional. When ctx names the
// person a grant is for (store.WithGrantSubject: the token endpoint's refresh
// and code exchange), the transaction takes that person's grant lock
// first, so a withdrawal of consent or a disabled account either waits and
// ends the tokens this transaction writes, or commits first and this
// transaction's conditional rotation or redemption finds the grant ended.
func (s *Storage) BeginTX(ctx context.Context) (context.Context, error) {
	ctx, err := s.Store.BeginTx(ctx)
	if err != nil {
		return ctx, err
	}
	if sub := store.GrantSubject(ctx); sub != "" {
		if err := s.Store.LockGrants(ctx, sub); err != nil {
			s.Store.RollbackTx(ctx)
			return ctx, fositeErr(err)
		}
	}
	return ctx, nil
}

// Commit implements fosite's storage.Transactional.
func (s *Storage) Commit(ctx context.Context) error { return fositeErr(s.Store.CommitTx(ctx)) }

// Rollback implements fosite's storage.Transactional.
func (s *Storage) Rollback(ctx context.Context) error { return s.Store.RollbackTx(ctx) }

// fositeStorage lists every fosite storage interface Propusk serves, so a
// missing method fails the build, not a request.
type fositeStorage interface {
	fosite.Storage
	fosite.ClientManager
	fosite.PARStorage
	oauth2.CoreStorage
	oauth2.TokenRevocationStorage
	openid.OpenIDConnectRequestStorage
	pkce.PKCERequestStorage
	fositestorage.Transactional
}

var _ fositeStorage = (*Storage)(nil)
