package store

import (
	"context"
	"time"
)

// Flow is a pending authorization request between /oauth2/auth and the
// redirect back to the client: the browser carries only its ID. Package
// flow owns its states and transitions; the store keeps it as given.
type Flow struct {
	ID       string // 256-bit random, URL-safe
	State    string
	ClientID string // "" for Propusk's own pages (a local flow)
	// ReturnTo is where a local flow goes when it is done: a local path.
	ReturnTo string
	// Request is the sealed authorization request (package oauth).
	Request []byte
	// CSRFHash is a hash of the flow's form token; every POST of a step
	// must carry the token.
	CSRFHash []byte
	// BrowserHash is a hash of the sign-in cookie set when the flow's first
	// page was shown: it keeps every step of the flow to that browser.
	BrowserHash []byte

	AccountID string    // who signed in, once known
	SessionID string    // the browser session (its hash) the flow was completed in
	AuthTime  time.Time // when the person authenticated in this flow or SSO session
	AMR       []string  // how (pwd, otp, fed …)
	ACR       string    // assurance achieved
	Locale    string    // language chosen for the flow's pages

	CreatedAt time.Time
	UpdatedAt time.Time
	ExpiresAt time.Time
}

// Flows stores pending authorization requests.
type Flows interface {
	// CreateFlow inserts f; ErrAlreadyExists when the ID is taken.
	CreateFlow(ctx context.Context, f Flow) error
	// GetFlow returns ErrNotFound for an unknown ID, expired or not (the
	// caller decides what an expired flow means).
	GetFlow(ctx context.Context, id string) (Flow, error)
	// UpdateFlow reads, applies fn and writes in one transaction with the
	// row locked, so two tabs posting the same step cannot both move the
	// flow. fn may run more than once. ID and CreatedAt cannot change.
	UpdateFlow(ctx context.Context, id string, fn func(Flow) (Flow, error)) (Flow, error)
	// DeleteFlow removes a flow; ErrNotFound when there is none.
	DeleteFlow(ctx context.Context, id string) error
	// DeleteExpiredFlows removes at most limit flows that expired before
	// before.
	DeleteExpiredFlows(ctx context.Context, before time.Time, limit int) (int, error)
}

// BrowserSession is a person's single sign-on session. The cookie holds a
// 256-bit random value; the store keeps only its hash (ID), so a database
// read does not give away live sessions.
type BrowserSession struct {
	ID        string // hash of the cookie value
	PublicID  string // the ID tokens' sid: random, unrelated to the cookie
	AccountID string
	AuthTime  time.Time
	AMR       []string
	ACR       string

	UserAgent  string
	RemoteAddr string

	CreatedAt  time.Time
	LastSeenAt time.Time // idle timeout counts from here
	ExpiresAt  time.Time // absolute timeout
}

// BrowserSessions stores SSO sessions.
type BrowserSessions interface {
	// CreateBrowserSession inserts s; ErrAlreadyExists when the ID or
	// PublicID is taken.
	CreateBrowserSession(ctx context.Context, s BrowserSession) error
	// GetBrowserSession returns ErrNotFound for an unknown ID.
	GetBrowserSession(ctx context.Context, id string) (BrowserSession, error)
	// GetBrowserSessionByPublicID looks a session up by its sid.
	GetBrowserSessionByPublicID(ctx context.Context, publicID string) (BrowserSession, error)
	// UpdateBrowserSession works like UpdateAccount; ID, PublicID,
	// AccountID and CreatedAt cannot change.
	UpdateBrowserSession(ctx context.Context, id string, fn func(BrowserSession) (BrowserSession, error)) (BrowserSession, error)
	// TouchBrowserSession sets LastSeenAt to at, without a transaction: it
	// runs on most requests and must stay one cheap write. ErrNotFound when
	// there is no such session.
	TouchBrowserSession(ctx context.Context, id string, at time.Time) error
	// DeleteBrowserSession removes a session (logout); ErrNotFound when
	// there is none.
	DeleteBrowserSession(ctx context.Context, id string) error
	// ListBrowserSessions returns an account's sessions, newest first.
	ListBrowserSessions(ctx context.Context, accountID string) ([]BrowserSession, error)
	// DeleteBrowserSessionsOfAccount removes every SSO session of an
	// account and says how many it removed.
	DeleteBrowserSessionsOfAccount(ctx context.Context, accountID string) (int, error)
	// DeleteExpiredBrowserSessions removes at most limit sessions whose
	// absolute expiry is before before, or whose LastSeenAt is before
	// idleBefore.
	DeleteExpiredBrowserSessions(ctx context.Context, before, idleBefore time.Time, limit int) (int, error)
}

// Consent records that a person allowed a client some scopes, to be
// remembered for later authorizations.
type Consent struct {
	AccountID string
	ClientID  string
	Scopes    []string // sorted
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Consents stores remembered consent.
type Consents interface {
	// PutConsent creates or replaces the consent of (AccountID, ClientID).
	PutConsent(ctx context.Context, c Consent) error
	// MergeConsent adds c.Scopes to the consent of (AccountID, ClientID),
	// creating it if there is none, in one statement: two tabs consenting
	// at once both keep their scopes. CreatedAt stays the first one's;
	// UpdatedAt becomes c.UpdatedAt. Stored scopes are sorted.
	MergeConsent(ctx context.Context, c Consent) error
	// GetConsent returns ErrNotFound when the person has not consented.
	GetConsent(ctx context.Context, accountID, clientID string) (Consent, error)
	// ListConsents returns an account's consents ordered by client ID.
	ListConsents(ctx context.Context, accountID string) ([]Consent, error)
	// DeleteConsent revokes one; ErrNotFound when there is none.
	DeleteConsent(ctx context.Context, accountID, clientID string) error
}

// Throttles count failed attempts (passwords, codes) per key in windows,
// in the database, so a limit holds across every node. A window is fixed
// (HitThrottle: it ends window after its first attempt) or sliding
// (HitThrottleSliding, HitThrottleSpaced: every counted attempt moves its
// end to window after that attempt, so a run of attempts is forgotten only
// window after its last one).
type Throttles interface {
	// HitThrottle counts one attempt for key and returns the count in the
	// current window, which starts at the first attempt and lasts window.
	// It is one atomic upsert: concurrent hits on any node are all counted.
	// On a key also used with HitThrottleSpaced it counts whatever the
	// pause, and leaves the pause and the window's end as they are (a new
	// window has no pause).
	HitThrottle(ctx context.Context, key string, now time.Time, window time.Duration) (int, error)
	// HitThrottleSliding counts one attempt as HitThrottle does, and moves
	// the window's end to now+window (never earlier than it was).
	HitThrottleSliding(ctx context.Context, key string, now time.Time, window time.Duration) (int, error)
	// UnhitThrottle takes back one attempt counted at at: it lowers key's
	// count by one, never below zero, if the window that counted it (the
	// one running at at) is still key's window; else it does nothing. It is
	// one conditional update, so concurrent hits and takebacks all count.
	UnhitThrottle(ctx context.Context, key string, at time.Time) error
	// ThrottleCount returns the count in key's current window at now and
	// when that window ends; 0 and zero time when there is none.
	ThrottleCount(ctx context.Context, key string, now time.Time) (int, time.Time, error)
	// HitThrottleSpaced counts one attempt for key as HitThrottleSliding
	// does, unless an attempt counted earlier in key's window set a pause
	// that has not passed: then it counts nothing (Counted false) and moves
	// nothing. After counting the n-th attempt of a window it pauses key
	// for pause(n) (0: none); a pause ends with its window at the latest.
	// It runs in one transaction with key's row locked, so concurrent hits
	// on any node take turns and a burst cannot pass a pause.
	HitThrottleSpaced(ctx context.Context, key string, now time.Time, window time.Duration, pause func(n int) time.Duration) (ThrottleTurn, error)
	// ResetThrottle forgets key (after a success); no error when unknown.
	ResetThrottle(ctx context.Context, key string) error
	// DeleteExpiredThrottles removes at most limit windows that ended
	// before before.
	DeleteExpiredThrottles(ctx context.Context, before time.Time, limit int) (int, error)
}

// ThrottleTurn is what HitThrottleSpaced did.
type ThrottleTurn struct {
	Counted   bool
	Count     int       // attempts counted in the window, this one too when Counted
	NextAt    time.Time // the pause's end: no attempt counts before it
	WindowEnd time.Time
}
