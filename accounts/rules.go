package accounts

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Password length limits, in characters (runes) as typed: no normalisation,
// so the count is what the person sees. The upper bound keeps hashing input
// bounded and is far above any passphrase.
const (
	MinPasswordLength = 10
	MaxPasswordLength = 128
)

// Stable codes of the password rules, for callers that translate messages
// or highlight a rule. Never change them.
const (
	PasswordInvalidUTF8    = "invalid_utf8"
	PasswordTooShort       = "too_short"
	PasswordTooLong        = "too_long"
	PasswordEqualsUsername = "equals_username"
)

// PasswordProblem is one broken password rule.
type PasswordProblem struct {
	Code    string // one of the Password* codes
	Message string // English, for the person choosing the password
}

// PasswordError lists every rule a password breaks, so the form can show all
// of them at once instead of one per attempt.
type PasswordError struct {
	Problems []PasswordProblem
}

// Error joins the messages with "; ".
func (e *PasswordError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Message
	}
	return strings.Join(msgs, "; ")
}

// Has reports whether the rule with the given code is broken.
func (e *PasswordError) Has(code string) bool {
	for _, p := range e.Problems {
		if p.Code == code {
			return true
		}
	}
	return false
}

// CheckPassword applies the password rules for the account named username
// (raw or normalised; empty skips the username rule). It returns nil or a
// *PasswordError holding every broken rule.
//
// The rules are deliberately few, following NIST SP 800-63B: length, not
// composition. The username rule catches the one guess every attacker tries
// first; for an e-mail username the local part counts too.
func CheckPassword(password, username string) error {
	var e PasswordError
	add := func(code, msg string) { e.Problems = append(e.Problems, PasswordProblem{code, msg}) }

	if !utf8.ValidString(password) {
		add(PasswordInvalidUTF8, "password must be valid UTF-8 text")
	}
	switch n := utf8.RuneCountInString(password); {
	case n < MinPasswordLength:
		add(PasswordTooShort, fmt.Sprintf("password must be at least %d characters", MinPasswordLength))
	case n > MaxPasswordLength:
		add(PasswordTooLong, fmt.Sprintf("password must be at most %d characters", MaxPasswordLength))
	}
	if u := canonical(strings.TrimSpace(username)); u != "" {
		p := canonical(password)
		local, _, isEmail := strings.Cut(u, "@")
		if p == u || (isEmail && local != "" && p == local) {
			add(PasswordEqualsUsername, "password must not be the same as the username")
		}
	}
	if len(e.Problems) == 0 {
		return nil
	}
	return &e
}
