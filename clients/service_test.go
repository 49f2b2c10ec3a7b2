package clients

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/propusk/propusk/internal/clock"
	"github.com/propusk/propusk/store"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newService(t *testing.T) (*Service, *fakeClients, *clock.Fake) {
	t.Helper()
	st := newFakeClients()
	clk := clock.NewFake(t0)
	return &Service{Store: st, Secrets: testHasher(t), Clock: clk.Now}, st, clk
}

func TestCreateConfidential(t *testing.T) {
	ctx := context.Background()
	svc, st, _ := newService(t)
	c, secret, err := svc.Create(ctx, confidential())
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) != 43 {
		t.Fatalf("secret %q: want 43 characters", secret)
	}
	if c.ID != "shop" || c.Name != "Shop" || c.TokenEndpointAuthMethod != AuthClientSecretBasic || c.Public {
		t.Errorf("unexpected client %+v", c)
	}
	if !c.CreatedAt.Equal(t0) || !c.UpdatedAt.Equal(t0) {
		t.Errorf("timestamps %v %v, want %v", c.CreatedAt, c.UpdatedAt, t0)
	}
	stored, err := st.GetClient(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if string(stored.SecretHash) == secret || len(stored.SecretHash) != 32 {
		t.Errorf("stored SecretHash %x is not a 32-byte hash", stored.SecretHash)
	}
	if !svc.VerifySecret(stored, secret, t0) {
		t.Error("issued secret does not verify")
	}
	if svc.VerifySecret(stored, "wrong", t0) {
		t.Error("wrong secret verifies")
	}

	got, err := svc.Get(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Shop" {
		t.Errorf("Get = %+v", got)
	}
}

func TestCreateWithoutSecret(t *testing.T) {
	ctx := context.Background()
	svc, _, _ := newService(t)

	c, secret, err := svc.Create(ctx, public())
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" || c.SecretHash != nil || c.TokenEndpointAuthMethod != AuthNone {
		t.Errorf("public client got secret %q hash %x method %q", secret, c.SecretHash, c.TokenEndpointAuthMethod)
	}
	if svc.VerifySecret(c, "", t0) {
		t.Error("public client verifies an empty secret")
	}

	r := confidential()
	r.ID = "bank"
	r.AuthMethod = AuthPrivateKeyJWT
	r.JWKS = jwks(t, jwk(t, "p256", false, "sig"))
	c, secret, err = svc.Create(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" || c.SecretHash != nil {
		t.Errorf("private_key_jwt client got secret %q hash %x", secret, c.SecretHash)
	}
	if string(c.JWKS) != string(r.JWKS) {
		t.Error("JWKS not stored")
	}

	r = confidential()
	r.ID = "post"
	r.AuthMethod = AuthClientSecretPost
	if _, secret, err = svc.Create(ctx, r); err != nil || secret == "" {
		t.Errorf("client_secret_post: secret %q, err %v", secret, err)
	}
}

func TestCreateGeneratesID(t *testing.T) {
	svc, _, _ := newService(t)
	r := confidential()
	r.ID = ""
	c, _, err := svc.Create(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ID) != 32 {
		t.Errorf("generated ID %q", c.ID)
	}
}

func TestCreateInvalid(t *testing.T) {
	svc, st, _ := newService(t)
	r := confidential()
	r.RedirectURIs = []string{"http://shop.example/cb"}
	if _, _, err := svc.Create(context.Background(), r); err == nil {
		t.Fatal("invalid registration created")
	}
	if len(st.clients) != 0 {
		t.Error("invalid registration reached the store")
	}
}

func TestCreateDuplicate(t *testing.T) {
	ctx := context.Background()
	svc, _, _ := newService(t)
	if _, _, err := svc.Create(ctx, confidential()); err != nil {
		t.Fatal(err)
	}
	_, secret, err := svc.Create(ctx, confidential())
	if !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("err = %v, want ErrAlreadyExists", err)
	}
	if err.Error() != `client "shop" already exists` {
		t.Errorf("message %q", err.Error())
	}
	if secret != "" {
		t.Error("failed Create returned a secret")
	}
}

func TestCreateNeedsHasher(t *testing.T) {
	svc := &Service{Store: newFakeClients()}
	if _, _, err := svc.Create(context.Background(), confidential()); err == nil {
		t.Error("confidential client created without a hasher")
	}
	// Public clients need no hasher.
	if _, _, err := svc.Create(context.Background(), public()); err != nil {
		t.Error(err)
	}
}

func TestListGetDelete(t *testing.T) {
	ctx := context.Background()
	svc, _, _ := newService(t)
	for _, id := range []string{"ccc", "aaa", "bbb"} {
		r := confidential()
		r.ID = id
		if _, _, err := svc.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	list, err := svc.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range list {
		ids = append(ids, c.ID)
	}
	if fmt.Sprint(ids) != "[aaa bbb ccc]" {
		t.Errorf("List IDs = %v", ids)
	}

	if err := svc.Delete(ctx, "bbb"); err != nil {
		t.Fatal(err)
	}
	err = svc.Delete(ctx, "bbb")
	if !errors.Is(err, store.ErrNotFound) || err.Error() != `client "bbb" not found` {
		t.Errorf("second Delete: %v", err)
	}
	_, err = svc.Get(ctx, "bbb")
	if !errors.Is(err, store.ErrNotFound) || err.Error() != `client "bbb" not found` {
		t.Errorf("Get deleted: %v", err)
	}
}

func TestRotateSecretGrace(t *testing.T) {
	ctx := context.Background()
	svc, st, clk := newService(t)
	st.updateRuns = 2 // the update function must be repeatable
	_, oldSecret, err := svc.Create(ctx, confidential())
	if err != nil {
		t.Fatal(err)
	}

	clk.Advance(time.Hour)
	rotatedAt := clk.Now()
	newSecret, err := svc.RotateSecret(ctx, "shop", DefaultSecretGrace)
	if err != nil {
		t.Fatal(err)
	}
	if newSecret == oldSecret || len(newSecret) != 43 {
		t.Fatalf("new secret %q", newSecret)
	}
	c, err := svc.Get(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if !c.PreviousSecretExpiresAt.Equal(rotatedAt.Add(DefaultSecretGrace)) {
		t.Errorf("PreviousSecretExpiresAt = %v", c.PreviousSecretExpiresAt)
	}
	if !c.UpdatedAt.Equal(rotatedAt) || !c.CreatedAt.Equal(t0) {
		t.Errorf("timestamps created %v updated %v", c.CreatedAt, c.UpdatedAt)
	}

	within := rotatedAt.Add(DefaultSecretGrace - time.Second)
	if !svc.VerifySecret(c, newSecret, within) {
		t.Error("new secret rejected")
	}
	if !svc.VerifySecret(c, oldSecret, within) {
		t.Error("old secret rejected within grace")
	}
	after := rotatedAt.Add(DefaultSecretGrace)
	if svc.VerifySecret(c, oldSecret, after) {
		t.Error("old secret accepted at the end of grace")
	}
	if !svc.VerifySecret(c, newSecret, after.Add(365*24*time.Hour)) {
		t.Error("new secret expired")
	}
	if svc.VerifySecret(c, "wrong", within) {
		t.Error("wrong secret accepted")
	}

	// A second rotation drops the first secret even within its grace.
	clk.Advance(time.Minute)
	third, err := svc.RotateSecret(ctx, "shop", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, _ = svc.Get(ctx, "shop")
	now := clk.Now()
	if svc.VerifySecret(c, oldSecret, now) {
		t.Error("first secret survived two rotations")
	}
	if !svc.VerifySecret(c, newSecret, now) || !svc.VerifySecret(c, third, now) {
		t.Error("current or previous secret rejected")
	}
}

func TestRotateSecretNoGrace(t *testing.T) {
	ctx := context.Background()
	svc, _, clk := newService(t)
	_, oldSecret, err := svc.Create(ctx, confidential())
	if err != nil {
		t.Fatal(err)
	}
	// A previous secret still in grace must be cleared too.
	if _, err := svc.RotateSecret(ctx, "shop", time.Hour); err != nil {
		t.Fatal(err)
	}
	newSecret, err := svc.RotateSecret(ctx, "shop", 0)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := svc.Get(ctx, "shop")
	if c.PreviousSecretHash != nil || !c.PreviousSecretExpiresAt.IsZero() {
		t.Errorf("previous secret kept: %x until %v", c.PreviousSecretHash, c.PreviousSecretExpiresAt)
	}
	if svc.VerifySecret(c, oldSecret, clk.Now()) {
		t.Error("old secret accepted after rotation without grace")
	}
	if !svc.VerifySecret(c, newSecret, clk.Now()) {
		t.Error("new secret rejected")
	}
}

func TestRotateSecretErrors(t *testing.T) {
	ctx := context.Background()
	svc, _, _ := newService(t)
	if _, _, err := svc.Create(ctx, public()); err != nil {
		t.Fatal(err)
	}
	r := confidential()
	r.ID = "bank"
	r.AuthMethod = AuthPrivateKeyJWT
	r.JWKS = jwks(t, jwk(t, "p256", false, "sig"))
	if _, _, err := svc.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Create(ctx, confidential()); err != nil {
		t.Fatal(err)
	}

	for _, id := range []string{"shop-app", "bank"} {
		secret, err := svc.RotateSecret(ctx, id, DefaultSecretGrace)
		if !errors.Is(err, ErrNoSecret) || secret != "" {
			t.Errorf("RotateSecret(%s) = %q, %v; want ErrNoSecret", id, secret, err)
		}
		c, _ := svc.Get(ctx, id)
		if c.SecretHash != nil {
			t.Errorf("%s got a secret hash", id)
		}
	}
	_, err := svc.RotateSecret(ctx, "bank", 0)
	if want := `client "bank" has no secret to rotate (auth method "private_key_jwt")`; err == nil || err.Error() != want {
		t.Errorf("message %v, want %q", err, want)
	}

	_, err = svc.RotateSecret(ctx, "ghost", 0)
	if !errors.Is(err, store.ErrNotFound) || err.Error() != `client "ghost" not found` {
		t.Errorf("RotateSecret(unknown) = %v", err)
	}
	if _, err := svc.RotateSecret(ctx, "shop", -time.Second); err == nil {
		t.Error("negative grace accepted")
	}
}

func TestVerifySecretEdgeCases(t *testing.T) {
	svc, _, _ := newService(t)
	h := svc.Secrets
	c := store.Client{ID: "x", TokenEndpointAuthMethod: AuthClientSecretBasic, SecretHash: h.HashSecret("cur")}
	// A previous hash without an expiry is already expired.
	c.PreviousSecretHash = h.HashSecret("prev")
	if svc.VerifySecret(c, "prev", t0) {
		t.Error("previous secret with zero expiry accepted")
	}
	// A client marked public never authenticates with a secret, whatever
	// hash its row holds.
	c.Public = true
	if svc.VerifySecret(c, "cur", t0) {
		t.Error("public client verified by secret")
	}
	c.Public = false
	c.TokenEndpointAuthMethod = AuthPrivateKeyJWT
	if svc.VerifySecret(c, "cur", t0) {
		t.Error("private_key_jwt client verified by secret")
	}
	if (&Service{}).VerifySecret(store.Client{TokenEndpointAuthMethod: AuthClientSecretBasic}, "", t0) {
		t.Error("service without hasher verified a secret")
	}
}

func TestServiceConcurrentRotate(t *testing.T) {
	ctx := context.Background()
	svc, _, _ := newService(t)
	if _, _, err := svc.Create(ctx, confidential()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	secrets := make([]string, 8)
	for i := range secrets {
		wg.Go(func() {
			s, err := svc.RotateSecret(ctx, "shop", time.Hour)
			if err != nil {
				t.Error(err)
			}
			secrets[i] = s
		})
	}
	wg.Wait()
	c, _ := svc.Get(ctx, "shop")
	valid := 0
	for _, s := range secrets {
		if svc.VerifySecret(c, s, t0) {
			valid++
		}
	}
	if valid != 2 {
		t.Errorf("%d of the rotated secrets verify, want exactly 2 (current and previous)", valid)
	}
}

// Times a Service records are in UTC whatever the clock's zone, as the
// stores give them back: otherwise `propusk clients create --json` printed
// created_at in the server's zone and `clients show` the same instant in
// UTC.
func TestTimestampsInUTC(t *testing.T) {
	ctx := context.Background()
	svc, _, _ := newService(t)
	svc.Clock = func() time.Time { return t0.In(time.FixedZone("MSK", 3*3600)) }
	c, _, err := svc.Create(ctx, confidential())
	if err != nil {
		t.Fatal(err)
	}
	if c.CreatedAt != t0 || c.UpdatedAt != t0 {
		t.Errorf("created %v, updated %v: want %v, in UTC", c.CreatedAt, c.UpdatedAt, t0)
	}
	if _, err := svc.RotateSecret(ctx, c.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	rotated, err := svc.Get(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(time.Hour); rotated.PreviousSecretExpiresAt != want {
		t.Errorf("previous secret expires %v, want %v, in UTC", rotated.PreviousSecretExpiresAt, want)
	}
}
