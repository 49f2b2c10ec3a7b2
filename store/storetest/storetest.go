package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/propusk/propusk/store"
)

// NewStore returns a fresh, empty, migrated store; the test's cleanup closes it.
type NewStore func(t *testing.T) store.Store

// RunTests runs the whole conformance suite.
func RunTests(t *testing.T, newStore NewStore) {
	t.Run("Accounts", func(t *testing.T) { testAccounts(t, newStore) })
	t.Run("Clients", func(t *testing.T) { testClients(t, newStore) })
	t.Run("ServerSecrets", func(t *testing.T) { testServerSecrets(t, newStore) })
	t.Run("OAuthRecords", func(t *testing.T) { testOAuthRecords(t, newStore) })
	t.Run("GrantLock", func(t *testing.T) { testGrantLock(t, newStore) })
	t.Run("ClientAssertions", func(t *testing.T) { testClientAssertions(t, newStore) })
	t.Run("SigningKeys", func(t *testing.T) { testSigningKeys(t, newStore) })
	t.Run("SealedValues", func(t *testing.T) { testSealedValues(t, newStore) })
	t.Run("UnstorableKeys", func(t *testing.T) { testUnstorableKeys(t, newStore) })
	t.Run("BatchSizes", func(t *testing.T) { testBatchSizes(t, newStore) })
	t.Run("MergeConsent", func(t *testing.T) { testMergeConsent(t, newStore) })
	t.Run("LocalFlows", func(t *testing.T) { testLocalFlows(t, newStore) })
	t.Run("EnrolRequired", func(t *testing.T) { testEnrolRequired(t, newStore) })
	t.Run("UnconfirmedAuthenticatorsSwept", func(t *testing.T) { testUnconfirmedAuthenticatorsSwept(t, newStore) })
	t.Run("Flows", func(t *testing.T) { testFlows(t, newStore) })
	t.Run("BrowserSessions", func(t *testing.T) { testBrowserSessions(t, newStore) })
	t.Run("Consents", func(t *testing.T) { testConsents(t, newStore) })
	t.Run("Throttles", func(t *testing.T) { testThrottles(t, newStore) })
	t.Run("Authenticators", func(t *testing.T) { testAuthenticators(t, newStore) })
	t.Run("MFAStates", func(t *testing.T) { testMFAStates(t, newStore) })
	t.Run("RecoveryCodes", func(t *testing.T) { testRecoveryCodes(t, newStore) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, newStore) })
	t.Run("Transactions", func(t *testing.T) { testTransactions(t, newStore) })
	t.Run("TxController", func(t *testing.T) { testTxController(t, newStore) })
	t.Run("Concurrency", func(t *testing.T) {
		testConcurrency(t, newStore)
		testOAuthConcurrency(t, newStore)
		testGrantLockConcurrency(t, newStore)
		testSessionConcurrency(t, newStore)
		testMFAConcurrency(t, newStore)
	})
}

// now is a fixed instant at the microsecond precision both backends keep.
var now = time.Date(2026, 11, 22, 10, 30, 15, 123456000, time.UTC)

func ctx(t *testing.T) context.Context { return t.Context() }

func wantErr(t *testing.T, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func equal(t *testing.T, got, want any, what string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func sampleAccount(id, username string) store.Account {
	return store.Account{
		ID: id, Username: username,
		Email: username + "@example.org", EmailVerified: true,
		Phone: "+77010000000", PhoneVerified: false,
		Kind:      "compatriot",
		GivenName: "Анна", FamilyName: "Иванова", MiddleName: "Петровна",
		GivenNameLatin: "Anna", FamilyNameLatin: "Ivanova", MiddleNameLatin: "Petrovna",
		Birthdate: "1990-04-12", Citizenships: []string{"KZ", "UZ"}, CountryOfResidence: "KZ",
		Locale: "ru", Assurance: "standard",
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
		CreatedAt:    now, UpdatedAt: now,
	}
}

func testAccounts(t *testing.T, newStore NewStore) {
	t.Run("CreateGet", func(t *testing.T) {
		s := newStore(t)
		a := sampleAccount("a1", "anna")
		roundTrip(t, s.CreateAccount, s.GetAccount, "a1", a)
		got, err := s.GetAccountByUsername(ctx(t), "anna")
		must(t, err, "get by username")
		equal(t, got, a, "round trip by username")
	})
	t.Run("EmptyFieldsRoundTrip", func(t *testing.T) {
		s := newStore(t)
		a := store.Account{ID: "a1", Username: "min", Kind: "foreign_national", Assurance: "simplified",
			Citizenships: []string{}, CreatedAt: now, UpdatedAt: now}
		got := roundTrip(t, s.CreateAccount, s.GetAccount, "a1", a)
		if got.Disabled() {
			t.Fatal("new account reads as disabled")
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		s := newStore(t)
		_, err := s.GetAccount(ctx(t), "nobody")
		wantErr(t, err, store.ErrNotFound, "get unknown id")
		_, err = s.GetAccountByUsername(ctx(t), "nobody")
		wantErr(t, err, store.ErrNotFound, "get unknown username")
		_, err = s.UpdateAccount(ctx(t), "nobody", func(a store.Account) (store.Account, error) { return a, nil })
		wantErr(t, err, store.ErrNotFound, "update unknown")
	})
	t.Run("DuplicateID", func(t *testing.T) {
		s := newStore(t)
		must(t, s.CreateAccount(ctx(t), sampleAccount("a1", "anna")), "create")
		wantErr(t, s.CreateAccount(ctx(t), sampleAccount("a1", "boris")), store.ErrAlreadyExists, "same id")
		_, err := s.GetAccountByUsername(ctx(t), "boris")
		wantErr(t, err, store.ErrNotFound, "rejected row must not be written")
	})
	t.Run("DuplicateUsername", func(t *testing.T) {
		s := newStore(t)
		must(t, s.CreateAccount(ctx(t), sampleAccount("a1", "anna")), "create")
		wantErr(t, s.CreateAccount(ctx(t), sampleAccount("a2", "anna")), store.ErrAlreadyExists, "same username")
		_, err := s.GetAccount(ctx(t), "a2")
		wantErr(t, err, store.ErrNotFound, "rejected row must not be written")
	})
	t.Run("ListOrderedAndPaged", func(t *testing.T) {
		s := newStore(t)
		for i, u := range []string{"zoe", "anna", "boris", "Ärger", "ivan"} {
			must(t, s.CreateAccount(ctx(t), sampleAccount(fmt.Sprint("a", i), u)), "create")
		}
		all, err := s.ListAccounts(ctx(t), "", 0)
		must(t, err, "list")
		equal(t, usernames(all), []string{"anna", "boris", "ivan", "zoe", "Ärger"}, "byte order")
		page, err := s.ListAccounts(ctx(t), "boris", 2)
		must(t, err, "list page")
		equal(t, usernames(page), []string{"ivan", "zoe"}, "page after boris")
	})
	t.Run("Update", func(t *testing.T) {
		s := newStore(t)
		must(t, s.CreateAccount(ctx(t), sampleAccount("a1", "anna")), "create")
		later := now.Add(time.Hour)
		got, err := s.UpdateAccount(ctx(t), "a1", func(a store.Account) (store.Account, error) {
			a.ID = "hijacked" // ID and CreatedAt are immutable
			a.CreatedAt = later
			a.Username = "anna.i"
			a.Citizenships = []string{"RU"}
			a.DisabledAt = later
			a.UpdatedAt = later
			return a, nil
		})
		must(t, err, "update")
		want := sampleAccount("a1", "anna")
		want.Username, want.Citizenships, want.DisabledAt, want.UpdatedAt = "anna.i", []string{"RU"}, later, later
		equal(t, got, want, "returned value")
		read, err := s.GetAccount(ctx(t), "a1")
		must(t, err, "get")
		equal(t, read, want, "stored value")
		if !read.Disabled() {
			t.Fatal("disabled account reads as active")
		}
		_, err = s.GetAccountByUsername(ctx(t), "anna")
		wantErr(t, err, store.ErrNotFound, "old username released")
	})
	t.Run("UpdateAbortsOnError", func(t *testing.T) {
		s := newStore(t)
		must(t, s.CreateAccount(ctx(t), sampleAccount("a1", "anna")), "create")
		boom := errors.New("boom")
		_, err := s.UpdateAccount(ctx(t), "a1", func(a store.Account) (store.Account, error) {
			a.Username = "changed"
			return a, boom
		})
		wantErr(t, err, boom, "updater error returned unchanged")
		got, err := s.GetAccount(ctx(t), "a1")
		must(t, err, "get")
		equal(t, got.Username, "anna", "nothing written")
	})
	t.Run("UpdateToTakenUsername", func(t *testing.T) {
		s := newStore(t)
		must(t, s.CreateAccount(ctx(t), sampleAccount("a1", "anna")), "create")
		must(t, s.CreateAccount(ctx(t), sampleAccount("a2", "boris")), "create")
		_, err := s.UpdateAccount(ctx(t), "a2", func(a store.Account) (store.Account, error) {
			a.Username = "anna"
			return a, nil
		})
		wantErr(t, err, store.ErrAlreadyExists, "rename to a taken username")
		got, err := s.GetAccount(ctx(t), "a2")
		must(t, err, "get")
		equal(t, got.Username, "boris", "nothing written")
	})
}

func usernames(as []store.Account) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, a.Username)
	}
	return out
}

func sampleClient(id string) store.Client {
	return store.Client{
		ID: id, Name: "Compatriot card",
		RedirectURIs:            []string{"https://card.example/cb", "http://127.0.0.1:9000/cb"},
		PostLogoutRedirectURIs:  []string{"https://card.example/bye"},
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		Scopes:                  []string{"openid", "profile", "identity"},
		TokenEndpointAuthMethod: "client_secret_basic",
		FirstParty:              true,
		BackchannelLogoutURI:    "https://card.example/logout",
		MinimumACR:              "standard",
		SecretHash:              []byte{1, 2, 3, 4},
		IDTokenSigningAlg:       "RS256",
		RequirePAR:              true,
		AccessTokenFormat:       "jwt",
		CreatedAt:               now, UpdatedAt: now,
	}
}

func testClients(t *testing.T, newStore NewStore) {
	t.Run("CreateGet", func(t *testing.T) {
		s := newStore(t)
		c := sampleClient("card")
		roundTrip(t, s.CreateClient, s.GetClient, "card", c)

		pub := store.Client{ID: "entry-app", Name: "Entry", RedirectURIs: []string{"ru.example.entry:/cb"},
			PostLogoutRedirectURIs: []string{}, GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid"},
			Public: true, TokenEndpointAuthMethod: "none", IDTokenSigningAlg: "ES256", AccessTokenFormat: "opaque",
			CreatedAt: now, UpdatedAt: now}
		roundTrip(t, s.CreateClient, s.GetClient, "entry-app", pub)
	})
	t.Run("JWKSAndRotatedSecret", func(t *testing.T) {
		s := newStore(t)
		c := sampleClient("jwt")
		c.TokenEndpointAuthMethod = "private_key_jwt"
		c.JWKS = []byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"a","y":"b"}]}`)
		c.PreviousSecretHash = []byte{9, 9}
		c.PreviousSecretExpiresAt = now.Add(24 * time.Hour)
		roundTrip(t, s.CreateClient, s.GetClient, "jwt", c)
	})
	t.Run("DuplicateID", func(t *testing.T) {
		s := newStore(t)
		other := sampleClient("card")
		other.Name = "Other"
		firstKept(t, s.CreateClient, s.GetClient, "card", sampleClient("card"), other)
	})
	t.Run("NotFound", func(t *testing.T) {
		s := newStore(t)
		_, err := s.GetClient(ctx(t), "none")
		wantErr(t, err, store.ErrNotFound, "get")
		wantErr(t, s.DeleteClient(ctx(t), "none"), store.ErrNotFound, "delete")
		_, err = s.UpdateClient(ctx(t), "none", func(c store.Client) (store.Client, error) { return c, nil })
		wantErr(t, err, store.ErrNotFound, "update")
	})
	t.Run("ListUpdateDelete", func(t *testing.T) {
		s := newStore(t)
		for _, id := range []string{"entry", "card", "admin"} {
			must(t, s.CreateClient(ctx(t), sampleClient(id)), "create")
		}
		all, err := s.ListClients(ctx(t))
		must(t, err, "list")
		var ids []string
		for _, c := range all {
			ids = append(ids, c.ID)
		}
		equal(t, ids, []string{"admin", "card", "entry"}, "ordered by id")

		later := now.Add(time.Minute)
		got, err := s.UpdateClient(ctx(t), "card", func(c store.Client) (store.Client, error) {
			c.PreviousSecretHash, c.PreviousSecretExpiresAt = c.SecretHash, later
			c.SecretHash = []byte{5, 6}
			c.RedirectURIs = []string{"https://card.example/new"}
			c.IDTokenSigningAlg, c.RequirePAR, c.AccessTokenFormat = "ES256", false, "opaque"
			c.UpdatedAt = later
			return c, nil
		})
		must(t, err, "update")
		read, err := s.GetClient(ctx(t), "card")
		must(t, err, "get")
		equal(t, read, got, "stored equals returned")
		equal(t, read.PreviousSecretHash, []byte{1, 2, 3, 4}, "previous hash")
		equal(t, read.RedirectURIs, []string{"https://card.example/new"}, "redirect URIs")
		equal(t, []any{read.IDTokenSigningAlg, read.RequirePAR, read.AccessTokenFormat}, []any{"ES256", false, "opaque"}, "options updated")

		must(t, s.DeleteClient(ctx(t), "card"), "delete")
		_, err = s.GetClient(ctx(t), "card")
		wantErr(t, err, store.ErrNotFound, "get deleted")
	})
}

func testServerSecrets(t *testing.T, newStore NewStore) {
	s := newStore(t)
	sec := store.ServerSecret{Name: "client-secret-key", Sealed: []byte{1, 2, 3}, CreatedAt: now, UpdatedAt: now}
	_, err := s.GetServerSecret(ctx(t), sec.Name)
	wantErr(t, err, store.ErrNotFound, "get before create")
	must(t, s.CreateServerSecret(ctx(t), sec), "create")
	wantErr(t, s.CreateServerSecret(ctx(t), sec), store.ErrAlreadyExists, "create twice")
	got, err := s.GetServerSecret(ctx(t), sec.Name)
	must(t, err, "get")
	equal(t, got, sec, "round trip")
	later := now.Add(time.Hour)
	must(t, s.UpdateServerSecret(ctx(t), sec.Name, []byte{4, 5}, later), "update")
	got, err = s.GetServerSecret(ctx(t), sec.Name)
	must(t, err, "get")
	equal(t, got, store.ServerSecret{Name: sec.Name, Sealed: []byte{4, 5}, CreatedAt: now, UpdatedAt: later}, "updated")
	wantErr(t, s.UpdateServerSecret(ctx(t), "none", []byte{1}, later), store.ErrNotFound, "update unknown")
}

func testTransactions(t *testing.T, newStore NewStore) {
	t.Run("CommitSeesOwnWrites", func(t *testing.T) {
		s := newStore(t)
		err := s.InTx(ctx(t), func(ctx context.Context) error {
			if err := s.CreateAccount(ctx, sampleAccount("a1", "anna")); err != nil {
				return err
			}
			if _, err := s.GetAccount(ctx, "a1"); err != nil {
				return fmt.Errorf("read own write: %w", err)
			}
			return s.CreateClient(ctx, sampleClient("card"))
		})
		must(t, err, "transaction")
		_, err = s.GetAccount(ctx(t), "a1")
		must(t, err, "account committed")
		_, err = s.GetClient(ctx(t), "card")
		must(t, err, "client committed")
	})
	t.Run("RollbackOnError", func(t *testing.T) {
		s := newStore(t)
		boom := errors.New("boom")
		err := s.InTx(ctx(t), func(ctx context.Context) error {
			if err := s.CreateAccount(ctx, sampleAccount("a1", "anna")); err != nil {
				return err
			}
			if err := s.CreateClient(ctx, sampleClient("card")); err != nil {
				return err
			}
			return boom
		})
		wantErr(t, err, boom, "error returned unchanged")
		_, err = s.GetAccount(ctx(t), "a1")
		wantErr(t, err, store.ErrNotFound, "account rolled back")
		_, err = s.GetClient(ctx(t), "card")
		wantErr(t, err, store.ErrNotFound, "client rolled back")
	})
	t.Run("RollbackOnFailedStatement", func(t *testing.T) {
		s := newStore(t)
		must(t, s.CreateAccount(ctx(t), sampleAccount("a1", "anna")), "create")
		err := s.InTx(ctx(t), func(ctx context.Context) error {
			if err := s.CreateClient(ctx, sampleClient("card")); err != nil {
				return err
			}
			return s.CreateAccount(ctx, sampleAccount("a2", "anna")) // duplicate username
		})
		wantErr(t, err, store.ErrAlreadyExists, "duplicate inside transaction")
		_, err = s.GetClient(ctx(t), "card")
		wantErr(t, err, store.ErrNotFound, "half of the transaction must not stay")
	})
	t.Run("NestedJoinsOuter", func(t *testing.T) {
		s := newStore(t)
		boom := errors.New("boom")
		err := s.InTx(ctx(t), func(ctx context.Context) error {
			if err := s.InTx(ctx, func(ctx context.Context) error {
				return s.CreateAccount(ctx, sampleAccount("a1", "anna"))
			}); err != nil {
				return err
			}
			// UpdateAccount opens its own transaction: it must join this one.
			if _, err := s.UpdateAccount(ctx, "a1", func(a store.Account) (store.Account, error) {
				a.Locale = "en"
				return a, nil
			}); err != nil {
				return err
			}
			return boom
		})
		wantErr(t, err, boom, "outer error")
		_, err = s.GetAccount(ctx(t), "a1")
		wantErr(t, err, store.ErrNotFound, "inner work rolled back with the outer transaction")
	})
}

// race runs fn from n goroutines released at once and returns their errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs[i] = fn(i)
		}()
	}
	start.Done()
	done.Wait()
	return errs
}

const racers = 8

func testConcurrency(t *testing.T, newStore NewStore) {
	t.Run("CreateSameUsernameOneWins", func(t *testing.T) {
		s := newStore(t)
		errs := race(racers, func(i int) error {
			return s.CreateAccount(ctx(t), sampleAccount(fmt.Sprint("a", i), "contested"))
		})
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, store.ErrAlreadyExists):
			default:
				t.Errorf("loser got %v, want ErrAlreadyExists", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d creations of one username succeeded, want exactly 1", wins)
		}
	})
	t.Run("ConditionalUpdateOneWins", func(t *testing.T) {
		s := newStore(t)
		must(t, s.CreateAccount(ctx(t), sampleAccount("a1", "anna")), "create")
		already := errors.New("already disabled")
		errs := race(racers, func(i int) error {
			_, err := s.UpdateAccount(ctx(t), "a1", func(a store.Account) (store.Account, error) {
				if a.Disabled() {
					return a, already
				}
				a.DisabledAt = now.Add(time.Duration(i+1) * time.Second)
				return a, nil
			})
			return err
		})
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, already):
			default:
				t.Errorf("loser got %v, want the updater's own error", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d goroutines disabled the account, want exactly 1", wins)
		}
	})
	t.Run("UpdatesAreNotLost", func(t *testing.T) {
		s := newStore(t)
		must(t, s.CreateAccount(ctx(t), sampleAccount("a1", "anna")), "create")
		errs := race(racers, func(i int) error {
			_, err := s.UpdateAccount(ctx(t), "a1", func(a store.Account) (store.Account, error) {
				a.Citizenships = append(a.Citizenships, fmt.Sprintf("X%d", i))
				return a, nil
			})
			return err
		})
		for _, err := range errs {
			must(t, err, "update")
		}
		got, err := s.GetAccount(ctx(t), "a1")
		must(t, err, "get")
		if len(got.Citizenships) != 2+racers {
			t.Fatalf("after %d concurrent appends the list has %d entries (%v): an update was lost", racers, len(got.Citizenships), got.Citizenships)
		}
	})
	t.Run("CreateServerSecretOneWins", func(t *testing.T) {
		s := newStore(t)
		errs := race(racers, func(i int) error {
			return s.CreateServerSecret(ctx(t), store.ServerSecret{Name: "k", Sealed: []byte{byte(i)}, CreatedAt: now, UpdatedAt: now})
		})
		wins := 0
		for _, err := range errs {
			if err == nil {
				wins++
			} else if !errors.Is(err, store.ErrAlreadyExists) {
				t.Errorf("loser got %v, want ErrAlreadyExists", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d creations succeeded, want exactly 1", wins)
		}
	})
}

// roundTrip stores v with create and reads it back with get by key: it
// must come back equal. It returns what was read.
func roundTrip[K, T any](t *testing.T, create func(context.Context, T) error, get func(context.Context, K) (T, error), key K, v T) T {
	t.Helper()
	must(t, create(ctx(t), v), "create")
	got, err := get(ctx(t), key)
	must(t, err, "get")
	equal(t, got, v, "round trip")
	return got
}

// firstKept stores first, then other with the same key: the second must
// fail with store.ErrAlreadyExists and leave first as it was.
func firstKept[K, T any](t *testing.T, create func(context.Context, T) error, get func(context.Context, K) (T, error), key K, first, other T) {
	t.Helper()
	must(t, create(ctx(t), first), "create")
	wantErr(t, create(ctx(t), other), store.ErrAlreadyExists, "same key")
	got, err := get(ctx(t), key)
	must(t, err, "get")
	equal(t, got, first, "first one kept")
}

// pluck lists one field of every element, [] (not nil) for none.
func pluck[T, F any](l []T, field func(T) F) []F {
	out := []F{}
	for _, v := range l {
		out = append(out, field(v))
	}
	return out
}
