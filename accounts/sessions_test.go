package accounts_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/internal/clock"
	"github.com/propusk/propusk/internal/testdb"
	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/store/sqlite"
)

// t0 is whole seconds: the store keeps microseconds.
var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// openDB returns a migrated SQLite store with the account "acc-anna"
// (username anna).
func openDB(t *testing.T) *sqlite.DB {
	t.Helper()
	ctx := t.Context()
	db := testdb.SQLite(t)
	if err := db.CreateAccount(ctx, store.Account{
		ID: "acc-anna", Username: "anna", Kind: "compatriot", Assurance: "standard",
		Citizenships: []string{"KZ"}, CreatedAt: t0, UpdatedAt: t0,
	}); err != nil {
		t.Fatal(err)
	}
	return db
}

var pwdOTP = accounts.Authentication{Time: t0.Add(-time.Minute), AMR: []string{"pwd", "otp"}, ACR: "standard"}

func newSessions(t *testing.T) (*accounts.Sessions, *sqlite.DB, *clock.Fake) {
	t.Helper()
	db := openDB(t)
	clk := clock.NewFake(t0)
	return &accounts.Sessions{Store: db, Idle: time.Hour, Absolute: 4 * time.Hour, Clock: clk.Now}, db, clk
}

func create(t *testing.T, s *accounts.Sessions) (string, store.BrowserSession) {
	t.Helper()
	cookie, bs, err := s.Create(t.Context(), "acc-anna", pwdOTP, "Firefox", "192.0.2.7")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return cookie, bs
}

func storedSession(t *testing.T, db *sqlite.DB, id string) store.BrowserSession {
	t.Helper()
	bs, err := db.GetBrowserSession(t.Context(), id)
	if err != nil {
		t.Fatalf("GetBrowserSession: %v", err)
	}
	return bs
}

func TestSessionCreate(t *testing.T) {
	s, db, _ := newSessions(t)
	cookie, bs := create(t, s)
	if len(cookie) != 43 {
		t.Errorf("cookie %q: length %d, want 43 (256 bits)", cookie, len(cookie))
	}
	if bs.ID != accounts.SessionID(cookie) {
		t.Errorf("ID %q, want SessionID(cookie) %q", bs.ID, accounts.SessionID(cookie))
	}
	if bs.ID == cookie || bs.PublicID == cookie || bs.PublicID == bs.ID ||
		strings.Contains(cookie, bs.PublicID) || strings.Contains(bs.ID, bs.PublicID) {
		t.Errorf("PublicID %q is related to the cookie %q or the ID %q", bs.PublicID, cookie, bs.ID)
	}
	want := store.BrowserSession{
		ID: bs.ID, PublicID: bs.PublicID, AccountID: "acc-anna",
		AuthTime: pwdOTP.Time, AMR: []string{"pwd", "otp"}, ACR: "standard",
		UserAgent: "Firefox", RemoteAddr: "192.0.2.7",
		CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(4 * time.Hour),
	}
	if !reflect.DeepEqual(bs, want) {
		t.Errorf("returned session:\n got %+v\nwant %+v", bs, want)
	}
	got := storedSession(t, db, bs.ID)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stored session:\n got %+v\nwant %+v", got, want)
	}
	if _, err := db.GetBrowserSession(t.Context(), cookie); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a session is stored under the cookie value: %v", err)
	}
	byPublic, err := db.GetBrowserSessionByPublicID(t.Context(), bs.PublicID)
	if err != nil || byPublic.ID != bs.ID {
		t.Errorf("by public ID: %+v, %v", byPublic, err)
	}

	// No trace of the cookie anywhere in the database files (which do hold
	// the session's ID, so the search looks in the right place).
	sawID := false
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(db.Path() + suffix)
		if err != nil {
			if suffix != "" && errors.Is(err, os.ErrNotExist) {
				continue
			}
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(cookie)) {
			t.Errorf("database file %s holds the cookie value", filepath.Base(db.Path()+suffix))
		}
		sawID = sawID || bytes.Contains(b, []byte(bs.ID))
	}
	if !sawID {
		t.Error("the session ID is in neither database file: the search for the cookie proves nothing")
	}

	// Each session is new.
	cookie2, bs2 := create(t, s)
	if cookie2 == cookie || bs2.ID == bs.ID || bs2.PublicID == bs.PublicID {
		t.Error("two sessions share a cookie, an ID or a public ID")
	}
}

func TestSessionCreateDefaults(t *testing.T) {
	db := openDB(t)
	clk := clock.NewFake(t0)
	s := &accounts.Sessions{Store: db, Clock: clk.Now}
	cookie, bs, err := s.Create(t.Context(), "acc-anna", pwdOTP, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if !bs.ExpiresAt.Equal(t0.Add(accounts.DefaultSessionAbsolute)) {
		t.Errorf("expires %v, want the default absolute lifetime", bs.ExpiresAt)
	}
	clk.Advance(accounts.DefaultSessionIdle - time.Second)
	if _, err := s.Lookup(t.Context(), cookie); err != nil {
		t.Errorf("just within the default idle timeout: %v", err)
	}
	clk.Advance(accounts.DefaultSessionIdle)
	if _, err := s.Lookup(t.Context(), cookie); !errors.Is(err, accounts.ErrNoSession) {
		t.Errorf("past the default idle timeout: %v", err)
	}
}

func TestSessionCreateUnknownAccount(t *testing.T) {
	s, _, _ := newSessions(t)
	if _, _, err := s.Create(t.Context(), "nobody", pwdOTP, "", ""); err == nil {
		t.Fatal("created a session for an account that does not exist")
	}
}

func TestSessionCreateCopiesAMR(t *testing.T) {
	s, db, _ := newSessions(t)
	a := pwdOTP
	a.AMR = []string{"pwd"}
	_, bs, err := s.Create(t.Context(), "acc-anna", a, "", "")
	if err != nil {
		t.Fatal(err)
	}
	a.AMR[0] = "fed"
	if bs.AMR[0] != "pwd" || storedSession(t, db, bs.ID).AMR[0] != "pwd" {
		t.Fatal("session shares the caller's AMR slice")
	}
}

func TestSessionCreateTruncatesUserAgent(t *testing.T) {
	s, db, _ := newSessions(t)
	_, bs, err := s.Create(t.Context(), "acc-anna", pwdOTP, strings.Repeat("M", 600), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := storedSession(t, db, bs.ID).UserAgent; got != strings.Repeat("M", 512) {
		t.Fatalf("stored user agent has %d bytes, want 512", len(got))
	}
}

func TestSessionCreateTruncatesUserAgentToValidUTF8(t *testing.T) {
	s, db, _ := newSessions(t)
	ua := strings.Repeat("M", 511) + "Ж" // Ж is 2 bytes: the cut falls inside it
	_, bs, err := s.Create(t.Context(), "acc-anna", pwdOTP, ua, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := storedSession(t, db, bs.ID).UserAgent; !utf8.ValidString(got) || len(got) > 512 {
		t.Fatalf("stored user agent (%d bytes) is not valid UTF-8 within 512 bytes: %q", len(got), got[500:])
	}
}

func TestSessionLookup(t *testing.T) {
	s, _, clk := newSessions(t)
	cookie, created := create(t, s)
	clk.Advance(30 * time.Second)
	got, err := s.Lookup(t.Context(), cookie)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, created) {
		t.Fatalf("Lookup:\n got %+v\nwant %+v", got, created)
	}
}

func TestSessionLookupUnknown(t *testing.T) {
	s, _, _ := newSessions(t)
	cookie, bs := create(t, s)
	for name, c := range map[string]string{
		"empty":            "",
		"unknown":          "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"the session's ID": bs.ID,
		"the public ID":    bs.PublicID,
		"truncated":        cookie[:42],
	} {
		if _, err := s.Lookup(t.Context(), c); !errors.Is(err, accounts.ErrNoSession) {
			t.Errorf("%s: Lookup err = %v, want ErrNoSession", name, err)
		}
	}
}

func TestSessionIdleTimeout(t *testing.T) {
	s, _, clk := newSessions(t)
	cookie, _ := create(t, s)
	clk.Advance(time.Hour - time.Microsecond)
	if _, err := s.Lookup(t.Context(), cookie); err != nil {
		t.Fatalf("just within the idle timeout: %v", err)
	}
	// That use restarted the idle timer.
	clk.Advance(time.Hour - time.Microsecond)
	if _, err := s.Lookup(t.Context(), cookie); err != nil {
		t.Fatalf("used again within the idle timeout: %v", err)
	}
	clk.Advance(time.Hour) // exactly Idle after the last use
	if _, err := s.Lookup(t.Context(), cookie); !errors.Is(err, accounts.ErrNoSession) {
		t.Fatalf("idle for the whole timeout: err = %v, want ErrNoSession", err)
	}
	// An expired session does not come back by being looked up.
	clk.Advance(-30 * time.Minute)
	if _, err := s.Lookup(t.Context(), cookie); err != nil {
		t.Fatalf("the failed lookup touched the session: %v", err)
	}
}

func TestSessionAbsoluteTimeout(t *testing.T) {
	s, _, clk := newSessions(t)
	cookie, _ := create(t, s)
	// Used every 30 minutes: never idle, yet it ends after Absolute.
	for range 7 {
		clk.Advance(30 * time.Minute)
		if _, err := s.Lookup(t.Context(), cookie); err != nil {
			t.Fatalf("at %v: %v", clk.Now().Sub(t0), err)
		}
	}
	clk.Advance(30*time.Minute - time.Microsecond)
	if _, err := s.Lookup(t.Context(), cookie); err != nil {
		t.Fatalf("just before the absolute timeout: %v", err)
	}
	clk.Advance(time.Microsecond)
	if _, err := s.Lookup(t.Context(), cookie); !errors.Is(err, accounts.ErrNoSession) {
		t.Fatalf("at the absolute timeout: err = %v, want ErrNoSession", err)
	}
}

func TestSessionTouchAtMostOnceAMinute(t *testing.T) {
	s, db, clk := newSessions(t)
	cookie, bs := create(t, s)
	for _, step := range []struct {
		advance time.Duration
		seen    time.Time // LastSeenAt stored (and returned) after the lookup
	}{
		{30 * time.Second, t0},
		{29 * time.Second, t0},                                        // t0+59s
		{time.Second, t0.Add(time.Minute)},                            // t0+60s: touched
		{30 * time.Second, t0.Add(time.Minute)},                       // t0+90s
		{30 * time.Second, t0.Add(2 * time.Minute)},                   // t0+120s: touched
		{10 * time.Minute, t0.Add(12 * time.Minute)},                  // t0+12m: touched
		{59*time.Second + time.Millisecond, t0.Add(12 * time.Minute)}, // just under a minute
	} {
		clk.Advance(step.advance)
		got, err := s.Lookup(t.Context(), cookie)
		if err != nil {
			t.Fatalf("at %v: %v", clk.Now().Sub(t0), err)
		}
		if !got.LastSeenAt.Equal(step.seen) {
			t.Errorf("at %v: returned LastSeenAt %v, want %v", clk.Now().Sub(t0), got.LastSeenAt, step.seen)
		}
		if stored := storedSession(t, db, bs.ID); !stored.LastSeenAt.Equal(step.seen) {
			t.Errorf("at %v: stored LastSeenAt %v, want %v", clk.Now().Sub(t0), stored.LastSeenAt, step.seen)
		}
	}
	if stored := storedSession(t, db, bs.ID); !stored.ExpiresAt.Equal(bs.ExpiresAt) || !stored.CreatedAt.Equal(t0) {
		t.Errorf("touching moved other times: %+v", stored)
	}
}

func TestSessionEnd(t *testing.T) {
	s, db, _ := newSessions(t)
	cookie, bs := create(t, s)
	other, otherBS := create(t, s)
	if err := s.End(t.Context(), cookie); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(t.Context(), cookie); !errors.Is(err, accounts.ErrNoSession) {
		t.Errorf("Lookup after End: %v", err)
	}
	if _, err := db.GetBrowserSession(t.Context(), bs.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("row still stored after End: %v", err)
	}
	if err := s.End(t.Context(), cookie); err != nil {
		t.Errorf("second End: %v", err)
	}
	if err := s.End(t.Context(), ""); err != nil {
		t.Errorf("End of an empty cookie: %v", err)
	}
	if got, err := s.Lookup(t.Context(), other); err != nil || got.ID != otherBS.ID {
		t.Errorf("End ended another session: %v", err)
	}
}

func TestSessionEndByID(t *testing.T) {
	s, _, _ := newSessions(t)
	cookie, bs := create(t, s)
	if err := s.EndByID(t.Context(), bs.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(t.Context(), cookie); !errors.Is(err, accounts.ErrNoSession) {
		t.Errorf("Lookup after EndByID: %v", err)
	}
	if err := s.EndByID(t.Context(), bs.ID); err != nil {
		t.Errorf("second EndByID: %v", err)
	}
	if err := s.EndByID(t.Context(), "unknown"); err != nil {
		t.Errorf("EndByID of an unknown ID: %v", err)
	}
}

func TestSessionID(t *testing.T) {
	a, b := accounts.SessionID("cookie-a"), accounts.SessionID("cookie-b")
	if a == b || a != accounts.SessionID("cookie-a") {
		t.Fatal("SessionID is not a function of the cookie alone")
	}
	if len(a) != 43 || strings.Contains(a, "cookie") {
		t.Fatalf("SessionID = %q: want an unpadded base64url SHA-256", a)
	}
}

// A header may carry any bytes: a short User-Agent with invalid UTF-8 or a
// NUL is stored valid (PostgreSQL would refuse it and the sign-in fail).
func TestSessionCreateCleansUserAgent(t *testing.T) {
	s, db, _ := newSessions(t)
	_, bs, err := s.Create(t.Context(), "acc-anna", pwdOTP, "Mozilla\xff/5.0\x00 (X11)", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := storedSession(t, db, bs.ID).UserAgent; got != "Mozilla\uFFFD/5.0 (X11)" {
		t.Fatalf("stored user agent %q", got)
	}
}

func TestSessionEndLive(t *testing.T) {
	s, _, clk := newSessions(t)
	ctx := t.Context()
	end := func(publicID, account string) bool {
		t.Helper()
		ok, err := s.EndLive(ctx, publicID, account)
		if err != nil {
			t.Fatalf("EndLive(%q, %q): %v", publicID, account, err)
		}
		return ok
	}
	cookie, bs := create(t, s)
	// Another account's sid, an unknown sid or none: nothing ends.
	if end(bs.PublicID, "acc-boris") || end("no-such-sid", "acc-anna") || end("", "acc-anna") {
		t.Fatal("ended a session it does not name")
	}
	if _, err := s.Lookup(ctx, cookie); err != nil {
		t.Fatalf("the session ended by a wrong call: %v", err)
	}
	if !end(bs.PublicID, "acc-anna") {
		t.Fatal("the live session was not ended")
	}
	if _, err := s.Lookup(ctx, cookie); !errors.Is(err, accounts.ErrNoSession) {
		t.Fatalf("after EndLive: %v", err)
	}
	if end(bs.PublicID, "acc-anna") {
		t.Fatal("an ended session was ended twice")
	}
	// An idle-expired session is not live: "ended" would not be true.
	_, idle := create(t, s)
	clk.Advance(time.Hour)
	if end(idle.PublicID, "acc-anna") {
		t.Fatal("an idle-expired session counted as ended")
	}
}
