package accounts

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// cheap keeps tests fast; production uses DefaultPasswordHasher.
var cheap = PasswordHasher{Memory: 64, Time: 1, Threads: 1}

func TestHashVerifyRoundTrip(t *testing.T) {
	for _, pw := range []string{"correct horse battery", "пароль-длинный", "", strings.Repeat("x", 1000)} {
		enc, err := cheap.Hash(pw)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
			t.Fatalf("Hash = %q, want argon2id PHC string", enc)
		}
		p, err := parsePHC(enc)
		if err != nil {
			t.Fatalf("parsePHC(%q): %v", enc, err)
		}
		if len(p.salt) != saltLen || len(p.key) != keyLen || p.String() != enc {
			t.Fatalf("parsed %q as %+v", enc, p)
		}
		ok, rehash, err := cheap.Verify(enc, pw)
		if !ok || rehash || err != nil {
			t.Errorf("Verify(right password) = %v, %v, %v; want true, false, nil", ok, rehash, err)
		}
		ok, rehash, err = cheap.Verify(enc, pw+"x")
		if ok || rehash || err != nil {
			t.Errorf("Verify(wrong password) = %v, %v, %v; want false, false, nil", ok, rehash, err)
		}
	}
}

func TestHashSalted(t *testing.T) {
	a, _ := cheap.Hash("same password")
	b, _ := cheap.Hash("same password")
	if a == b {
		t.Error("two hashes of one password are equal: salt not random")
	}
}

func TestDefaultPasswordHasher(t *testing.T) {
	if h := DefaultPasswordHasher; h.Memory < 19456 || h.Time < 2 || h.Threads < 1 {
		t.Fatalf("DefaultPasswordHasher %+v is below OWASP's m=19456,t=2,p=1", h)
	}
	// The zero hasher is the default one.
	enc, err := PasswordHasher{}.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$", DefaultPasswordHasher.Memory, DefaultPasswordHasher.Time, DefaultPasswordHasher.Threads)
	if !strings.HasPrefix(enc, want) {
		t.Fatalf("Hash = %q, want prefix %q", enc, want)
	}
	if ok, rehash, err := DefaultPasswordHasher.Verify(enc, "correct horse battery"); !ok || rehash || err != nil {
		t.Errorf("Verify = %v, %v, %v", ok, rehash, err)
	}
	// A hash made cheaply must be upgraded by the default hasher.
	old, _ := cheap.Hash("correct horse battery")
	if ok, rehash, err := DefaultPasswordHasher.Verify(old, "correct horse battery"); !ok || !rehash || err != nil {
		t.Errorf("Verify(cheap hash) = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
}

func TestVerifyTampered(t *testing.T) {
	enc, _ := cheap.Hash("correct horse battery")
	parts := strings.Split(enc, "$")
	flip := func(s string) string {
		b := []byte(s)
		if b[3] == 'A' {
			b[3] = 'B'
		} else {
			b[3] = 'A'
		}
		return string(b)
	}
	for name, bad := range map[string]string{
		"hash changed": strings.Join(append(parts[:5:5], flip(parts[5])), "$"),
		"salt changed": strings.Join(append(parts[:4:4], flip(parts[4]), parts[5]), "$"),
		"t raised":     strings.Replace(enc, "t=1", "t=2", 1),
		"m raised":     strings.Replace(enc, "m=64", "m=128", 1),
	} {
		ok, _, err := cheap.Verify(bad, "correct horse battery")
		if ok || err != nil {
			t.Errorf("%s: Verify = %v, %v; want false, nil", name, ok, err)
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	good, _ := cheap.Hash("correct horse battery")
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	for _, bad := range []string{
		"",
		"plaintext",
		"$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=256$" + salt + "$" + key,
		"$argon2id$v=19$m=4,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "=$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$",
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$",
		"$argon2id$v=19$m=64,t=1,p=1$$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:10],
		"x$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt[:4] + "\n" + salt[4:] + "$" + key,
		"$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key,
		// A planted hash may not make a login take gigabytes or minutes.
		"$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=262145,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=17,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=1024,t=1,p=17$" + salt + "$" + key,
	} {
		ok, rehash, err := cheap.Verify(bad, "correct horse battery")
		if ok || rehash || !errors.Is(err, errMalformedHash) {
			t.Errorf("Verify(%q) = %v, %v, %v; want malformed-hash error", bad, ok, rehash, err)
		}
	}
}

func TestNeedsRehash(t *testing.T) {
	enc, _ := cheap.Hash("correct horse battery")
	for _, h := range []PasswordHasher{
		{Memory: 128, Time: 1, Threads: 1},
		{Memory: 64, Time: 2, Threads: 1},
		{Memory: 64, Time: 1, Threads: 2},
	} {
		if ok, rehash, err := h.Verify(enc, "correct horse battery"); !ok || !rehash || err != nil {
			t.Errorf("%+v.Verify = %v, %v, %v; want true, true, nil", h, ok, rehash, err)
		}
		if _, rehash, _ := h.Verify(enc, "wrong"); rehash {
			t.Errorf("%+v.Verify(wrong password) asks for a rehash", h)
		}
	}
	// Parameters above the hasher's are fine.
	strong, _ := PasswordHasher{Memory: 128, Time: 2, Threads: 2}.Hash("correct horse battery")
	if ok, rehash, err := cheap.Verify(strong, "correct horse battery"); !ok || rehash || err != nil {
		t.Errorf("Verify(stronger hash) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	// A short salt or key is upgraded too.
	salt := []byte("8 bytes!")
	short := phc{params: cheap, salt: salt, key: argon2.IDKey([]byte("correct horse battery"), salt, 1, 64, 1, 16)}
	if ok, rehash, err := cheap.Verify(short.String(), "correct horse battery"); !ok || !rehash || err != nil {
		t.Errorf("Verify(short salt and key) = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
}

func TestInvalidHasher(t *testing.T) {
	for _, h := range []PasswordHasher{
		{Memory: 64, Time: 0, Threads: 1},
		{Memory: 64, Time: 1, Threads: 0},
		{Memory: 7, Time: 1, Threads: 1},
		{Memory: 8 << 20, Time: 1, Threads: 1},
	} {
		if _, err := h.Hash("x"); err == nil {
			t.Errorf("%+v.Hash succeeded", h)
		}
		if _, _, err := h.Verify("x", "x"); err == nil {
			t.Errorf("%+v.Verify succeeded", h)
		}
		h.DummyVerify("x") // must not panic
	}
}

func TestDummyHash(t *testing.T) {
	enc := cheap.dummyHash()
	p, err := parsePHC(enc)
	if err != nil {
		t.Fatal(err)
	}
	if p.params != cheap || len(p.salt) != saltLen || len(p.key) != keyLen {
		t.Errorf("dummy hash %q does not have the hasher's shape", enc)
	}
	if cheap.dummyHash() != enc {
		t.Error("dummy hash not cached")
	}
	cheap.DummyVerify("anything")
}

func FuzzVerify(f *testing.F) {
	good, _ := cheap.Hash("pw")
	f.Add(good, "pw")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "pw")
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$$", "")
	f.Add("$$$$$", "x")
	f.Fuzz(func(t *testing.T, encoded, password string) {
		p, err := parsePHC(encoded)
		if err != nil {
			if !errors.Is(err, errMalformedHash) {
				t.Fatalf("parse error %v does not wrap errMalformedHash", err)
			}
			return
		}
		if p.String() != encoded {
			t.Fatalf("parsePHC(%q) re-encodes as %q", encoded, p.String())
		}
		// Keep the key derivation itself cheap.
		if p.params.Memory > 1024 || p.params.Time > 4 {
			return
		}
		if _, _, err := cheap.Verify(encoded, password); err != nil {
			t.Fatalf("Verify(%q) after successful parse: %v", encoded, err)
		}
	})
}

// Password hashing waits for a slot: with every slot taken, a Verify (a
// sign-in) does not run until one frees. The check cannot pass wrongly: a
// Verify that ran would have had to take a slot that was not there.
func TestPasswordHashingIsBounded(t *testing.T) {
	encoded, err := cheap.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	for range cap(hashSlots) {
		hashSlots <- struct{}{}
	}
	done := make(chan bool)
	go func() {
		ok, _, _ := cheap.Verify(encoded, "correct horse battery")
		done <- ok
	}()
	select {
	case <-done:
		t.Fatal("a password was hashed while every slot was taken")
	case <-time.After(50 * time.Millisecond):
	}
	<-hashSlots // one slot frees
	if !<-done {
		t.Fatal("the waiting Verify did not match")
	}
	for range cap(hashSlots) - 1 {
		<-hashSlots
	}
}
