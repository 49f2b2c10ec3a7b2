package main

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEAccountExamples runs the `users` commands of README.md's
// "Managing accounts and clients" block, in the order shown, on a fresh
// database: a newcomer pasting them expects each to succeed. The commands
// are read from the README itself, so the test follows it when it changes.
func TestREADMEAccountExamples(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "## Managing accounts and clients")
	if !ok {
		t.Fatal("README has no section \"Managing accounts and clients\"")
	}
	_, block, _ := strings.Cut(section, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	block = strings.ReplaceAll(block, "\\\n", " ")

	b := newSQLite(t)
	ran := 0
	for _, line := range strings.Split(block, "\n") {
		stdin := ""
		if strings.HasPrefix(line, `printf '%s' "$`) {
			stdin = "correct horse battery" // what $PASSWORD and $NEW_PASSWORD stand for
			if strings.Contains(line, "NEW_PASSWORD") {
				stdin = "a much better passphrase"
			}
		}
		_, cmd, ok := strings.Cut(line, "go run ./cmd/propusk ")
		if !ok || !strings.HasPrefix(cmd, "users ") {
			continue
		}
		args := shellFields(t, cmd)
		stdout, stderr, code := b.run(t, stdin, args...)
		if code != exitOK {
			t.Errorf("README step %q: exit %d, stderr %q, stdout %q", cmd, code, stderr, stdout)
		}
		ran++
	}
	if ran < 5 {
		t.Fatalf("only %d users commands found in the README's block", ran)
	}
}

// shellFields splits a command line as sh would for the README's simple
// lines: blanks separate, double quotes group, and # starts a comment.
func shellFields(t *testing.T, s string) []string {
	t.Helper()
	var fields []string
	var cur strings.Builder
	inQuote, have := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote, have = !inQuote, true
		case inQuote:
			cur.WriteRune(r)
		case r == '#' && !have:
			return fields
		case r == ' ' || r == '\t':
			if have {
				fields = append(fields, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if inQuote {
		t.Fatalf("unbalanced quote in %q", s)
	}
	if have {
		fields = append(fields, cur.String())
	}
	return fields
}
