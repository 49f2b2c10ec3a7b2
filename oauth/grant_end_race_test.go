package oauth

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/consent"
	"github.com/propusk/propusk/internal/testdb"
	"github.com/propusk/propusk/store"
)

// pauseCreate holds the token endpoint's transaction open after its first
// write of kind (a rotation or a redemption has already happened in it, a
// new token is being written), until release is closed.
type pauseCreate struct {
	backendDB
	kind    string
	once    sync.Once
	paused  chan struct{}
	release chan struct{}
}

func (p *pauseCreate) CreateOAuthRecord(ctx context.Context, r store.OAuthRecord) error {
	err := p.backendDB.CreateOAuthRecord(ctx, r)
	if r.Kind == p.kind {
		p.once.Do(func() {
			close(p.paused)
			<-p.release
		})
	}
	return err
}

// A person withdraws consent on the account page, or an administrator
// disables the account, while the client's refresh (or code redemption)
// is in flight: the tokens that request issues must not stay working. On
// PostgreSQL (READ COMMITTED) an UPDATE that ends the grants waits on the
// row the token request rotated and then skips the rows that request
// inserted, which its snapshot never saw; the per-person grant lock
// (Storage.BeginTX, store.LockGrants) makes it wait for the whole token
// transaction instead.
func TestGrantsEndedWhileTokenRequestInFlight(t *testing.T) {
	ends := []struct {
		name string
		end  func(db backendDB, clientID string) error
	}{
		{"withdraw_consent", func(db backendDB, clientID string) error {
			return (&consent.Service{Store: db, Grants: db}).Withdraw(context.Background(), "account-1", clientID, "")
		}},
		{"disable_account", func(db backendDB, _ string) error {
			_, err := (&accounts.Service{Store: db, Access: db}).Disable(context.Background(), "account-1")
			return err
		}},
	}
	for _, end := range ends {
		for _, grant := range []string{"refresh_token", "authorization_code"} {
			t.Run(end.name+"/"+grant, func(t *testing.T) {
				testdb.Each(t, func(t *testing.T, db testdb.DB) {
					h := newHarness(t, db)
					consents := &consent.Service{Store: db, Grants: db}
					now := time.Now().UTC()
					if err := db.CreateAccount(t.Context(), store.Account{ID: "account-1", Username: "anna", Kind: "compatriot",
						Assurance: "standard", PasswordHash: "x", CreatedAt: now, UpdatedAt: now}); err != nil {
						t.Fatal(err)
					}
					if err := consents.Remember(t.Context(), "account-1", h.clientID, []string{"openid", "offline_access"}); err != nil {
						t.Fatal(err)
					}
					verifier, challenge := pkcePair()
					code := h.authorize("openid offline_access", challenge)
					var do func() (string, string, error)
					if grant == "refresh_token" {
						resp, err := h.exchange(code, verifier)
						if err != nil {
							t.Fatal(rfcErr(err))
						}
						rt := resp.ToMap()["refresh_token"].(string)
						do = func() (string, string, error) {
							resp, err := h.refresh(rt)
							if err != nil {
								return "", "", err
							}
							return resp.GetAccessToken(), resp.ToMap()["refresh_token"].(string), nil
						}
					} else {
						do = func() (string, string, error) {
							resp, err := h.exchange(code, verifier)
							if err != nil {
								return "", "", err
							}
							return resp.GetAccessToken(), resp.ToMap()["refresh_token"].(string), nil
						}
					}
					p := &pauseCreate{backendDB: db, kind: store.OAuthRefresh, paused: make(chan struct{}), release: make(chan struct{})}
					h.st.Store = p

					var at, rt string
					var tokErr error
					done := make(chan struct{})
					go func() { defer close(done); at, rt, tokErr = do() }()
					<-p.paused
					edone := make(chan error, 1)
					go func() { edone <- end.end(db, h.clientID) }()
					time.Sleep(500 * time.Millisecond) // the ending reaches its first statement and waits
					close(p.release)
					<-done
					if err := <-edone; err != nil {
						t.Fatalf("%s: %v", end.name, err)
					}
					h.st.Store = db
					if tokErr != nil {
						return // the request lost: nothing was issued
					}
					if h.active(at) {
						t.Error("an access token issued by a request in flight is still active after the grants were ended")
					}
					if _, err := h.refresh(rt); err == nil {
						t.Error("a refresh token issued by a request in flight still works after the grants were ended")
					}
				})
			})
		}
	}
}
