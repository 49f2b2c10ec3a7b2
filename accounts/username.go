package accounts

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Username length limits, in characters (runes) of the normalised form.
const (
	MinUsernameLength = 3
	MaxUsernameLength = 64
	// MaxEmailLength is the longest e-mail address (RFC 5321 path limit).
	MaxEmailLength = 254
)

// FieldError is one problem with one input field, in English, ready to show
// next to the field. Field names the field in snake_case ("username",
// "email", "given_name_latin", …).
type FieldError struct {
	Field   string
	Message string

	err error // cause, if any (store.ErrAlreadyExists for a taken username)
}

func (e *FieldError) Error() string { return e.Message }

// Unwrap returns the cause, so errors.Is(err, store.ErrAlreadyExists) holds
// for a taken username.
func (e *FieldError) Unwrap() error { return e.err }

func fieldError(field, msg string) *FieldError { return &FieldError{Field: field, Message: msg} }

// fold is the case folding used for usernames. cases.Caser is not safe for
// concurrent use, so each call makes its own.
//
// golang.org/x/text's Fold swaps the case of Cherokee letters (Ꮀ → ꮀ and
// ꮀ → Ꮀ) instead of folding both to upper case as Unicode's CaseFolding.txt
// does, which would make normalisation unstable; the second step fixes that.
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cherokee, r) {
			return unicode.ToUpper(r)
		}
		return r
	}, cases.Fold().String(s))
}

// canonical maps s to its compatibility-caseless form: NFKC, case fold, NFKC
// again (case folding can produce text that is not in NFKC; the second pass
// makes the result a fixed point, so normalising twice changes nothing).
func canonical(s string) string {
	return norm.NFKC.String(fold(norm.NFKC.String(s)))
}

// NormalizeUsername returns the form of a username that is stored and
// compared. Usernames differing only in case or width ("Ivan", "ＩＶＡＮ")
// normalise equal, so one person — or an impostor — cannot register a second
// account that looks the same.
//
// A username is either an e-mail address (it contains '@') or a login name
// of 3 to 64 letters of any script, digits, '.', '_' and '-'. Errors are
// *FieldError for the field "username".
func NormalizeUsername(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fieldError("username", "username must be valid UTF-8 text")
	}
	u := canonical(strings.TrimSpace(s))
	// Normalisation can expose leading or trailing space (such as an
	// ideographic space), so trim again.
	u = strings.TrimSpace(u)
	if u == "" {
		return "", fieldError("username", "username is required")
	}
	if hasControl(u) {
		return "", fieldError("username", "username must not contain control characters")
	}
	if strings.ContainsRune(u, '@') {
		if msg := checkEmail(u); msg != "" {
			return "", fieldError("username", "username "+msg)
		}
		return u, nil
	}
	if n := utf8.RuneCountInString(u); n < MinUsernameLength || n > MaxUsernameLength {
		return "", fieldError("username", "username must be 3 to 64 characters")
	}
	if !isLoginName(u) {
		return "", fieldError("username", "username may contain only letters, digits, '.', '_' and '-'")
	}
	return u, nil
}

// isLoginName reports whether s consists of letters, digits, '.', '_' and
// '-'. Combining marks are allowed right after a letter (or another mark):
// several scripts (Devanagari, Thai …) cannot spell a name without them even
// in NFKC.
func isLoginName(s string) bool {
	prevLetter := false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			prevLetter = true
		case unicode.In(r, unicode.Mn, unicode.Mc) && prevLetter:
		case unicode.IsDigit(r), r == '.', r == '_', r == '-':
			prevLetter = false
		default:
			return false
		}
	}
	return true
}

// hasControl reports control characters and bidirectional formatting
// characters; the latter can make a name display as something it is not.
func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return true
		}
	}
	return false
}

// checkEmail validates an e-mail address of exactly the form local@domain and
// returns a message fragment ("is not a valid e-mail address") or "". It is
// stricter than RFC 5322 on purpose: no display names, comments, quoted
// local parts or domain literals, which no person types as their address and
// which make one mailbox spellable several ways. The domain need not contain
// a dot; internationalised addresses are accepted.
func checkEmail(s string) string {
	const invalid = "is not a valid e-mail address"
	if utf8.RuneCountInString(s) > MaxEmailLength {
		return "must be at most 254 characters"
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.ContainsRune(domain, '@') {
		return invalid
	}
	if utf8.RuneCountInString(local) > 64 {
		return invalid
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return invalid
		}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return invalid
	}
	for label := range strings.SplitSeq(domain, ".") {
		if !isDomainLabel(label) {
			return invalid
		}
	}
	return ""
}

// isDomainLabel checks one label of a (possibly internationalised) domain
// name: 1 to 63 letters, digits, marks and inner hyphens.
func isDomainLabel(l string) bool {
	if l == "" || utf8.RuneCountInString(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for _, r := range l {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.In(r, unicode.Mn, unicode.Mc) && r != '-' {
			return false
		}
	}
	return true
}
