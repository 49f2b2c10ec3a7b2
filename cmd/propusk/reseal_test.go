package main

import (
	"strings"
	"testing"

	"github.com/propusk/propusk/mfa"
)

// TestSecretsKeyReseal: rotating the secrets key as the README says —
// NEW,OLD on every node, secrets-key reseal, then NEW alone — leaves every
// sealed value readable: signing keys, server secrets, authenticator
// secrets. Without the re-seal, NEW alone cannot sign anything.
func TestSecretsKeyReseal(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b *backendFixture) {
		oldKey, newKey := newSecretsKey(t), newSecretsKey(t)
		withKey := func(k string) *backendFixture {
			f := *b
			f.env = b.withEnv(map[string]string{"PROPUSK_SECRETS_KEY": k})
			f.cfg.SecretsKey = k
			return &f
		}
		old, both, fresh := withKey(oldKey), withKey(newKey+","+oldKey), withKey(newKey)

		// Data sealed with OLD: signing keys, the client-secret HMAC key, a
		// person's authenticator.
		for _, args := range [][]string{{"keys", "list"}, {"clients", "create", "--name", "Card", "--redirect-uri", "https://card.example.org/cb"}} {
			if stdout, stderr, code := old.run(t, "", args...); code != 0 {
				t.Fatalf("%v: %d %s %s", args, code, stdout, stderr)
			}
		}
		person := createUser(t, old, "rita")
		authenticator := func(f *backendFixture) (*mfa.Service, func()) {
			db, err := openDatabase(t.Context(), &f.cfg)
			if err != nil {
				t.Fatal(err)
			}
			ring, err := secretsRing(&f.cfg)
			if err != nil {
				t.Fatal(err)
			}
			key, err := serverSecret(t.Context(), db, ring, recoveryKeyName, timeNow())
			if err != nil {
				t.Fatal(err)
			}
			return &mfa.Service{Store: db, Ring: ring, RecoveryKey: key}, func() { db.Close() }
		}
		svc, done := authenticator(old)
		en, err := svc.Begin(t.Context(), person.ID, "rita", "phone", false, mfa.Meta{})
		done()
		if err != nil {
			t.Fatal(err)
		}

		// NEW alone before the re-seal: the signing keys do not open.
		if _, stderr, code := fresh.run(t, "", "keys", "list"); code == 0 || !strings.Contains(stderr, "not among") && !strings.Contains(stderr, "secrets key") {
			t.Fatalf("keys list with only the new key before re-sealing: exit %d, %s", code, stderr)
		}

		stdout, stderr, code := both.run(t, "", "secrets-key", "reseal")
		if code != 0 || !strings.HasPrefix(stdout, "re-sealed ") || !strings.Contains(stdout, "signing_keys") || !strings.Contains(stdout, "authenticators 1") || !strings.Contains(stdout, "server_secrets") {
			t.Fatalf("secrets-key reseal: exit %d\n%s%s", code, stdout, stderr)
		}
		if stdout, _, _ := both.run(t, "", "secrets-key", "reseal"); stdout != "re-sealed 0 values with the first secrets key\n" {
			t.Errorf("a second re-seal: %q", stdout)
		}

		// NEW alone now opens everything.
		for _, args := range [][]string{{"keys", "list"}, {"clients", "list"}, {"keys", "rotate"}} {
			if stdout, stderr, code := fresh.run(t, "", args...); code != 0 {
				t.Fatalf("%v with only the new key: %d %s %s", args, code, stdout, stderr)
			}
		}
		svc, done = authenticator(fresh)
		defer done()
		if _, err := svc.Reshow(t.Context(), person.ID, en.AuthenticatorID, "rita"); err != nil {
			t.Fatalf("the authenticator's secret with only the new key: %v", err)
		}
		// With only the new key, nothing is left to re-seal; a value sealed
		// with a key that is not configured is reported, and fails the run.
		if stdout, _, code := fresh.run(t, "", "secrets-key", "reseal"); code != 0 || stdout != "re-sealed 0 values with the first secrets key\n" {
			t.Errorf("re-seal with the new key only: %d %q", code, stdout)
		}
		if _, stderr, code := withKey(newSecretsKey(t)).run(t, "", "secrets-key", "reseal"); code == 0 || !strings.Contains(stderr, "sealed with a key that is not configured") {
			t.Errorf("re-seal with an unrelated key: exit %d, %s", code, stderr)
		}
	})
}
