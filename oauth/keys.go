package oauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	josev3 "github.com/go-jose/go-jose/v3"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/propusk/propusk/internal/clock"
	"github.com/propusk/propusk/internal/seal"
	"github.com/propusk/propusk/store"
)

// Signing algorithms Propusk signs with: ES256 by default, RS256 for
// relying parties that register for it.
const (
	AlgES256 = "ES256"
	AlgRS256 = "RS256"
)

// SigningAlgorithms lists them, default first.
var SigningAlgorithms = []string{AlgES256, AlgRS256}

// Key lifecycle defaults.
const (
	// DefaultPublishAhead is how long a rotated-in key is published before
	// it signs, so relying parties that cache the JWKS have it by then.
	DefaultPublishAhead = time.Hour
	// DefaultRetiredPublished is how long a key stays in the JWKS after a
	// newer one took over: longer than any token it signed lives.
	DefaultRetiredPublished = 24 * time.Hour
	// DefaultRetiredKept is how long a retired key is kept (unpublished) to
	// verify id_token_hint values, which may be old and expired.
	DefaultRetiredKept = 30 * 24 * time.Hour
	// keyCacheTTL bounds how stale a node's view of the keys may be; the
	// publish-ahead period is far longer, so no node signs with a key the
	// others have not published.
	keyCacheTTL = 10 * time.Second
	// JWKSMaxAge is how long relying parties may cache the JWKS
	// (Cache-Control on the JWKS and discovery).
	JWKSMaxAge = 5 * time.Minute
	// JWKSRefresh is how often a node rebuilds the JWKS it serves from
	// memory (KeepPublished), so it learns of a key another process rotated in.
	JWKSRefresh = 30 * time.Second
	// MinPublishAhead is the shortest publish-ahead period that lets every
	// node and every relying party's cached JWKS have a key before it
	// signs; a shorter one needs Rotate's force.
	MinPublishAhead = JWKSMaxAge + JWKSRefresh + keyCacheTTL
)

// KeySet is the provider's signing keys, kept in the database so every node
// signs and publishes the same ones.
type KeySet struct {
	Store store.SigningKeys
	Ring  *seal.Ring
	Clock clock.Func

	RetiredPublished time.Duration // 0: DefaultRetiredPublished
	RetiredKept      time.Duration // 0: DefaultRetiredKept

	mu       sync.Mutex
	loaded   []key
	loadedAt time.Time

	// The JWKS as served: encoded once, rebuilt by KeepPublished and after
	// this node changes the keys, and kept when a rebuild fails, so relying
	// parties go on verifying tokens while the database is down.
	pubMu      sync.Mutex
	pubJSON    []byte
	pubBuiltAt time.Time
	pubStale   bool
	pubKept    bool // KeepPublished runs: requests never wait for the database
}

// key is a stored key, opened.
type key struct {
	store.SigningKey
	private *jose.JSONWebKey
	public  jose.JSONWebKey
	fosite  *josev3.JSONWebKey // the private key as fosite v0.49 takes it
}

func (ks *KeySet) retiredPublished() time.Duration {
	if ks.RetiredPublished > 0 {
		return ks.RetiredPublished
	}
	return DefaultRetiredPublished
}

func (ks *KeySet) retiredKept() time.Duration {
	if ks.RetiredKept > 0 {
		return ks.RetiredKept
	}
	return DefaultRetiredKept
}

func privateAD(id string) seal.AD {
	return seal.AD{Table: "signing_keys", Column: "private", Row: id}
}

// Ensure creates a key for every algorithm that has none, signing at once
// (there is nothing to publish ahead of on a fresh install). Two nodes
// starting together on an empty database may both create one; each then
// looks again and keeps only the first key by (SignFrom, ID), deleting its
// own if it is not that one, so that every node signs with the key every
// node publishes. A node has signed nothing before Ensure returns.
func (ks *KeySet) Ensure(ctx context.Context) error {
	keys, err := ks.Store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("list signing keys: %w", err)
	}
	have := map[string]bool{}
	for _, k := range keys {
		have[k.Algorithm] = true
	}
	var mine []store.SigningKey
	for _, alg := range SigningAlgorithms {
		if !have[alg] {
			k, err := ks.create(ctx, alg, ks.Clock.Now())
			if err != nil {
				return err
			}
			mine = append(mine, k)
		}
	}
	if len(mine) > 0 {
		if keys, err = ks.Store.ListSigningKeys(ctx); err != nil {
			return fmt.Errorf("list signing keys: %w", err)
		}
		for _, k := range mine {
			if first := firstKey(keys, k.Algorithm); first.ID != k.ID {
				if err := ks.Store.DeleteSigningKey(ctx, k.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("withdraw a duplicate signing key: %w", err)
				}
			}
		}
	}
	ks.invalidate()
	return nil
}

// firstKey is the key of alg with the least (SignFrom, ID).
func firstKey(keys []store.SigningKey, alg string) store.SigningKey {
	var first store.SigningKey
	for _, k := range keys {
		if k.Algorithm != alg {
			continue
		}
		if first.ID == "" || k.SignFrom.Before(first.SignFrom) || (k.SignFrom.Equal(first.SignFrom) && k.ID < first.ID) {
			first = k
		}
	}
	return first
}

// Rotate creates a new key for alg that is published now and signs after
// publishAhead. It returns the new key's ID.
func (ks *KeySet) Rotate(ctx context.Context, alg string, publishAhead time.Duration) (string, error) {
	if publishAhead < 0 {
		return "", errors.New("publish-ahead period must not be negative")
	}
	k, err := ks.create(ctx, alg, ks.Clock.Now().Add(publishAhead))
	if err != nil {
		return "", err
	}
	ks.invalidate()
	return k.ID, nil
}

func (ks *KeySet) create(ctx context.Context, alg string, signFrom time.Time) (store.SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case AlgES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgRS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return store.SigningKey{}, fmt.Errorf("unsupported signing algorithm %q (want ES256 or RS256)", alg)
	}
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("generate %s key: %w", alg, err)
	}
	jwk := jose.JSONWebKey{Key: priv, Algorithm: alg, Use: "sig"}
	pub := jwk.Public()
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("key thumbprint: %w", err)
	}
	// The kid is the RFC 7638 thumbprint: stable, unique, and it reveals
	// nothing a relying party cannot compute from the public key.
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	privJSON, err := jwk.MarshalJSON()
	if err != nil {
		return store.SigningKey{}, err
	}
	pub.KeyID = jwk.KeyID
	pubJSON, err := pub.MarshalJSON()
	if err != nil {
		return store.SigningKey{}, err
	}
	sealed, err := ks.Ring.Seal(privJSON, privateAD(jwk.KeyID))
	if err != nil {
		return store.SigningKey{}, err
	}
	now := ks.Clock.Now()
	k := store.SigningKey{ID: jwk.KeyID, Algorithm: alg, Private: sealed, Public: pubJSON, CreatedAt: now, SignFrom: signFrom.UTC()}
	if err := ks.Store.CreateSigningKey(ctx, k); err != nil {
		return store.SigningKey{}, fmt.Errorf("store signing key: %w", err)
	}
	return k, nil
}

func (ks *KeySet) invalidate() {
	ks.mu.Lock()
	ks.loadedAt = time.Time{}
	ks.mu.Unlock()
	ks.pubMu.Lock()
	ks.pubStale = true
	ks.pubMu.Unlock()
}

// keys returns every stored key, opened, reading the database at most once
// per keyCacheTTL.
func (ks *KeySet) keys(ctx context.Context) ([]key, error) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if !ks.loadedAt.IsZero() && time.Since(ks.loadedAt) < keyCacheTTL {
		return ks.loaded, nil
	}
	stored, err := ks.Store.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	out := make([]key, 0, len(stored))
	for _, s := range stored {
		k := key{SigningKey: s}
		if err := k.public.UnmarshalJSON(s.Public); err != nil {
			return nil, fmt.Errorf("signing key %s: public part: %w", s.ID, err)
		}
		plain, err := ks.Ring.Open(s.Private, privateAD(s.ID))
		if err != nil {
			return nil, fmt.Errorf("signing key %s: %w", s.ID, err)
		}
		var priv jose.JSONWebKey
		if err := priv.UnmarshalJSON(plain); err != nil {
			return nil, fmt.Errorf("signing key %s: private part: %w", s.ID, err)
		}
		k.private = &priv
		// fosite v0.49 speaks go-jose v3, Propusk v4: the key crosses over
		// as JSON, once per load rather than once per signature.
		var v3 josev3.JSONWebKey
		if err := json.Unmarshal(plain, &v3); err != nil {
			return nil, fmt.Errorf("signing key %s: %w", s.ID, err)
		}
		k.fosite = &v3
		out = append(out, k)
	}
	ks.loaded, ks.loadedAt = out, time.Now()
	return out, nil
}

// retiredAt says when k stopped signing: the SignFrom of the next key of the
// same algorithm that has started signing, zero while k is current.
func retiredAt(keys []key, i int, now time.Time) time.Time {
	for _, n := range keys[i+1:] {
		if n.Algorithm == keys[i].Algorithm && !n.SignFrom.After(now) {
			return n.SignFrom
		}
	}
	return time.Time{}
}

// Current returns the key that signs for alg now.
func (ks *KeySet) Current(ctx context.Context, alg string) (*jose.JSONWebKey, error) {
	k, err := ks.current(ctx, alg)
	if err != nil {
		return nil, err
	}
	return k.private, nil
}

// FositeSigningKey returns the current key for alg as the go-jose v3 key
// fosite v0.49 signs with (its kid reaches the token header).
func (ks *KeySet) FositeSigningKey(ctx context.Context, alg string) (*josev3.JSONWebKey, error) {
	k, err := ks.current(ctx, alg)
	if err != nil {
		return nil, err
	}
	return k.fosite, nil
}

func (ks *KeySet) current(ctx context.Context, alg string) (*key, error) {
	keys, err := ks.keys(ctx)
	if err != nil {
		return nil, err
	}
	now := ks.Clock.Now()
	var cur *key
	for i := range keys { // oldest SignFrom first: the last eligible wins
		if keys[i].Algorithm == alg && !keys[i].SignFrom.After(now) {
			cur = &keys[i]
		}
	}
	if cur == nil {
		return nil, fmt.Errorf("no %s signing key: run propusk serve once, or propusk keys rotate", alg)
	}
	return cur, nil
}

// Published is the JWKS: every key that signs, will sign, or signed
// recently enough that tokens it signed may still be alive.
func (ks *KeySet) Published(ctx context.Context) (jose.JSONWebKeySet, error) {
	keys, err := ks.keys(ctx)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	now := ks.Clock.Now()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for i, k := range keys {
		if r := retiredAt(keys, i, now); !r.IsZero() && now.After(r.Add(ks.retiredPublished())) {
			continue
		}
		set.Keys = append(set.Keys, k.public)
	}
	return set, nil
}

// PublishedJSON is the JWKS encoded (ending in a newline), from memory. It reads the database
// only for the first build, after this node changed the keys, and — unless
// KeepPublished refreshes it in the background — once every JWKSRefresh. A
// failed rebuild keeps the last good JWKS: the error is then returned with
// it, for the log. Only when there never was one is the body nil.
func (ks *KeySet) PublishedJSON(ctx context.Context) ([]byte, error) {
	ks.pubMu.Lock()
	body, fresh := ks.pubJSON, ks.pubJSON != nil && !ks.pubStale && (ks.pubKept || time.Since(ks.pubBuiltAt) < JWKSRefresh)
	ks.pubMu.Unlock()
	if fresh {
		return body, nil
	}
	if err := ks.RefreshPublished(ctx); err != nil {
		return body, err
	}
	ks.pubMu.Lock()
	defer ks.pubMu.Unlock()
	return ks.pubJSON, nil
}

// RefreshPublished rebuilds the JWKS served from memory; on failure the
// previous one stays.
func (ks *KeySet) RefreshPublished(ctx context.Context) error {
	ks.mu.Lock()
	ks.loadedAt = time.Time{} // read the database: another node may have rotated
	ks.mu.Unlock()
	set, err := ks.Published(ctx)
	if err != nil {
		return fmt.Errorf("build the JWKS: %w", err)
	}
	body, err := json.Marshal(set)
	if err != nil {
		return fmt.Errorf("encode the JWKS: %w", err)
	}
	// Ready to write as is: requests share it, so none may append to it.
	body = append(body, '\n')
	ks.pubMu.Lock()
	ks.pubJSON, ks.pubBuiltAt, ks.pubStale = body, time.Now(), false
	ks.pubMu.Unlock()
	return nil
}

// KeepPublished rebuilds the served JWKS every JWKSRefresh until ctx ends,
// so requests never wait for the database; a failure is logged and the
// previous JWKS stays. serve runs it.
func (ks *KeySet) KeepPublished(ctx context.Context, logger *slog.Logger) {
	t := time.NewTicker(JWKSRefresh)
	defer t.Stop()
	for {
		if err := ks.RefreshPublished(ctx); err != nil && ctx.Err() == nil {
			logger.WarnContext(ctx, "refresh the JWKS; serving the previous one", "err", err)
		} else if err == nil {
			ks.pubMu.Lock()
			ks.pubKept = true
			ks.pubMu.Unlock()
		}
		select {
		case <-ctx.Done():
			ks.pubMu.Lock()
			ks.pubKept = false
			ks.pubMu.Unlock()
			return
		case <-t.C:
		}
	}
}

// Verifier returns the public key with kid, published or retired but still
// kept, for verifying id_token_hint values; false when there is none.
func (ks *KeySet) Verifier(ctx context.Context, kid string) (jose.JSONWebKey, bool, error) {
	keys, err := ks.keys(ctx)
	if err != nil {
		return jose.JSONWebKey{}, false, err
	}
	for _, k := range keys {
		if k.ID == kid {
			return k.public, true, nil
		}
	}
	return jose.JSONWebKey{}, false, nil
}

// Prune deletes keys retired for longer than the keep period and returns
// their IDs. The sweeper calls it; it is never on a request path.
func (ks *KeySet) Prune(ctx context.Context) ([]string, error) {
	keys, err := ks.keys(ctx)
	if err != nil {
		return nil, err
	}
	now := ks.Clock.Now()
	var gone []string
	for i, k := range keys {
		if r := retiredAt(keys, i, now); !r.IsZero() && now.After(r.Add(ks.retiredKept())) {
			if err := ks.Store.DeleteSigningKey(ctx, k.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return gone, fmt.Errorf("delete signing key %s: %w", k.ID, err)
			}
			gone = append(gone, k.ID)
		}
	}
	if len(gone) > 0 {
		ks.invalidate()
	}
	return gone, nil
}

// KeyInfo describes a key for people (propusk keys list).
type KeyInfo struct {
	ID        string    `json:"kid"`
	Algorithm string    `json:"alg"`
	CreatedAt time.Time `json:"created_at"`
	SignFrom  time.Time `json:"sign_from"`
	State     string    `json:"state"` // next | current | retired (published) | retired (kept)
}

// Describe lists every key with its state now.
func (ks *KeySet) Describe(ctx context.Context) ([]KeyInfo, error) {
	ks.invalidate()
	keys, err := ks.keys(ctx)
	if err != nil {
		return nil, err
	}
	now := ks.Clock.Now()
	out := make([]KeyInfo, 0, len(keys))
	for i, k := range keys {
		info := KeyInfo{ID: k.ID, Algorithm: k.Algorithm, CreatedAt: k.CreatedAt, SignFrom: k.SignFrom}
		r := retiredAt(keys, i, now)
		switch {
		case k.SignFrom.After(now):
			info.State = "next"
		case r.IsZero():
			info.State = "current"
		case now.After(r.Add(ks.retiredPublished())):
			info.State = "retired (kept)"
		default:
			info.State = "retired (published)"
		}
		out = append(out, info)
	}
	return out, nil
}
