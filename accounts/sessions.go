package accounts

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/propusk/propusk/internal/clock"
	"github.com/propusk/propusk/internal/token"
	"github.com/propusk/propusk/store"
)

// Session timeouts. The idle timeout ends a session nobody uses; the
// absolute one ends every session eventually, used or not.
const (
	DefaultSessionIdle     = 12 * time.Hour
	DefaultSessionAbsolute = 7 * 24 * time.Hour
	// touchEvery limits LastSeenAt writes to one a minute per session: idle
	// timeouts are hours long, a write per request would buy nothing.
	touchEvery = time.Minute
)

// ErrNoSession: the cookie names no live session (unknown, ended, idle too
// long, or past its absolute lifetime). The person must sign in.
var ErrNoSession = errors.New("no live session")

// Authentication is what a session records about how the person signed in.
type Authentication struct {
	Time time.Time
	AMR  []string // pwd, otp, fed …
	ACR  string
}

// Sessions manages single sign-on sessions. The cookie carries 256 random
// bits; the store keeps a SHA-256 of it, so a copy of the database holds no
// usable session.
type Sessions struct {
	Store    store.BrowserSessions
	Idle     time.Duration // 0: DefaultSessionIdle
	Absolute time.Duration // 0: DefaultSessionAbsolute
	Clock    clock.Func
}

func (s *Sessions) idle() time.Duration {
	if s.Idle > 0 {
		return s.Idle
	}
	return DefaultSessionIdle
}

func (s *Sessions) absolute() time.Duration {
	if s.Absolute > 0 {
		return s.Absolute
	}
	return DefaultSessionAbsolute
}

// SessionID is the stored ID of the session a cookie value names.
func SessionID(cookie string) string {
	return base64.RawURLEncoding.EncodeToString(token.Hash(cookie))
}

// Create starts a session for accountID and returns the cookie value. A
// login always creates a fresh session (the caller ends the old one), so a
// session ID planted in a browser before login is worthless after it.
func (s *Sessions) Create(ctx context.Context, accountID string, a Authentication, userAgent, remoteAddr string) (string, store.BrowserSession, error) {
	cookie, publicID := token.New(), token.New()
	now := s.Clock.Now()
	// A header may hold any bytes; PostgreSQL refuses invalid UTF-8 and
	// NUL, so those go first, then the length is cut on a character
	// boundary.
	userAgent = strings.ReplaceAll(strings.ToValidUTF8(userAgent, "\uFFFD"), "\x00", "")
	if len(userAgent) > 512 {
		userAgent = strings.ToValidUTF8(userAgent[:512], "")
	}
	bs := store.BrowserSession{
		ID: SessionID(cookie), PublicID: publicID[:22], AccountID: accountID,
		AuthTime: a.Time.UTC(), AMR: append([]string{}, a.AMR...), ACR: a.ACR,
		UserAgent: userAgent, RemoteAddr: remoteAddr,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.absolute()),
	}
	if err := s.Store.CreateBrowserSession(ctx, bs); err != nil {
		return "", store.BrowserSession{}, fmt.Errorf("create session: %w", err)
	}
	return cookie, bs, nil
}

// Lookup returns the live session a cookie value names, or ErrNoSession.
// It refreshes the idle timer (at most once a minute).
func (s *Sessions) Lookup(ctx context.Context, cookie string) (store.BrowserSession, error) {
	if cookie == "" {
		return store.BrowserSession{}, ErrNoSession
	}
	bs, err := s.Store.GetBrowserSession(ctx, SessionID(cookie))
	if errors.Is(err, store.ErrNotFound) {
		return store.BrowserSession{}, ErrNoSession
	}
	if err != nil {
		return store.BrowserSession{}, err
	}
	now := s.Clock.Now()
	if !now.Before(bs.ExpiresAt) || !now.Before(bs.LastSeenAt.Add(s.idle())) {
		return store.BrowserSession{}, ErrNoSession
	}
	if now.Sub(bs.LastSeenAt) >= touchEvery {
		if err := s.Store.TouchBrowserSession(ctx, bs.ID, now); err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.BrowserSession{}, fmt.Errorf("touch session: %w", err)
		}
		bs.LastSeenAt = now
	}
	return bs, nil
}

// End ends the session a cookie value names; ending an unknown session is
// not an error (logging out twice is fine).
func (s *Sessions) End(ctx context.Context, cookie string) error {
	return s.EndByID(ctx, SessionID(cookie))
}

// EndOthers ends every session of the account except keep (a stored ID),
// as after a password change: whoever knew the old password and signed in
// with it elsewhere is signed out. It says how many ended.
func (s *Sessions) EndOthers(ctx context.Context, accountID, keep string) (int, error) {
	all, err := s.Store.ListBrowserSessions(ctx, accountID)
	if err != nil {
		return 0, fmt.Errorf("list sessions: %w", err)
	}
	n := 0
	for _, bs := range all {
		if bs.ID == keep {
			continue
		}
		if err := s.EndByID(ctx, bs.ID); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// EndByID ends a session by its stored ID.
func (s *Sessions) EndByID(ctx context.Context, id string) error {
	err := s.Store.DeleteBrowserSession(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// EndLive ends the live session of accountID whose public ID (an ID
// token's sid) is publicID, and says whether there was one: a relying
// party's back-end logout names the session by its ID token, not by the
// person's cookie.
func (s *Sessions) EndLive(ctx context.Context, publicID, accountID string) (bool, error) {
	if publicID == "" {
		return false, nil
	}
	bs, err := s.Store.GetBrowserSessionByPublicID(ctx, publicID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("find session: %w", err)
	}
	now := s.Clock.Now()
	if bs.AccountID != accountID || !now.Before(bs.ExpiresAt) || !now.Before(bs.LastSeenAt.Add(s.idle())) {
		return false, nil
	}
	if err := s.Store.DeleteBrowserSession(ctx, bs.ID); errors.Is(err, store.ErrNotFound) {
		return false, nil // ended meanwhile, by someone else
	} else if err != nil {
		return false, fmt.Errorf("end session: %w", err)
	}
	return true, nil
}
