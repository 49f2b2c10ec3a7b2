package accounts

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestCheckPassword(t *testing.T) {
	for _, tc := range []struct {
		password, username string
		codes              []string
	}{
		{"correct horse", "ivan", nil},
		{"ЁжикВТумане", "ivan", nil}, // 11 runes, 22 bytes
		{strings.Repeat("я", 128), "ivan", nil},
		{"1234567890", "", nil},
		{"short", "ivan", []string{PasswordTooShort}},
		{"девять!!!", "ivan", []string{PasswordTooShort}}, // 9 runes, 17 bytes
		{strings.Repeat("x", 129), "ivan", []string{PasswordTooLong}},
		{"ivan.petrov", "ivan.petrov", []string{PasswordEqualsUsername}},
		{"Ivan.Petrov", "ivan.petrov", []string{PasswordEqualsUsername}},
		{"ＩＶＡＮ.ＰＥＴＲＯＶ", "ivan.petrov", []string{PasswordEqualsUsername}},
		{"ivan.petrov", "Ivan.Petrov", []string{PasswordEqualsUsername}},
		{"ivan.petrov", "ivan.petrov@example.com", []string{PasswordEqualsUsername}},
		{"ivan.petrov@example.com", "Ivan.Petrov@Example.com", []string{PasswordEqualsUsername}},
		{"ivan", "ivan", []string{PasswordTooShort, PasswordEqualsUsername}},
		{"iv\xff", "ivan", []string{PasswordInvalidUTF8, PasswordTooShort}},
	} {
		err := CheckPassword(tc.password, tc.username)
		if tc.codes == nil {
			if err != nil {
				t.Errorf("CheckPassword(%q, %q) = %v, want nil", tc.password, tc.username, err)
			}
			continue
		}
		var pe *PasswordError
		if !errors.As(err, &pe) {
			t.Errorf("CheckPassword(%q, %q) = %v, want *PasswordError", tc.password, tc.username, err)
			continue
		}
		var codes []string
		for _, p := range pe.Problems {
			codes = append(codes, p.Code)
		}
		if !slices.Equal(codes, tc.codes) {
			t.Errorf("CheckPassword(%q, %q) codes %v, want %v", tc.password, tc.username, codes, tc.codes)
		}
		for _, c := range tc.codes {
			if !pe.Has(c) {
				t.Errorf("Has(%q) = false", c)
			}
		}
	}
}

func TestPasswordErrorMessage(t *testing.T) {
	err := CheckPassword("ivan", "ivan")
	want := "password must be at least 10 characters; password must not be the same as the username"
	if err == nil || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}
