package page

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"golang.org/x/text/language"
)

func TestChooseLanguage(t *testing.T) {
	tests := []struct {
		name      string
		uiLocales string
		cookie    string
		accept    string
		want      string
	}{
		{name: "nothing", want: "ru"},
		{name: "ui_locales en", uiLocales: "en", want: "en"},
		{name: "ui_locales first supported wins", uiLocales: "fr de en ru", want: "en"},
		{name: "ui_locales order", uiLocales: "ru en", want: "ru"},
		{name: "ui_locales en-GB", uiLocales: "en-GB", want: "en"},
		{name: "ui_locales beats cookie", uiLocales: "ru", cookie: "en", accept: "en", want: "ru"},
		{name: "ui_locales beats accept", uiLocales: "en", accept: "ru", want: "en"},
		{name: "ui_locales garbage falls through to cookie", uiLocales: "!!! x-", cookie: "en", want: "en"},
		{name: "ui_locales unsupported falls through", uiLocales: "fr", accept: "en", want: "en"},
		{name: "cookie beats accept", cookie: "en", accept: "ru", want: "en"},
		{name: "cookie ru beats accept en", cookie: "ru", accept: "en-US,en;q=0.9", want: "ru"},
		{name: "bad cookie ignored", cookie: "klingon!", accept: "en", want: "en"},
		{name: "unsupported cookie ignored", cookie: "de", accept: "en", want: "en"},
		{name: "accept en-GB", accept: "en-GB,en;q=0.8", want: "en"},
		{name: "accept quality order", accept: "ru;q=0.5, en;q=0.9", want: "en"},
		{name: "accept first supported", accept: "de-DE, fr;q=0.9, en;q=0.5, ru;q=0.1", want: "en"},
		{name: "accept unsupported only", accept: "fr-FR, de", want: "ru"},
		// CLDR: Russian serves readers of Kazakh well, better than English.
		{name: "accept kk then en is ru", accept: "kk, en;q=0.8", want: "ru"},
		{name: "ui_locales kk is ru", uiLocales: "kk en", cookie: "en", want: "ru"},
		{name: "accept uk is not ru", accept: "uk, en;q=0.5", want: "en"},
		{name: "accept ru-Latn is a weak guess", accept: "ru-Latn, en;q=0.5", want: "en"},
		{name: "accept malformed", accept: ";;;q=abc", want: "ru"},
		{name: "accept ru-RU", accept: "ru-RU", want: "ru"},
		{name: "accept wildcard", accept: "*", want: "ru"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/login", nil)
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: LanguageCookie, Value: tt.cookie})
			}
			if tt.accept != "" {
				r.Header.Set("Accept-Language", tt.accept)
			}
			if got := ChooseLanguage(r, tt.uiLocales); got.String() != tt.want {
				t.Errorf("ChooseLanguage = %v, want %v", got, tt.want)
			}
		})
	}
	if got := ChooseLanguage(nil, ""); got != language.Russian {
		t.Errorf("ChooseLanguage(nil) = %v", got)
	}
}

func TestLanguageSwitchSetsCookie(t *testing.T) {
	r := httptest.NewRequest("GET", "/lang?"+url.Values{"set": {"en"}, "return": {"/login?flow=abc"}}.Encode(), nil)
	w := httptest.NewRecorder()
	LanguageSwitch{}.ServeHTTP(w, r)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("status %d, want 303", w.Code)
	}
	if loc := w.Header().Get("Location"); loc != "/login?flow=abc" {
		t.Errorf("Location %q", loc)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies %v", cookies)
	}
	c := cookies[0]
	if c.Name != LanguageCookie || c.Value != "en" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode ||
		c.Path != "/" || c.MaxAge != int((365*24*time.Hour)/time.Second) || c.Secure {
		t.Errorf("cookie %+v", c)
	}

	// The cookie is what ChooseLanguage then reads.
	next := httptest.NewRequest("GET", "/login?flow=abc", nil)
	next.AddCookie(c)
	if got := ChooseLanguage(next, ""); got != language.English {
		t.Errorf("after switch: %v", got)
	}
}

func TestLanguageSwitchSecure(t *testing.T) {
	for _, tt := range []struct {
		name   string
		secure bool
		tls    bool
	}{{"option", true, false}, {"tls", false, true}} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/lang?set=ru&return=/", nil)
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			w := httptest.NewRecorder()
			LanguageSwitch{Secure: tt.secure}.ServeHTTP(w, r)
			if cs := w.Result().Cookies(); len(cs) != 1 || !cs[0].Secure {
				t.Errorf("cookies %+v, want one Secure", cs)
			}
		})
	}
}

func TestLanguageSwitchCanonicalAndUnsupported(t *testing.T) {
	for set, want := range map[string]string{"en-GB": "en", "EN": "en", "ru-RU": "ru", "fr": "", "": "", "<script>": ""} {
		r := httptest.NewRequest("GET", "/lang?"+url.Values{"set": {set}, "return": {"/x"}}.Encode(), nil)
		w := httptest.NewRecorder()
		LanguageSwitch{}.ServeHTTP(w, r)
		cs := w.Result().Cookies()
		switch {
		case want == "" && len(cs) != 0:
			t.Errorf("set=%q: cookie %v, want none", set, cs)
		case want != "" && (len(cs) != 1 || cs[0].Value != want):
			t.Errorf("set=%q: cookies %v, want %s", set, cs, want)
		}
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/x" {
			t.Errorf("set=%q: %d %q", set, w.Code, w.Header().Get("Location"))
		}
	}
}

func TestLanguageSwitchMethod(t *testing.T) {
	w := httptest.NewRecorder()
	LanguageSwitch{}.ServeHTTP(w, httptest.NewRequest("POST", "/lang?set=en&return=/", nil))
	if w.Code != http.StatusMethodNotAllowed || len(w.Result().Cookies()) != 0 {
		t.Errorf("POST: %d %v", w.Code, w.Result().Cookies())
	}
}

func TestLanguageSwitchOpenRedirect(t *testing.T) {
	attacks := []string{
		"",
		"https://evil.example/",
		"http://evil.example",
		"//evil.example",
		"//evil.example/login",
		"///evil.example",
		"/\\evil.example",
		"\\\\evil.example",
		"\\/evil.example",
		"/\t/evil.example",
		"/\n/evil.example",
		"/\r\n//evil.example",
		"/ /evil.example",
		"javascript:alert(1)",
		"data:text/html,hi",
		"evil.example",
		"login",
		"./login",
		"../login",
		" /login",
		"%2F%2Fevil.example",
		"/%09/evil.example",
		"/foo\\bar",
		"https:/evil.example",
		"/\x00/evil.example",
		"/\x7f",
	}
	for _, ret := range attacks {
		r := httptest.NewRequest("GET", "/lang?"+url.Values{"set": {"en"}, "return": {ret}}.Encode(), nil)
		w := httptest.NewRecorder()
		LanguageSwitch{}.ServeHTTP(w, r)
		loc := w.Header().Get("Location")
		if w.Code != http.StatusSeeOther {
			t.Errorf("return=%q: status %d", ret, w.Code)
		}
		// "/ /evil.example" and "/%09/evil.example" are harmless local
		// paths; everything else must land on "/".
		if ret == "/ /evil.example" || ret == "/%09/evil.example" {
			if loc != ret {
				t.Errorf("return=%q: Location %q, want it kept", ret, loc)
			}
			continue
		}
		if loc != "/" {
			t.Errorf("return=%q: Location %q, want /", ret, loc)
		}
	}

	// Also a raw query the browser might send unencoded.
	for _, raw := range []string{"set=en&return=//evil.example", "set=en&return=/%5Cevil.example", "set=en&return=%2F%2Fevil.example", "set=en&return=/%0D%0A/evil"} {
		r := httptest.NewRequest("GET", "/lang?"+raw, nil)
		w := httptest.NewRecorder()
		LanguageSwitch{}.ServeHTTP(w, r)
		if loc := w.Header().Get("Location"); loc != "/" {
			t.Errorf("?%s: Location %q, want /", raw, loc)
		}
	}

	for _, ok := range []string{"/", "/login?flow=abc", "/consent?flow=x&y=%2F%2F", "/a/b//c"} {
		if !IsLocalPath(ok) {
			t.Errorf("IsLocalPath(%q) = false", ok)
		}
	}
}
