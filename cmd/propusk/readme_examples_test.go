package main

import (
	"strings"
	"testing"
)

// TestREADMEAccountExamplesInOrder runs README.md's "Managing accounts and
// clients" account commands in the order shown, on a fresh database: a
// newcomer pasting them expects each to succeed. The create line gives no
// --email, so "users update anna@example.org --email-verified" right after
// it fails with exit 2 ("has no e-mail address").
func TestREADMEAccountExamplesInOrder(t *testing.T) {
	b := newSQLite(t)
	steps := []struct {
		stdin string
		args  string
	}{
		{"correct horse battery", "users create --username anna@example.org --kind compatriot " +
			"--given-name Анна --family-name Иванова --given-name-latin Anna --family-name-latin Ivanova " +
			"--citizenship KZ --residence KZ --locale ru --password-stdin"},
		{"", "users list"},
		{"", "users show anna@example.org --json"},
		{"", "users update anna@example.org --email-verified"},
		{"", "users update anna@example.org --email anna@example.net --email-verified"},
	}
	for _, s := range steps {
		stdout, stderr, code := b.run(t, s.stdin, strings.Fields(s.args)...)
		if code != exitOK {
			t.Errorf("README step %q: exit %d, stderr %q, stdout %q", s.args, code, stderr, stdout)
		}
	}
}
