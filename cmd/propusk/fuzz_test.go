package main

import (
	"strings"
	"testing"

	"github.com/propusk/propusk/internal/seal"
)

// secretMarker stands for a database password in FuzzConfigBackend: it
// never occurs in Propusk's own messages, so seeing it in one is a leak.
const secretMarker = "SECRETxyz"

// FuzzConfigBackend checks that resolving --database / PROPUSK_DATABASE
// never panics, that what it accepts is usable, and that no error message
// (of backend() or of Validate, which prints them) repeats the password of
// a PostgreSQL URL. The input is scheme + "://" + user + ":" + marker +
// pass + "@" + rest, so the marker sits where a password does, however the
// rest is mangled (unescaped "/", "#", "?" or "@" in passwords are common).
func FuzzConfigBackend(f *testing.F) {
	for _, s := range [][4]string{
		{"postgres", "u", "", "h/db"},
		{"postgresql", "u", "", "h:5432/db?sslmode=disable"},
		{"postgres", "u", "p/ss#w?rd", "h/db"},
		{"postgres", "", "", ""},
		{"postgres", "u", "%zz", "h/db"},
		{"postgres", "u", "", "[::1/db"},
		{"postgres", "u", "", "h:port/db"},
		{"POSTGRES", "u", "", "h/db"},
		{" postgres", "u", "", "h/db"},
		{"postgres+ssl", "u", "", "h/db"},
		{"postgres:/", "u", "", "h/db"},
		{"mysql", "u", "", "h/db"},
		{"", "u", "", "h/db"},
		{"sqlite", "u", "", "h/db?busy_timeout=5s"},
		{"sqlite", "", "", "/var/lib/propusk.db?busy_timeout=-1s"},
		{"sqlite", "", "", "/x.db?busy_timeout=%zz&mode=ro"},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	key, err := seal.GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	secretsKey := seal.EncodeKey(key)
	f.Fuzz(func(t *testing.T, scheme, user, pass, rest string) {
		d := scheme + "://" + user + ":" + secretMarker + pass + "@" + rest
		c := &Config{Database: d, DataDir: "data", SecretsKey: secretsKey, LogLevel: "info", LogFormat: "text"}
		b, err := c.backend()
		verr := c.Validate(false, true)
		if err == nil {
			switch b.kind {
			case "sqlite":
				if b.path == "" || b.busyTimeout < 0 {
					t.Fatalf("backend(%q) = %+v", d, b)
				}
			case "postgres":
				if b.dsn != d {
					t.Fatalf("backend(%q) changed the DSN to %q", d, b.dsn)
				}
			default:
				t.Fatalf("backend(%q) = kind %q", d, b.kind)
			}
			if verr != nil {
				t.Fatalf("backend(%q) accepted it but Validate says %v", d, verr)
			}
		} else if verr == nil {
			t.Fatalf("backend(%q) failed (%v) but Validate accepted it", d, err)
		}
		// A sqlite URL has no password; anything else may carry one.
		if strings.HasPrefix(d, "sqlite://") || strings.Contains(scheme, secretMarker) {
			return
		}
		for _, e := range []error{err, verr} {
			if e != nil && strings.Contains(e.Error(), secretMarker) {
				t.Fatalf("error for %q repeats the password: %v", d, e)
			}
		}
	})
}
