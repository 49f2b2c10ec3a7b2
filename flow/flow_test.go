package flow_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/propusk/propusk/flow"
	"github.com/propusk/propusk/internal/clock"
	"github.com/propusk/propusk/internal/seal"
	"github.com/propusk/propusk/internal/testdb"
	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/store/sqlite"
)

// t0 is whole seconds: the store keeps microseconds.
var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

type env struct {
	db   *sqlite.DB
	clk  *clock.Fake
	ring *seal.Ring
	svc  *flow.Service
}

const clientID = "rp"

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := t.Context()
	db := testdb.SQLite(t)
	if err := db.CreateClient(ctx, store.Client{
		ID: clientID, Name: "Relying party", RedirectURIs: []string{"https://rp.example/cb"},
		PostLogoutRedirectURIs: []string{}, GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid"},
		TokenEndpointAuthMethod: "client_secret_basic", SecretHash: []byte{1, 2, 3, 4},
		IDTokenSigningAlg: "ES256", AccessTokenFormat: "opaque", CreatedAt: t0, UpdatedAt: t0,
	}); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(t0)
	key, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := seal.NewRing(key)
	if err != nil {
		t.Fatal(err)
	}
	return &env{db: db, clk: clk, ring: ring, svc: &flow.Service{Store: db, Ring: ring, Clock: clk.Now}}
}

// request is what the authorization endpoint records for a flow.
var request = flow.Request{
	Details:  flow.Details{ClientName: "Relying party", Scopes: []string{"openid", "profile"}, RedirectOrigin: "https://rp.example"},
	Protocol: json.RawMessage(`{"form":{"client_id":["rp"]}}`),
}

// creates counts the flows a service writes.
type creates struct {
	store.Flows
	n int
}

func (c *creates) CreateFlow(ctx context.Context, f store.Flow) error {
	c.n++
	return c.Flows.CreateFlow(ctx, f)
}

var signIn = flow.Authentication{
	AccountID: "acc-1", SessionID: "sess-hash", AuthTime: t0.Add(-time.Minute),
	AMR: []string{"pwd", "otp"}, ACR: "standard",
}

func authenticate(f *flow.Flow) error { return f.Authenticate(signIn) }

func (e *env) start(t *testing.T) (*flow.Flow, string) {
	t.Helper()
	f, tok, err := e.svc.Start(t.Context(), clientID, request, "ru")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return f, tok
}

// startIn returns a flow in state, reached through the service's own
// transitions, and its current CSRF token.
func (e *env) startIn(t *testing.T, state flow.State) (*flow.Flow, string) {
	t.Helper()
	f, tok := e.start(t)
	var moves []func(*flow.Flow) error
	switch state {
	case flow.StateLogin:
	case flow.StateConsent:
		moves = append(moves, authenticate)
	case flow.StateDone:
		moves = append(moves, authenticate, (*flow.Flow).Allow)
	case flow.StateDenied:
		moves = append(moves, (*flow.Flow).Deny)
	default:
		t.Fatalf("unknown state %q", state)
	}
	for _, m := range moves {
		var err error
		if f, err = e.svc.Advance(t.Context(), f.ID, tok, m); err != nil {
			t.Fatalf("reach %s: %v", state, err)
		}
	}
	if f.State() != state {
		t.Fatalf("reached %s, want %s", f.State(), state)
	}
	return f, tok
}

func (e *env) stored(t *testing.T, id string) store.Flow {
	t.Helper()
	sf, err := e.db.GetFlow(t.Context(), id)
	if err != nil {
		t.Fatalf("GetFlow: %v", err)
	}
	return sf
}

func TestStartSealsWithFlowIDAndStoresTokenHash(t *testing.T) {
	e := newEnv(t)
	f, tok, err := e.svc.Start(t.Context(), clientID, request, "kk")
	if err != nil {
		t.Fatal(err)
	}
	if f.State() != flow.StateLogin {
		t.Errorf("state = %s, want login", f.State())
	}
	if tok == "" || tok == f.ID {
		t.Errorf("token %q must be non-empty and differ from the ID", tok)
	}
	for _, s := range []string{f.ID, tok} {
		if len(s) != 43 { // 32 bytes, unpadded base64url
			t.Errorf("%q: length %d, want 43 (256 bits)", s, len(s))
		}
	}

	sf := e.stored(t, f.ID)
	want := f.Flow
	want.AMR = []string{} // the store reads an empty list back
	if !reflect.DeepEqual(sf, want) {
		t.Errorf("stored flow differs from the returned one:\n got %+v\nwant %+v", sf, want)
	}
	// The request is sealed, bound to this flow's row: it opens under the
	// flow's ID and under no other.
	if bytes.Contains(sf.Request, []byte("Relying party")) {
		t.Error("stored request is not sealed")
	}
	if _, err := e.ring.Open(sf.Request, seal.AD{Table: "flows", Column: "request", Row: f.ID}); err != nil {
		t.Errorf("stored request does not open under the flow's ID: %v", err)
	}
	if _, err := e.ring.Open(sf.Request, seal.AD{Table: "flows", Column: "request", Row: "another"}); err == nil {
		t.Error("stored request opens under another row's ID")
	}
	got, err := e.svc.Get(t.Context(), f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Details(), request.Details) || string(got.Protocol()) != string(request.Protocol) {
		t.Errorf("read back %+v %s, want %+v %s", got.Details(), got.Protocol(), request.Details, request.Protocol)
	}
	if !reflect.DeepEqual(f.Details(), request.Details) {
		t.Errorf("started flow's details %+v, want %+v", f.Details(), request.Details)
	}
	sum := sha256.Sum256([]byte(tok))
	if !bytes.Equal(sf.CSRFHash, sum[:]) {
		t.Errorf("stored CSRF value %x is not SHA-256 of the token", sf.CSRFHash)
	}
	if bytes.Contains(sf.CSRFHash, []byte(tok)) {
		t.Error("stored CSRF value contains the token")
	}
	if !flow.TokenMatches(sf.CSRFHash, tok) {
		t.Error("TokenMatches(stored hash, token) = false")
	}
	if sf.ClientID != clientID || sf.Locale != "kk" || sf.AccountID != "" {
		t.Errorf("client %q locale %q account %q", sf.ClientID, sf.Locale, sf.AccountID)
	}
	if !sf.CreatedAt.Equal(t0) || !sf.UpdatedAt.Equal(t0) || !sf.ExpiresAt.Equal(t0.Add(flow.DefaultLifetime)) {
		t.Errorf("times: created %v updated %v expires %v", sf.CreatedAt, sf.UpdatedAt, sf.ExpiresAt)
	}

	// Every flow gets its own ID and token.
	g, tok2 := e.start(t)
	if g.ID == f.ID || tok2 == tok {
		t.Error("two flows share an ID or a token")
	}
}

func TestStartWithoutRingStoresNothing(t *testing.T) {
	e := newEnv(t)
	counted := &creates{Flows: e.db}
	svc := &flow.Service{Store: counted, Clock: e.clk.Now}
	if _, _, err := svc.Start(t.Context(), clientID, request, "ru"); err == nil {
		t.Fatal("Start without a key ring succeeded")
	}
	if counted.n != 0 {
		t.Fatalf("%d flows written after a failed start", counted.n)
	}
}

func TestOlderRequestReadsAsExpired(t *testing.T) {
	e := newEnv(t)
	f, _ := e.start(t)
	// A flow written by the version that kept only the form.
	old, err := e.ring.Seal([]byte(`{"form":"client_id=rp","requested_at":"2026-03-01T10:00:00Z"}`), seal.AD{Table: "flows", Column: "request", Row: f.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.UpdateFlow(t.Context(), f.ID, func(sf store.Flow) (store.Flow, error) {
		sf.Request = old
		return sf, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Get(t.Context(), f.ID); !errors.Is(err, flow.ErrExpired) {
		t.Fatalf("Get of an older flow: %v, want ErrExpired", err)
	}
}

func TestDetailsSurviveMoves(t *testing.T) {
	e := newEnv(t)
	f, tok := e.start(t)
	f, err := e.svc.Advance(t.Context(), f.ID, tok, authenticate)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Details(), request.Details) {
		t.Fatalf("details after a move: %+v, want %+v", f.Details(), request.Details)
	}
}

func TestPageFollowsState(t *testing.T) {
	for state, want := range map[flow.State]string{
		flow.StateLogin:        flow.PageLogin,
		flow.StateSecondFactor: flow.PageSecondFactor,
		flow.StateConsent:      flow.PageConsent,
		flow.StateDone:         "",
		flow.StateDenied:       "",
	} {
		f := &flow.Flow{Flow: store.Flow{ID: "a b", State: string(state)}}
		if got := f.Page(); got != want {
			t.Errorf("%s: Page() = %q, want %q", state, got, want)
		}
		if want != "" && f.PageURL() != want+"?flow=a+b" {
			t.Errorf("%s: PageURL() = %q", state, f.PageURL())
		}
	}
}

func TestStartAuthenticated(t *testing.T) {
	e := newEnv(t)
	a := signIn
	a.AuthTime = time.Date(2026, 3, 1, 13, 0, 0, 0, time.FixedZone("Almaty", 5*3600)) // 08:00 UTC
	f, tok, err := e.svc.StartAuthenticated(t.Context(), clientID, request, "ru", a)
	if err != nil {
		t.Fatal(err)
	}
	if f.State() != flow.StateConsent {
		t.Fatalf("state = %s, want consent", f.State())
	}
	got, err := e.svc.Get(t.Context(), f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State() != flow.StateConsent || got.AccountID != a.AccountID || got.SessionID != a.SessionID ||
		!got.AuthTime.Equal(a.AuthTime) || got.AuthTime.Location() != time.UTC ||
		!reflect.DeepEqual(got.AMR, a.AMR) || got.ACR != a.ACR {
		t.Fatalf("stored flow does not record the authentication: %+v", got.Flow)
	}
	// It can go straight on to consent.
	if f, err = e.svc.Advance(t.Context(), f.ID, tok, (*flow.Flow).Allow); err != nil || f.State() != flow.StateDone {
		t.Fatalf("Allow: %v, state %v", err, f)
	}
}

func TestStartAuthenticatedIncomplete(t *testing.T) {
	for name, a := range map[string]flow.Authentication{
		"no account": {AuthTime: t0},
		"no time":    {AccountID: "acc-1"},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			counted := &creates{Flows: e.db}
			e.svc.Store = counted
			_, _, err := e.svc.StartAuthenticated(t.Context(), clientID, request, "ru", a)
			if err == nil {
				t.Fatal("StartAuthenticated accepted an incomplete authentication")
			}
			if counted.n != 0 {
				t.Fatalf("flow stored anyway (%d writes)", counted.n)
			}
		})
	}
}

func TestTransitions(t *testing.T) {
	moves := map[string]func(*flow.Flow) error{
		"authenticate": authenticate,
		"allow":        (*flow.Flow).Allow,
		"deny":         (*flow.Flow).Deny,
	}
	const illegal = flow.State("")
	for _, tc := range []struct {
		from flow.State
		move string
		to   flow.State
	}{
		{flow.StateLogin, "authenticate", flow.StateConsent},
		{flow.StateLogin, "allow", illegal},
		{flow.StateLogin, "deny", flow.StateDenied},
		{flow.StateConsent, "authenticate", illegal},
		{flow.StateConsent, "allow", flow.StateDone},
		{flow.StateConsent, "deny", flow.StateDenied},
		{flow.StateDone, "authenticate", illegal},
		{flow.StateDone, "allow", illegal},
		{flow.StateDone, "deny", illegal},
		{flow.StateDenied, "authenticate", illegal},
		{flow.StateDenied, "allow", illegal},
		{flow.StateDenied, "deny", illegal},
	} {
		t.Run(string(tc.from)+"/"+tc.move, func(t *testing.T) {
			// The bare method on an in-memory flow.
			f := &flow.Flow{Flow: store.Flow{State: string(tc.from)}}
			err := moves[tc.move](f)
			checkMove(t, tc.from, tc.move, tc.to, f.State(), err)

			// The same move through the store.
			e := newEnv(t)
			sf, tok := e.startIn(t, tc.from)
			before := e.stored(t, sf.ID)
			e.clk.Advance(time.Minute)
			got, err := e.svc.Advance(t.Context(), sf.ID, tok, moves[tc.move])
			after := e.stored(t, sf.ID)
			if tc.to == illegal {
				checkMove(t, tc.from, tc.move, tc.to, flow.State(after.State), err)
				if got != nil {
					t.Errorf("Advance returned a flow with its error: %+v", got)
				}
				if !reflect.DeepEqual(after, before) {
					t.Errorf("refused move changed the stored flow:\n got %+v\nwant %+v", after, before)
				}
				return
			}
			checkMove(t, tc.from, tc.move, tc.to, got.State(), err)
			if flow.State(after.State) != tc.to {
				t.Errorf("stored state %s, want %s", after.State, tc.to)
			}
			if !after.UpdatedAt.Equal(e.clk.Now()) || !after.CreatedAt.Equal(before.CreatedAt) {
				t.Errorf("created %v updated %v, want %v and %v", after.CreatedAt, after.UpdatedAt, before.CreatedAt, e.clk.Now())
			}
			if tc.move == "authenticate" {
				if after.AccountID != signIn.AccountID || after.SessionID != signIn.SessionID ||
					!after.AuthTime.Equal(signIn.AuthTime) || !reflect.DeepEqual(after.AMR, signIn.AMR) || after.ACR != signIn.ACR {
					t.Errorf("authentication not recorded: %+v", after)
				}
			}
		})
	}
}

func checkMove(t *testing.T, from flow.State, move string, want, got flow.State, err error) {
	t.Helper()
	if want != "" {
		if err != nil || got != want {
			t.Fatalf("%s from %s: state %s, err %v; want %s", move, from, got, err, want)
		}
		return
	}
	var ime *flow.IllegalMoveError
	if !errors.As(err, &ime) {
		t.Fatalf("%s from %s: err = %v, want *IllegalMoveError", move, from, err)
	}
	if ime.From != from || ime.Move != move {
		t.Errorf("IllegalMoveError{From: %s, Move: %s}, want {%s, %s}", ime.From, ime.Move, from, move)
	}
	if msg := "flow cannot " + move + " from state " + string(from); ime.Error() != msg {
		t.Errorf("message %q, want %q", ime.Error(), msg)
	}
	if got != from {
		t.Errorf("refused %s moved the flow from %s to %s", move, from, got)
	}
}

func TestFinal(t *testing.T) {
	for s, want := range map[flow.State]bool{
		flow.StateLogin: false, flow.StateConsent: false, flow.StateDone: true, flow.StateDenied: true,
	} {
		if s.Final() != want {
			t.Errorf("%s.Final() = %v", s, !want)
		}
	}
}

func TestAuthenticateRequiresAccountAndTime(t *testing.T) {
	for name, a := range map[string]flow.Authentication{
		"no account": {AuthTime: t0},
		"no time":    {AccountID: "acc-1"},
	} {
		t.Run(name, func(t *testing.T) {
			f := &flow.Flow{Flow: store.Flow{State: string(flow.StateLogin)}}
			err := f.Authenticate(a)
			var ime *flow.IllegalMoveError
			if err == nil || errors.As(err, &ime) {
				t.Fatalf("err = %v, want a plain error", err)
			}
			if f.State() != flow.StateLogin || f.AccountID != "" {
				t.Fatalf("flow changed: %+v", f.Flow)
			}
		})
	}
}

func TestAuthenticateCopiesAMR(t *testing.T) {
	a := signIn
	a.AMR = []string{"pwd", "otp"}
	f := &flow.Flow{Flow: store.Flow{State: string(flow.StateLogin)}}
	if err := f.Authenticate(a); err != nil {
		t.Fatal(err)
	}
	a.AMR[0] = "fed"
	if f.AMR[0] != "pwd" {
		t.Fatal("flow shares the caller's AMR slice")
	}
}

func TestAdvanceCSRF(t *testing.T) {
	e := newEnv(t)
	f, tok := e.startIn(t, flow.StateConsent)
	_, otherTok := e.start(t)
	before := e.stored(t, f.ID)
	e.clk.Advance(time.Minute)
	for name, bad := range map[string]string{
		"missing":        "",
		"wrong":          "not-the-token",
		"another flow's": otherTok,
		"flow ID":        f.ID,
		"truncated":      tok[:len(tok)-1],
		"hash as token":  string(before.CSRFHash),
	} {
		t.Run(name, func(t *testing.T) {
			called := false
			got, err := e.svc.Advance(t.Context(), f.ID, bad, func(f *flow.Flow) error { called = true; return f.Allow() })
			if !errors.Is(err, flow.ErrCSRF) || got != nil {
				t.Fatalf("Advance = %v, %v; want ErrCSRF", got, err)
			}
			if called {
				t.Error("move ran despite a bad token")
			}
			if after := e.stored(t, f.ID); !reflect.DeepEqual(after, before) {
				t.Errorf("flow changed:\n got %+v\nwant %+v", after, before)
			}
		})
	}
	if _, err := e.svc.Advance(t.Context(), f.ID, tok, (*flow.Flow).Allow); err != nil {
		t.Fatalf("the right token after bad ones: %v", err)
	}
}

func TestAdvanceMoveErrorAbortsChange(t *testing.T) {
	e := newEnv(t)
	f, tok := e.start(t)
	before := e.stored(t, f.ID)
	e.clk.Advance(time.Minute)
	boom := errors.New("boom")
	_, err := e.svc.Advance(t.Context(), f.ID, tok, func(f *flow.Flow) error {
		if err := f.Authenticate(signIn); err != nil {
			return err
		}
		f.Locale = "en"
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the move's", err)
	}
	if after := e.stored(t, f.ID); !reflect.DeepEqual(after, before) {
		t.Fatalf("a failed move was written:\n got %+v\nwant %+v", after, before)
	}
}

func TestExpiry(t *testing.T) {
	e := newEnv(t)
	e.svc.Lifetime = 5 * time.Minute
	f, tok := e.start(t)
	if !f.ExpiresAt.Equal(t0.Add(5 * time.Minute)) {
		t.Fatalf("expires %v, want the configured lifetime", f.ExpiresAt)
	}
	e.clk.Advance(5*time.Minute - time.Microsecond)
	if _, err := e.svc.Get(t.Context(), f.ID); err != nil {
		t.Fatalf("Get just before expiry: %v", err)
	}
	e.clk.Advance(time.Microsecond) // exactly ExpiresAt: expired
	before := e.stored(t, f.ID)
	if got, err := e.svc.Get(t.Context(), f.ID); !errors.Is(err, flow.ErrExpired) || got != nil {
		t.Errorf("Get = %v, %v; want ErrExpired", got, err)
	}
	if got, err := e.svc.Advance(t.Context(), f.ID, tok, authenticate); !errors.Is(err, flow.ErrExpired) || got != nil {
		t.Errorf("Advance = %v, %v; want ErrExpired", got, err)
	}
	if got, err := e.svc.Bind(t.Context(), f.ID, "binding"); !errors.Is(err, flow.ErrExpired) || got != nil {
		t.Errorf("Bind = %v, %v; want ErrExpired", got, err)
	}
	if after := e.stored(t, f.ID); !reflect.DeepEqual(after, before) {
		t.Errorf("expired flow changed:\n got %+v\nwant %+v", after, before)
	}
	e.clk.Advance(time.Hour)
	if _, err := e.svc.Get(t.Context(), f.ID); !errors.Is(err, flow.ErrExpired) {
		t.Errorf("Get long after: %v, want ErrExpired", err)
	}
}

func TestNotFound(t *testing.T) {
	e := newEnv(t)
	if got, err := e.svc.Get(t.Context(), "nope"); !errors.Is(err, flow.ErrNotFound) || got != nil {
		t.Errorf("Get = %v, %v", got, err)
	}
	if got, err := e.svc.Advance(t.Context(), "nope", "tok", authenticate); !errors.Is(err, flow.ErrNotFound) || got != nil {
		t.Errorf("Advance = %v, %v", got, err)
	}
	if got, err := e.svc.Bind(t.Context(), "nope", "binding"); !errors.Is(err, flow.ErrNotFound) || got != nil {
		t.Errorf("Bind = %v, %v", got, err)
	}
	if err := e.svc.Delete(t.Context(), "nope"); err != nil {
		t.Errorf("Delete of an unknown flow: %v", err)
	}
}

func TestDelete(t *testing.T) {
	e := newEnv(t)
	f, tok := e.startIn(t, flow.StateDone)
	keep, _ := e.start(t)
	if err := e.svc.Delete(t.Context(), f.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Get(t.Context(), f.ID); !errors.Is(err, flow.ErrNotFound) {
		t.Errorf("Get after Delete: %v", err)
	}
	if _, err := e.svc.Advance(t.Context(), f.ID, tok, (*flow.Flow).Deny); !errors.Is(err, flow.ErrNotFound) {
		t.Errorf("Advance after Delete: %v", err)
	}
	if err := e.svc.Delete(t.Context(), f.ID); err != nil {
		t.Errorf("second Delete: %v", err)
	}
	if _, err := e.svc.Get(t.Context(), keep.ID); err != nil {
		t.Errorf("Delete removed another flow: %v", err)
	}
}

// The first browser to bind a flow keeps it: the form token becomes the
// one derived from its binding, the same at every binding again, and
// another browser's binding is refused and changes nothing.
func TestBindFirstBrowserKeepsTheFlow(t *testing.T) {
	e := newEnv(t)
	f, first := e.start(t)
	e.clk.Advance(time.Minute)
	mine, theirs := "binding-of-browser-a", "binding-of-browser-b"
	got, err := e.svc.Bind(t.Context(), f.ID, mine)
	if err != nil {
		t.Fatal(err)
	}
	sf := e.stored(t, f.ID)
	token := flow.FormToken(mine)
	bsum, tsum := sha256.Sum256([]byte(mine)), sha256.Sum256([]byte(token))
	if !bytes.Equal(sf.BrowserHash, bsum[:]) || !bytes.Equal(sf.CSRFHash, tsum[:]) || !reflect.DeepEqual(got.Flow, sf) {
		t.Fatalf("stored %+v, returned %+v", sf, got.Flow)
	}
	if !got.BoundTo(mine) || got.BoundTo(theirs) || got.BoundTo("") {
		t.Error("BoundTo")
	}
	if !sf.UpdatedAt.Equal(e.clk.Now()) || sf.State != string(flow.StateLogin) {
		t.Errorf("updated %v state %s", sf.UpdatedAt, sf.State)
	}
	if token == flow.FormToken(theirs) || token == mine || token != flow.FormToken(mine) {
		t.Fatalf("FormToken is not a function of the binding alone: %q", token)
	}

	if _, err := e.svc.Bind(t.Context(), f.ID, theirs); !errors.Is(err, flow.ErrOtherBrowser) {
		t.Fatalf("another browser's Bind: %v, want ErrOtherBrowser", err)
	}
	if after := e.stored(t, f.ID); !reflect.DeepEqual(after, sf) {
		t.Fatalf("a refused Bind changed the flow:\n got %+v\nwant %+v", after, sf)
	}
	if again, err := e.svc.Bind(t.Context(), f.ID, mine); err != nil || !bytes.Equal(again.CSRFHash, sf.CSRFHash) {
		t.Fatalf("the same browser again: %v, token changed %v", err, err == nil && !bytes.Equal(again.CSRFHash, sf.CSRFHash))
	}
	if _, err := e.svc.Bind(t.Context(), f.ID, ""); err == nil {
		t.Fatal("Bind to an empty binding succeeded")
	}

	if _, err := e.svc.Advance(t.Context(), f.ID, first, authenticate); !errors.Is(err, flow.ErrCSRF) {
		t.Fatalf("the token from before the binding: %v, want ErrCSRF", err)
	}
	if _, err := e.svc.Advance(t.Context(), f.ID, flow.FormToken(theirs), authenticate); !errors.Is(err, flow.ErrCSRF) {
		t.Fatalf("another browser's token: %v, want ErrCSRF", err)
	}
	if _, err := e.svc.Advance(t.Context(), f.ID, token, authenticate); err != nil {
		t.Fatalf("the binding's token: %v", err)
	}
}

// Two browsers binding one flow at once: exactly one keeps it.
func TestBindConcurrentOneWins(t *testing.T) {
	e := newEnv(t)
	f, _ := e.start(t)
	const n = 8
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = e.svc.Bind(t.Context(), f.ID, fmt.Sprintf("binding-%d", i))
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
			if sum := sha256.Sum256([]byte(fmt.Sprintf("binding-%d", i))); !bytes.Equal(e.stored(t, f.ID).BrowserHash, sum[:]) {
				t.Errorf("winner %d is not the stored binding", i)
			}
		case !errors.Is(err, flow.ErrOtherBrowser):
			t.Errorf("Bind %d: %v, want ErrOtherBrowser", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d browsers bound the flow, want exactly 1", won)
	}
}

func TestConcurrentAllowExactlyOnce(t *testing.T) {
	e := newEnv(t)
	f, tok := e.startIn(t, flow.StateConsent)
	const n = 8
	var (
		wg        sync.WaitGroup
		start     = make(chan struct{})
		errs      = make([]error, n)
		successes = make([]*flow.Flow, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			successes[i], errs[i] = e.svc.Advance(t.Context(), f.ID, tok, (*flow.Flow).Allow)
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		var ime *flow.IllegalMoveError
		switch {
		case err == nil:
			won++
			if successes[i].State() != flow.StateDone {
				t.Errorf("winner sees state %s", successes[i].State())
			}
		case errors.As(err, &ime):
			if ime.From != flow.StateDone || ime.Move != "allow" {
				t.Errorf("loser %d: %+v", i, ime)
			}
		default:
			t.Errorf("goroutine %d: %v, want *IllegalMoveError", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d Allow calls succeeded, want exactly 1", won)
	}
	if sf := e.stored(t, f.ID); sf.State != string(flow.StateDone) {
		t.Fatalf("stored state %s", sf.State)
	}
}

func TestTokenMatches(t *testing.T) {
	sum := sha256.Sum256([]byte("tok"))
	for _, tc := range []struct {
		h    []byte
		tok  string
		want bool
	}{
		{sum[:], "tok", true},
		{sum[:], "Tok", false},
		{sum[:], "", false},
		{nil, "tok", false},
		{sum[:16], "tok", false},
		{[]byte("tok"), "tok", false},
	} {
		if got := flow.TokenMatches(tc.h, tc.tok); got != tc.want {
			t.Errorf("TokenMatches(%x, %q) = %v", tc.h, tc.tok, got)
		}
	}
}

// A step-up (second_factor with the session to raise) can be sent back to
// the password; nothing of the old sign-in stays. A second factor after a
// password (no session yet) and every other state refuse it.
func TestRequirePassword(t *testing.T) {
	stepUp := signIn
	stepUp.SessionID = "session-hash"
	f := &flow.Flow{Flow: store.Flow{State: string(flow.StateLogin), BrowserHash: []byte{1, 2, 3}}}
	if err := f.RequireSecondFactor(stepUp); err != nil {
		t.Fatal(err)
	}
	if err := f.RequirePassword(); err != nil || f.State() != flow.StateLogin {
		t.Fatalf("RequirePassword: %v, state %s", err, f.State())
	}
	if f.AccountID != "" || f.SessionID != "" || !f.AuthTime.IsZero() || f.AMR != nil || f.ACR != "" {
		t.Fatalf("the old sign-in stayed: %+v", f.Flow)
	}
	// The same browser gives the password: its binding stays.
	if !bytes.Equal(f.BrowserHash, []byte{1, 2, 3}) {
		t.Fatalf("RequirePassword dropped the browser binding: %x", f.BrowserHash)
	}

	afterPassword := signIn
	afterPassword.SessionID = ""
	g := &flow.Flow{Flow: store.Flow{State: string(flow.StateLogin)}}
	if err := g.RequireSecondFactor(afterPassword); err != nil {
		t.Fatal(err)
	}
	var ime *flow.IllegalMoveError
	if err := g.RequirePassword(); !errors.As(err, &ime) || g.State() != flow.StateSecondFactor {
		t.Fatalf("RequirePassword after a password: %v, state %s", err, g.State())
	}
	for _, s := range []flow.State{flow.StateLogin, flow.StateConsent, flow.StateDone, flow.StateDenied} {
		h := &flow.Flow{Flow: store.Flow{State: string(s), SessionID: "session-hash"}}
		if err := h.RequirePassword(); !errors.As(err, &ime) || h.State() != s {
			t.Errorf("RequirePassword from %s: %v, state %s", s, err, h.State())
		}
	}
}
