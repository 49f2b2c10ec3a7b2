package seal

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func mustKey(t testing.TB) []byte {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustRing(t testing.TB, keys ...[]byte) *Ring {
	t.Helper()
	r, err := NewRing(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var testAD = AD{Table: "users", Column: "totp_secret", Row: "42"}

func TestRoundTrip(t *testing.T) {
	r := mustRing(t, mustKey(t))
	for _, tc := range []struct {
		name string
		pt   []byte
		ad   AD
	}{
		{"empty", nil, testAD},
		{"short", []byte("x"), testAD},
		{"binary", bytes.Repeat([]byte{0, 255}, 1000), testAD},
		{"zero AD", []byte("secret"), AD{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := r.Seal(tc.pt, tc.ad)
			if err != nil {
				t.Fatal(err)
			}
			if len(s) != minSealed+len(tc.pt) {
				t.Errorf("len = %d, want %d", len(s), minSealed+len(tc.pt))
			}
			got, err := r.Open(s, tc.ad)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.pt) {
				t.Errorf("got %q, want %q", got, tc.pt)
			}
			s2, _ := r.Seal(tc.pt, tc.ad)
			if bytes.Equal(s, s2) {
				t.Error("two seals of the same plaintext are identical; nonce not random")
			}
		})
	}
}

func TestWrongAD(t *testing.T) {
	r := mustRing(t, mustKey(t))
	base := AD{Table: "a", Column: "bc", Row: "1"}
	s, err := r.Seal([]byte("secret"), base)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		ad   AD
	}{
		{"table", AD{Table: "x", Column: "bc", Row: "1"}},
		{"column", AD{Table: "a", Column: "bx", Row: "1"}},
		{"row", AD{Table: "a", Column: "bc", Row: "2"}},
		{"shifted boundary table/column", AD{Table: "ab", Column: "c", Row: "1"}},
		{"shifted boundary column/row", AD{Table: "a", Column: "b", Row: "c1"}},
		{"empty", AD{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := r.Open(s, tc.ad); !errors.Is(err, ErrOpen) {
				t.Fatalf("err = %v, want ErrOpen", err)
			}
		})
	}
}

func TestTamperEveryByte(t *testing.T) {
	r := mustRing(t, mustKey(t))
	s, err := r.Seal([]byte("a secret of some length"), testAD)
	if err != nil {
		t.Fatal(err)
	}
	for i := range s {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			bad := bytes.Clone(s)
			bad[i] ^= 0x01
			_, err := r.Open(bad, testAD)
			var want error
			switch {
			case i == 0:
				want = ErrMalformed
			case i < 1+keyIDSize:
				want = ErrUnknownKey
			default:
				want = ErrOpen
			}
			if !errors.Is(err, want) {
				t.Fatalf("err = %v, want %v", err, want)
			}
		})
	}
	t.Run("truncated", func(t *testing.T) {
		for n := range len(s) {
			if _, err := r.Open(s[:n], testAD); err == nil {
				t.Fatalf("opened truncated value of %d bytes", n)
			}
		}
	})
	t.Run("extended", func(t *testing.T) {
		if _, err := r.Open(append(bytes.Clone(s), 0), testAD); !errors.Is(err, ErrOpen) {
			t.Fatalf("err = %v, want ErrOpen", err)
		}
	})
}

func TestRotation(t *testing.T) {
	oldKey, newKey := mustKey(t), mustKey(t)
	oldRing := mustRing(t, oldKey)
	rotated := mustRing(t, newKey, oldKey)

	oldSealed, err := oldRing.Seal([]byte("old"), testAD)
	if err != nil {
		t.Fatal(err)
	}
	newSealed, err := rotated.Seal([]byte("new"), testAD)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		sealed      []byte
		want        string
		withPrimary bool
	}{
		{"old ciphertext", oldSealed, "old", false},
		{"new ciphertext", newSealed, "new", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rotated.Open(tc.sealed, testAD)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if p := rotated.SealedWithPrimary(tc.sealed); p != tc.withPrimary {
				t.Errorf("SealedWithPrimary = %v, want %v", p, tc.withPrimary)
			}
		})
	}
	if rotated.PrimaryKeyID() != deriveKeyID(newKey).String() {
		t.Error("primary is not the first key")
	}
	if rotated.SealedWithPrimary(nil) || rotated.SealedWithPrimary([]byte{1, 2}) {
		t.Error("SealedWithPrimary true for garbage")
	}
}

func TestUnknownKey(t *testing.T) {
	a, b := mustRing(t, mustKey(t)), mustRing(t, mustKey(t))
	s, err := a.Seal([]byte("x"), testAD)
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Open(s, testAD)
	if !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("err = %v, want ErrUnknownKey", err)
	}
	id := a.PrimaryKeyID()
	if len(id) != 8 || !strings.Contains(err.Error(), "sealed with key "+id+", which is not among the configured secrets keys") {
		t.Errorf("message %q does not name key %s", err, id)
	}
}

func TestWrongKeySameID(t *testing.T) {
	// Same ID but different key material (forged header) must fail
	// authentication, not decrypt.
	a, b := mustRing(t, mustKey(t)), mustRing(t, mustKey(t))
	s, _ := a.Seal([]byte("x"), testAD)
	bs, _ := b.Seal([]byte("x"), testAD)
	copy(s[1:1+keyIDSize], bs[1:1+keyIDSize])
	if _, err := b.Open(s, testAD); !errors.Is(err, ErrOpen) {
		t.Fatalf("err = %v, want ErrOpen", err)
	}
}

func TestNewRingErrors(t *testing.T) {
	k := mustKey(t)
	for _, tc := range []struct {
		name string
		keys [][]byte
		want string
	}{
		{"none", nil, "no keys"},
		{"empty key", [][]byte{{}}, "key #1 is 0 bytes"},
		{"short", [][]byte{k[:31]}, "key #1 is 31 bytes"},
		{"long", [][]byte{k, append(bytes.Clone(k), 0)}, "key #2 is 33 bytes"},
		{"duplicate", [][]byte{k, mustKey(t), bytes.Clone(k)}, "key #3 duplicates key #1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewRing(tc.keys...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want containing %q", err, tc.want)
			}
		})
	}
}

func TestRingNeverPrintsKeys(t *testing.T) {
	k1, k2 := mustKey(t), mustKey(t)
	r := mustRing(t, k1, k2)
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("ring", "ring", r)
	out := buf.String() + fmt.Sprintf("%v %+v %#v %s", r, r, r, r)
	for _, k := range [][]byte{k1, k2} {
		for _, enc := range []string{EncodeKey(k), base64.RawURLEncoding.EncodeToString(k), fmt.Sprintf("%x", k), string(k)} {
			if strings.Contains(out, enc) {
				t.Fatalf("key material in output: %s", out)
			}
		}
	}
	if !strings.Contains(buf.String(), "ring.primary="+r.PrimaryKeyID()) {
		t.Errorf("log lacks primary key id: %s", buf.String())
	}
}

func TestParseKeys(t *testing.T) {
	k1, k2 := mustKey(t), mustKey(t)
	e1, e2 := EncodeKey(k1), EncodeKey(k2)
	ok := []struct {
		name string
		in   string
	}{
		{"comma", e1 + "," + e2},
		{"newlines and spaces", "\n  " + e1 + "\r\n\t" + e2 + "\n"},
		{"comma space", e1 + ", " + e2},
		{"url unpadded", base64.RawURLEncoding.EncodeToString(k1) + " " + base64.RawURLEncoding.EncodeToString(k2)},
		{"std unpadded", base64.RawStdEncoding.EncodeToString(k1) + " " + base64.URLEncoding.EncodeToString(k2)},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := ParseKeys(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != 2 || !bytes.Equal(keys[0], k1) || !bytes.Equal(keys[1], k2) {
				t.Fatalf("keys do not match")
			}
		})
	}
	short := base64.StdEncoding.EncodeToString(k1[:16])
	bad := []struct {
		name, in, want string
	}{
		{"empty", "", "no secrets keys"},
		{"only separators", " ,\n, ", "no secrets keys"},
		{"bad base64 second", e1 + ",not*base64!", "secrets key #2 of 2: not valid base64"},
		{"short first", short + " " + e2, "secrets key #1 of 2: decodes to 16 bytes, want 32"},
		{"mixed alphabets third", e1 + " " + e2 + " " + "+-" + e1[2:], "secrets key #3 of 3"},
		{"duplicate", e1 + "," + e2 + "," + e1, "secrets key #3 of 3 duplicates key #1"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseKeys(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want containing %q", err, tc.want)
			}
			for _, f := range strings.FieldsFunc(tc.in, func(r rune) bool { return r == ',' || r == ' ' }) {
				if len(f) > 8 && strings.Contains(err.Error(), f) {
					t.Fatalf("error leaks input: %v", err)
				}
			}
		})
	}
}

func TestEncodeKeyRoundTrip(t *testing.T) {
	k := mustKey(t)
	keys, err := ParseKeys(EncodeKey(k))
	if err != nil || len(keys) != 1 || !bytes.Equal(keys[0], k) {
		t.Fatalf("ParseKeys(EncodeKey(k)) = %v, %v", keys, err)
	}
}

func TestKeyFile(t *testing.T) {
	t.Run("create then reuse", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "sub", "dir", "secrets.key")
		keys, created, err := LoadOrCreateKeyFile(path)
		if err != nil || !created || len(keys) != 1 || len(keys[0]) != KeySize {
			t.Fatalf("first call: keys=%d created=%v err=%v", len(keys), created, err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("file mode %04o, want 0600", fi.Mode().Perm())
		}
		di, err := os.Stat(filepath.Dir(path))
		if err != nil {
			t.Fatal(err)
		}
		if di.Mode().Perm() != 0o700 {
			t.Errorf("dir mode %04o, want 0700", di.Mode().Perm())
		}
		again, created, err := LoadOrCreateKeyFile(path)
		if err != nil || created || len(again) != 1 || !bytes.Equal(again[0], keys[0]) {
			t.Fatalf("second call: created=%v err=%v, same=%v", created, err, len(again) == 1 && bytes.Equal(again[0], keys[0]))
		}
		entries, _ := os.ReadDir(filepath.Dir(path))
		if len(entries) != 1 {
			t.Errorf("leftover files: %v", entries)
		}
	})

	t.Run("multiple keys", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "k")
		k1, k2 := mustKey(t), mustKey(t)
		if err := os.WriteFile(path, []byte(EncodeKey(k1)+"\n"+EncodeKey(k2)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		keys, err := ReadKeyFile(path)
		if err != nil || len(keys) != 2 || !bytes.Equal(keys[1], k2) {
			t.Fatalf("keys=%d err=%v", len(keys), err)
		}
	})

	for _, mode := range []fs.FileMode{0o644, 0o640, 0o604, 0o660} {
		t.Run(fmt.Sprintf("refuse %04o", mode), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k")
			if err := os.WriteFile(path, []byte(EncodeKey(mustKey(t))), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			for name, read := range map[string]func() error{
				"ReadKeyFile":         func() error { _, err := ReadKeyFile(path); return err },
				"LoadOrCreateKeyFile": func() error { _, _, err := LoadOrCreateKeyFile(path); return err },
			} {
				err := read()
				if err == nil || !strings.Contains(err.Error(), "chmod 600") {
					t.Errorf("%s: err = %v, want chmod 600 advice", name, err)
				}
			}
		})
	}

	t.Run("bad content names position", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "k")
		if err := os.WriteFile(path, []byte(EncodeKey(mustKey(t))+"\ngarbage\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadOrCreateKeyFile(path)
		if err == nil || !strings.Contains(err.Error(), "secrets key #2 of 2") || !strings.Contains(err.Error(), path) {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("directory refused", func(t *testing.T) {
		if _, err := ReadKeyFile(t.TempDir()); err == nil {
			t.Fatal("read a directory as key file")
		}
	})
}

func TestLoadOrCreateKeyFileConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "secrets.key")
	const n = 16
	var (
		wg      sync.WaitGroup
		keys    [n][]byte
		created [n]bool
		errs    [n]error
		start   = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			ks, c, err := LoadOrCreateKeyFile(path)
			errs[i], created[i] = err, c
			if len(ks) == 1 {
				keys[i] = ks[0]
			}
		})
	}
	close(start)
	wg.Wait()
	creators := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("goroutine %d: %v", i, errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) || len(keys[i]) != KeySize {
			t.Fatalf("goroutine %d got a different key", i)
		}
		if created[i] {
			creators++
		}
	}
	if creators != 1 {
		t.Errorf("%d goroutines report created, want 1", creators)
	}
}
