package page

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/language"
)

// FuzzChooseLanguage checks that whatever a relying party puts in
// ui_locales and a browser in its cookie and Accept-Language header, the
// pages come out in a supported language.
func FuzzChooseLanguage(f *testing.F) {
	for _, s := range [][3]string{
		{"", "", ""},
		{"en", "ru", "en"},
		{"fr de  en ru", "", ""},
		{"!!! x- en-GB-u-ca-gregory", "klingon!", ";;;q=abc"},
		{"und zh-Hant-TW-x-private", "en\"; Path=/", "*"},
		{"kk", "", "kk, en;q=0.8"},
		{"", "de", "ru-Latn, en;q=0.5, *;q=0"},
		{"en-u-nu-arab-co-phonebk-va-posix", "en-US-x-" + strings.Repeat("a", 300), "en;q=1.5,ru;q=-1"},
		{"sr-Latn-RS-1994-nedis-u-attr", "x-\x00", strings.Repeat("en-", 1000)},
		{"\xff\xfe", "ru-RU-u-rg-uszzzz", "i-klingon, art-lojban, zh-min-nan"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	supported := SupportedLanguages()
	f.Fuzz(func(t *testing.T, uiLocales, cookie, accept string) {
		r := httptest.NewRequest("GET", "/login", nil)
		r.Header.Set("Cookie", LanguageCookie+"="+cookie)
		r.Header.Set("Accept-Language", accept)
		for _, req := range []*http.Request{r, nil} {
			if got := ChooseLanguage(req, uiLocales); !slices.Contains(supported, got) {
				t.Fatalf("ChooseLanguage(ui_locales=%q, cookie=%q, accept=%q) = %v, not one of %v", uiLocales, cookie, accept, got, supported)
			}
		}
	})
}

// openRedirect reports why a browser would leave the site following
// Location: target from a page on https://id.example.org, or "" when it
// would not. It checks both Go's resolution and a WHATWG URL parser's
// reading (which strips surrounding C0 controls and spaces, drops tabs
// and newlines, and treats "\" as "/" in http(s) URLs).
func openRedirect(target string) string {
	base, _ := url.Parse("https://id.example.org/lang?set=en")
	ref, err := url.Parse(target)
	if err != nil {
		return "url.Parse: " + err.Error()
	}
	if u := base.ResolveReference(ref); u.Scheme != "https" || u.Host != "id.example.org" || u.User != nil {
		return "resolves to " + u.String()
	}
	s := strings.TrimFunc(target, func(r rune) bool { return r <= 0x20 })
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return -1
		case '\\':
			return '/'
		}
		return r
	}, s)
	if strings.HasPrefix(s, "//") {
		return "a browser reads a host in " + s
	}
	if i := strings.IndexAny(s, ":/?#"); i > 0 && s[i] == ':' {
		return "a browser reads a scheme in " + s
	}
	return ""
}

// FuzzIsLocalPath checks that every value IsLocalPath lets through stays on
// the site.
func FuzzIsLocalPath(f *testing.F) {
	for _, s := range []string{
		"/", "/login?flow=abc", "/consent?flow=x&y=%2F%2F", "/a/b//c", "//evil.example", "/\\evil.example",
		"/%2F/evil.example", "/%5C/evil.example", "/%2f%2fevil.example", "/\t/evil.example", "/\r\n/evil.example",
		"/\x00/evil.example", "/\x7f", "/ /evil.example", "/..//evil.example", "/./../..//evil.example",
		"/\u3000/evil.example", "/\uff0f/evil.example", "/\u2215evil.example", "/@evil.example", "/:evil.example",
		"/https://evil.example", "/?//evil.example", "/#//evil.example", "/%", "/\xff", "https:/evil.example",
		" /login", "/" + strings.Repeat("a", maxLocalPath),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !IsLocalPath(s) {
			return
		}
		if why := openRedirect(s); why != "" {
			t.Fatalf("IsLocalPath(%q) = true, but %s", s, why)
		}
	})
}

// FuzzLanguageSwitch checks that GET /lang always redirects to a local path
// and only ever sets a supported language, whatever the query string.
func FuzzLanguageSwitch(f *testing.F) {
	for _, s := range [][3]string{
		{"set=en&return=/login?flow=abc", "en", "/login?flow=abc"},
		{"set=en&return=//evil.example", "ru", "//evil.example"},
		{"return=/%5Cevil.example", "", "/\\evil.example"},
		{"return=%2F%2Fevil.example&return=/", "xx", "%2F%2Fevil.example"},
		{"return=/%0D%0A/evil&set=en", "en-GB", "/\r\n/evil"},
		{"return=/%09/evil.example", "de", "/\t/evil.example"},
		{"set=en;return=//evil.example", "en\x00", "https:/evil.example"},
		{"return=%", "\xff", "/..//evil.example"},
		{"return=/%E3%80%80/evil", "und", "\\\\evil.example"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	supported := SupportedLanguages()
	f.Fuzz(func(t *testing.T, rawQuery, set, ret string) {
		check := func(r *http.Request) {
			w := httptest.NewRecorder()
			LanguageSwitch{}.ServeHTTP(w, r)
			if w.Code != http.StatusSeeOther {
				t.Fatalf("?%s: status %d", r.URL.RawQuery, w.Code)
			}
			loc := w.Header().Get("Location")
			if loc != "/" && !IsLocalPath(loc) {
				t.Fatalf("?%s: Location %q is not a local path", r.URL.RawQuery, loc)
			}
			if why := openRedirect(loc); why != "" {
				t.Fatalf("?%s: Location %q: %s", r.URL.RawQuery, loc, why)
			}
			for _, c := range w.Result().Cookies() {
				tag, err := language.Parse(c.Value)
				if c.Name != LanguageCookie || err != nil || !slices.Contains(supported, tag) {
					t.Fatalf("?%s: cookie %s=%q", r.URL.RawQuery, c.Name, c.Value)
				}
			}
		}
		r := httptest.NewRequest("GET", "/lang", nil)
		r.URL.RawQuery = rawQuery
		check(r)
		r = httptest.NewRequest("GET", "/lang", nil)
		r.URL.RawQuery = url.Values{"set": {set}, "return": {ret}}.Encode()
		check(r)
	})
}
