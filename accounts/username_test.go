package accounts

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalizeUsername(t *testing.T) {
	ok := []struct{ in, want string }{
		{"ivan", "ivan"},
		{"  Ivan  ", "ivan"},
		{"ＩＶＡＮ", "ivan"}, // fullwidth
		{"Иван.Петров", "иван.петров"}, // Cyrillic
		{"ИВАН_1990", "иван_1990"},
		{"Straße", "strasse"}, // full case folding
		{"ΣΊΣΥΦΟΣ", "σίσυφοσ"},
		{"李小龍", "李小龍"},
		{"a-b", "a-b"},
		{"ｉｖａｎ＠Example.COM", "ivan@example.com"},
		{"Ivan.Petrov+tag@Mail.RU", "ivan.petrov+tag@mail.ru"},
		{"иван@почта.рф", "иван@почта.рф"},
		{"root@localhost", "root@localhost"},
		{"अमित", "अमित"}, // combining vowel signs after letters
		{strings.Repeat("я", 64), strings.Repeat("я", 64)},
	}
	for _, tc := range ok {
		got, err := NormalizeUsername(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormalizeUsername(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}

	bad := []struct{ in, msg string }{
		{"", "username is required"},
		{"   ", "username is required"},
		{"iv", "username must be 3 to 64 characters"},
		{strings.Repeat("я", 65), "username must be 3 to 64 characters"},
		{"ivan petrov", "username may contain only letters"},
		{"ivan!", "username may contain only letters"},
		{"\u0301abc", "username may contain only letters"}, // leading combining mark
		{"iv\x00an", "username must not contain control characters"},
		{"iv\u202ean", "username must not contain control characters"},
		{"iv\xffan", "username must be valid UTF-8 text"},
		{"@example.com", "username is not a valid e-mail address"},
		{"ivan@", "username is not a valid e-mail address"},
		{"a@b@c", "username is not a valid e-mail address"},
		{"ivan @example.com", "username is not a valid e-mail address"},
		{"Ivan <ivan@example.com>", "username is not a valid e-mail address"},
		{`"iv an"@example.com`, "username is not a valid e-mail address"},
		{"iv..an@example.com", "username is not a valid e-mail address"},
		{"ivan@example..com", "username is not a valid e-mail address"},
		{"ivan@-example.com", "username is not a valid e-mail address"},
		{"ivan@[127.0.0.1]", "username is not a valid e-mail address"},
		{strings.Repeat("a", 65) + "@example.com", "username is not a valid e-mail address"},
		{"a@" + strings.Repeat("b.", 130) + "ru", "username must be at most 254 characters"},
	}
	for _, tc := range bad {
		got, err := NormalizeUsername(tc.in)
		if err == nil {
			t.Errorf("NormalizeUsername(%q) = %q, want error", tc.in, got)
			continue
		}
		if !strings.HasPrefix(err.Error(), tc.msg) {
			t.Errorf("NormalizeUsername(%q) error %q, want prefix %q", tc.in, err, tc.msg)
		}
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "username" {
			t.Errorf("NormalizeUsername(%q) error %#v is not a username FieldError", tc.in, err)
		}
	}
}

func TestNormalizeUsernameEquivalence(t *testing.T) {
	groups := [][]string{
		{"Ivan", "ivan", "IVAN", "ＩＶＡＮ", "ｉｖａｎ", " ivan\t"},
		{"Пётр", "ПЁТР", "пётр", "пе\u0308тр"}, // precomposed and decomposed ё
		{"Ivan@Example.com", "ivan@example.COM", "ＩＶＡＮ＠ＥＸＡＭＰＬＥ．ＣＯＭ"},
	}
	for _, g := range groups {
		first, err := NormalizeUsername(g[0])
		if err != nil {
			t.Fatalf("NormalizeUsername(%q): %v", g[0], err)
		}
		for _, s := range g[1:] {
			if got, err := NormalizeUsername(s); err != nil || got != first {
				t.Errorf("NormalizeUsername(%q) = %q, %v; want %q like %q", s, got, err, first, g[0])
			}
		}
	}
}

func FuzzNormalizeUsername(f *testing.F) {
	for _, s := range []string{"ivan", "ＩＶＡＮ", "ivan@example.com", "Straße", "ﬀﬀﬀ", "\u0345\u0399", "ǅ", "ΐ", "a\u0301", "@", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := NormalizeUsername(s)
		if err != nil {
			return
		}
		if !utf8.ValidString(u) || u != strings.TrimSpace(u) || u == "" {
			t.Fatalf("NormalizeUsername(%q) = %q: not a clean string", s, u)
		}
		again, err := NormalizeUsername(u)
		if err != nil || again != u {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, u, again, err)
		}
	})
}

// x/text's Fold swaps the case of Cherokee; found by FuzzNormalizeUsername.
func TestNormalizeUsernameCherokee(t *testing.T) {
	a, err1 := NormalizeUsername("ꮀﬀ")
	b, err2 := NormalizeUsername("Ꮀff")
	if err1 != nil || err2 != nil || a != b {
		t.Errorf("Cherokee case variants: %q, %v and %q, %v; want equal", a, err1, b, err2)
	}
}
