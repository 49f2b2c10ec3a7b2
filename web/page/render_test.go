package page

import (
	"bytes"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/text/language"
)

var staticVersion = regexp.MustCompile(`\?v=[0-9a-f]+`)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var (
	russian = language.Russian
	english = language.English
)

func newRenderer(t *testing.T) *Renderer {
	t.Helper()
	rd, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	return rd
}

// sample is one page with one view, for the tests that render everything.
type sample struct {
	name string
	page string
	view any
}

func samples() []sample {
	allScopes := []ScopeView{{"openid"}, {"profile"}, {"email"}, {"phone"}, {"offline_access"}, {"identity"}}
	s := []sample{
		{"login", LoginPage, LoginView{FlowID: "flow123", CSRFToken: "tok456"}},
		{"login prefilled", LoginPage, LoginView{FlowID: "f", CSRFToken: "c", Username: "anna@example.org", ClientName: "Compatriot card"}},
		{"login error", LoginPage, LoginView{FlowID: "f", CSRFToken: "c", Username: "anna", ErrorKey: "login.error.invalid"}},
		{"login required", LoginPage, LoginView{FlowID: "f", CSRFToken: "c", ErrorKey: "login.error.required"}},
		{"login throttled", LoginPage, LoginView{FlowID: "f", CSRFToken: "c", Username: "anna", WaitSeconds: 42}},
		{"consent", ConsentPage, ConsentView{FlowID: "f", CSRFToken: "c", ClientName: "Compatriot card",
			Scopes: allScopes, AccountName: "anna@example.org", ShowRemember: true}},
		{"consent unknown scope", ConsentPage, ConsentView{FlowID: "f", CSRFToken: "c", ClientName: "Entry app",
			Scopes: []ScopeView{{"openid"}, {"payments:read"}}}},
		{"logout", LogoutPage, LogoutView{CSRFToken: "c", ClientName: "Compatriot card", State: "st",
			PostLogoutRedirectURI: "https://card.example.org/", ClientID: "card"}},
		{"logout bare", LogoutPage, LogoutView{CSRFToken: "c"}},
		{"logged out", LoggedOutPage, LoggedOutView{}},
		{"form post", FormPostPage, FormPostView{Action: "https://card.example.org/callback",
			Params: [][2]string{{"code", "abc"}, {"state", "xyz"}, {"iss", "https://id.example.org"}}}},
		{"second factor", SecondFactorPage, SecondFactorView{FlowID: "f", CSRFToken: "c"}},
		{"second factor step-up", SecondFactorPage, SecondFactorView{FlowID: "f", CSRFToken: "c", ClientName: "Compatriot card", StepUp: true}},
		{"second factor locked", SecondFactorPage, SecondFactorView{FlowID: "f", CSRFToken: "c", ErrorKey: "mfa.error.locked", WaitSeconds: 60}},
		{"recovery", RecoveryPage, RecoveryView{FlowID: "f", CSRFToken: "c", ClientName: "Compatriot card"}},
		{"recovery wrong", RecoveryPage, RecoveryView{FlowID: "f", CSRFToken: "c", ErrorKey: "mfa.error.recovery_wrong"}},
		{"enrol", EnrolPage, sampleEnrolView()},
		{"enrol required, outside a flow", EnrolPage, EnrolView{Action: "/account/authenticators", CSRFToken: "c", EnrolmentID: "e",
			QRCodeDataURI: sampleQR, Key: "ABCD EFGH", OTPAuthURL: sampleOTPAuth, Username: "anna", Required: true, ErrorKey: "mfa.error.wrong"}},
		{"recovery codes", RecoveryCodesPage, RecoveryCodesView{Codes: []string{"ABCD-EFGH-JKMN", "PQRS-TVWX-YZ01"}, Next: "/login/continue?flow=f"}},
		{"recovery code used", RecoveryCodesPage, RecoveryCodesView{UsedOne: true, Remaining: 7, Next: "/"}},
		{"recovery code used, few left", RecoveryCodesPage, RecoveryCodesView{UsedOne: true, Remaining: 1, Next: "/"}},
		{"recovery code used, none left", RecoveryCodesPage, RecoveryCodesView{UsedOne: true, Remaining: 0, Next: "/"}},
		{"account without an authenticator", AccountPage, AccountView{CSRFToken: "c", Username: "anna", FreshSignIn: true,
			NoticeKey: "account.notice.password_changed"}},
		{"account", AccountPage, AccountView{CSRFToken: "c", Username: "anna@example.org", Name: "Анна Иванова",
			Authenticators: []AuthenticatorView{{ID: "a1", Name: "телефон", Added: "2025-01-02", LastUsed: "2025-03-04"},
				{ID: "a2", Added: "2025-02-03"}},
			RecoveryCodesLeft: 1, ErrorKey: "account.error.password_wrong",
			PasswordProblems: []string{"password.too_short", "password.too_long", "password.equals_username", "password.invalid_utf8"}}},
		{"account, codes used up", AccountPage, AccountView{CSRFToken: "c", Username: "anna", FreshSignIn: true,
			Authenticators: []AuthenticatorView{{ID: "a1", Name: "phone", Added: "2025-01-02"}}, ErrorKey: "account.error.name"}},
	}
	s = append(s,
		sample{"other browser, local flow", OtherBrowserPage, OtherBrowserView{RestartURL: "/account"}},
		sample{"other browser, relying party", OtherBrowserPage, OtherBrowserView{ClientName: "Compatriot card", ServiceURL: "https://card.example.org/"}},
		sample{"other browser, unnamed", OtherBrowserPage, OtherBrowserView{ServiceURL: "https://card.example.org/"}},
		sample{"other browser, app", OtherBrowserPage, OtherBrowserView{}},
		sample{"login stale", LoginPage, LoginView{FlowID: "f", CSRFToken: "c", Username: "anna", ErrorKey: "login.error.stale"}},
		sample{"second factor stale", SecondFactorPage, SecondFactorView{FlowID: "f", CSRFToken: "c", ErrorKey: "mfa.error.stale"}},
		sample{"account with services, after withdrawing one", AccountPage, AccountView{CSRFToken: "c", Username: "anna",
			Services:  []ServiceView{{ClientID: "card", Name: "Compatriot card", Since: "2025-04-05", Scopes: allScopes}},
			NoticeKey: "account.notice.withdrawn", NoticeArg: "Consulate"}},
		sample{"account stale", AccountPage, AccountView{CSRFToken: "c", Username: "anna", ErrorKey: "account.error.stale", AuthenticatorName: "телефон"}},
	)
	for _, key := range []string{"mfa.error.malformed", "mfa.error.wrong", "mfa.error.replayed", "mfa.error.locked_hard"} {
		s = append(s, sample{"second factor " + key, SecondFactorPage, SecondFactorView{FlowID: "f", CSRFToken: "c", ErrorKey: key}})
	}
	for _, pe := range []*PageError{BadRequest(nil), NotFound(nil), FlowExpired(nil), CSRF(nil), Internal(nil), Unavailable(nil)} {
		s = append(s, sample{"error " + pe.TitleKey, ErrorPage,
			ErrorView{TitleKey: pe.TitleKey, MessageKey: pe.MessageKey, RefID: "0123abcd", Status: pe.Status}})
	}
	return s
}

// keyPrefixes are the first parts of the catalogue's keys ("login.", …):
// one of them followed by a letter in a page is a key shown raw.
func rawKeyPattern(t *testing.T) *regexp.Regexp {
	seen := map[string]bool{}
	var alts []string
	for k := range readCatalogues(t)[DefaultLanguage.String()] {
		p, _, _ := strings.Cut(k, ".")
		if !seen[p] {
			seen[p] = true
			alts = append(alts, regexp.QuoteMeta(p))
		}
	}
	return regexp.MustCompile(`\b(` + strings.Join(alts, "|") + `)\.[a-z_]`)
}

func render(t *testing.T, rd *Renderer, lang language.Tag, page string, view any, target string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", target, nil)
	if err := rd.Render(w, r, http.StatusOK, lang, page, view); err != nil {
		t.Fatalf("Render %s in %s: %v", page, lang, err)
	}
	return w
}

// Every page, in every language: no key missing, none shown raw, the right
// lang attribute, no script, no inline style or handler.
func TestRenderEveryPage(t *testing.T) {
	rd := newRenderer(t)
	raw := rawKeyPattern(t)
	forbidden := regexp.MustCompile(`(?i)<script|\sstyle=|<style|\son[a-z]+=|javascript:`)
	missingKeys()
	pagesSeen := map[string]bool{}
	for _, lang := range SupportedLanguages() {
		for _, s := range samples() {
			pagesSeen[s.page] = true
			t.Run(lang.String()+"/"+s.name, func(t *testing.T) {
				w := render(t, rd, lang, s.page, s.view, "/login?flow=abc")
				body := w.Body.String()
				if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
					t.Errorf("Content-Type %q", ct)
				}
				if want := `<html lang="` + lang.String() + `">`; !strings.Contains(body, want) {
					t.Errorf("no %s", want)
				}
				if m := raw.FindString(body); m != "" {
					t.Errorf("raw message key %q in page:\n%s", m, body)
				}
				if m := forbidden.FindString(body); m != "" {
					t.Errorf("%q in page", m)
				}
				if !strings.Contains(body, `<link rel="stylesheet" href="/static/style.css?v=`) {
					t.Error("no stylesheet link")
				}
				for _, other := range SupportedLanguages() {
					link := `href="/lang?set=` + other.String() + `&amp;return=%2Flogin%3Fflow%3Dabc"`
					if !strings.Contains(body, link) {
						t.Errorf("no language link %s", link)
					}
				}
				if got := missingKeys(); len(got) > 0 {
					t.Errorf("missing message keys: %v", got)
				}
			})
		}
	}
	files, _ := filepath.Glob("templates/*.html")
	if len(pagesSeen) != len(files)-1 {
		t.Errorf("samples cover %d pages, there are %d templates besides the layout", len(pagesSeen), len(files)-1)
	}
}

func TestLoginPage(t *testing.T) {
	rd := newRenderer(t)
	body := render(t, rd, russian, LoginPage, LoginView{FlowID: "fl<ow", CSRFToken: "to\"k", Username: "<b>anna</b>"}, "/login").Body.String()
	for _, want := range []string{
		`<form method="post" action="/login?flow=`,
		`<input type="hidden" name="flow" value="fl&lt;ow">`,
		`<input type="hidden" name="csrf" value="to&#34;k">`,
		`<label for="username">`,
		`id="username" name="username" type="text" value="&lt;b&gt;anna&lt;/b&gt;" autocomplete="username" autocapitalize="none"`,
		`spellcheck="false"`,
		`<label for="password">`,
		`id="password" name="password" type="password" autocomplete="current-password"`,
		`<button type="submit"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("login page lacks %s\n%s", want, body)
		}
	}
	if strings.Contains(strings.ToLower(body), "<script") {
		t.Error("login page has a script")
	}
	if strings.Contains(body, `role="alert"`) {
		t.Error("alert without an error")
	}

	body = render(t, rd, english, LoginPage, LoginView{ErrorKey: "login.error.invalid"}, "/login").Body.String()
	if !strings.Contains(body, `role="alert" id="login-error">Wrong username or password.</p>`) {
		t.Errorf("error not shown as alert:\n%s", body)
	}
	body = render(t, rd, english, LoginPage, LoginView{WaitSeconds: 17}, "/login").Body.String()
	if !strings.Contains(body, `role="alert"`) || !strings.Contains(body, "17 seconds") {
		t.Errorf("throttle not shown:\n%s", body)
	}
}

func TestConsentPage(t *testing.T) {
	rd := newRenderer(t)
	v := ConsentView{FlowID: "f", CSRFToken: "c", ClientName: "Card", ShowRemember: true,
		Scopes: []ScopeView{{"openid"}, {"identity"}}}
	body := render(t, rd, english, ConsentPage, v, "/consent?flow=f").Body.String()
	for _, want := range []string{
		`<form method="post" action="/consent?flow=`,
		`name="decision" value="allow"`, `name="decision" value="deny"`,
		`<input type="checkbox" id="remember" name="remember" value="1" checked>`, `<label for="remember">`,
		"Your account type, citizenships, country of residence and account level",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("consent page lacks %s", want)
		}
	}
	if strings.Contains(body, "already allowed") || !strings.Contains(body, "It will receive:") {
		t.Error("a first consent page speaks of an earlier one")
	}
	v.ShowRemember = false
	if body := render(t, rd, russian, ConsentPage, v, "/").Body.String(); strings.Contains(body, `name="remember"`) {
		t.Error("remember shown though ShowRemember is false")
	}
	// Asked for more than before: the new scopes, then what was allowed.
	v.Scopes, v.AllowedBefore = []ScopeView{{"email"}}, []ScopeView{{"openid"}, {"identity"}}
	body = render(t, rd, english, ConsentPage, v, "/").Body.String()
	newPart, beforePart, ok := strings.Cut(body, "The rest you already allowed it to receive:")
	if !ok || !strings.Contains(newPart, "It now also asks for:") || !strings.Contains(newPart, "Your email address") ||
		strings.Contains(newPart, "Your account type") || !strings.Contains(beforePart, "Your account type") ||
		!strings.Contains(beforePart, "Your account identifier") {
		t.Errorf("consent page for more scopes:\n%s", body)
	}
}

func TestLogoutAndFormPostPages(t *testing.T) {
	rd := newRenderer(t)
	body := render(t, rd, english, LogoutPage, LogoutView{CSRFToken: "c", State: "s&t", PostLogoutRedirectURI: "https://rp.example/bye", ClientID: "card"}, "/").Body.String()
	for _, want := range []string{
		`<form method="post" action="/oauth2/sessions/logout">`,
		`name="state" value="s&amp;t"`, `name="post_logout_redirect_uri" value="https://rp.example/bye"`,
		`name="client_id" value="card"`, `name="csrf" value="c"`,
		"Do you want to sign out of Propusk?",
		`value="confirm"`, `value="cancel"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("logout page lacks %s", want)
		}
	}

	// Signing out ends Propusk's own session only (there is no back-channel
	// logout yet): the page must not promise more, and says so.
	for _, lang := range SupportedLanguages() {
		body := render(t, rd, lang, LogoutPage, LogoutView{CSRFToken: "c"}, "/").Body.String()
		explain := text(lang, "logout.explain")
		if !strings.Contains(body, "<p>"+explain+"</p>") {
			t.Errorf("logout/%s lacks the explanation", lang)
		}
		promise := map[string]string{"en": "every service", "ru": "всех сервисов"}[lang.String()]
		caveat := map[string]string{"en": "may keep you signed in", "ru": "вход может сохраниться"}[lang.String()]
		if strings.Contains(explain, promise) || !strings.Contains(explain, caveat) {
			t.Errorf("logout/%s: %q promises a sign-out of every service or does not say they may keep the person signed in", lang, explain)
		}
	}

	body = render(t, rd, russian, FormPostPage, FormPostView{Action: "https://rp.example/cb?x=1", Params: [][2]string{{"code", "a\"b"}, {"state", "<s>"}}}, "/").Body.String()
	for _, want := range []string{
		`<form method="post" action="https://rp.example/cb?x=1">`,
		`<input type="hidden" name="code" value="a&#34;b">`,
		`<input type="hidden" name="state" value="&lt;s&gt;">`,
		"Продолжить",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("form_post page lacks %s\n%s", want, body)
		}
	}
	// html/template refuses a script URL as the action.
	body = render(t, rd, russian, FormPostPage, FormPostView{Action: "javascript:alert(1)"}, "/").Body.String()
	if strings.Contains(body, "javascript:") {
		t.Error("javascript: action rendered")
	}
}

// recorder notes whether anything at all was written.
type recorder struct {
	h       http.Header
	touched bool
}

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) Write(b []byte) (int, error) { r.touched = true; return len(b), nil }
func (r *recorder) WriteHeader(int)             { r.touched = true }

type failingView struct{}

func (failingView) Fail() (string, error) { return "", errors.New("boom") }

func TestRenderFailureWritesNothing(t *testing.T) {
	rd := newRenderer(t)
	// A page whose template fails half-way, after the layout has begun.
	for _, lang := range SupportedLanguages() {
		base := rd.pages[lang.String()][LoggedOutPage]
		ft, err := base.Clone()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ft.New("fail").Parse(`{{define "content"}}<p>{{t "app.name"}}</p>{{.View.Fail}}{{end}}`); err != nil {
			t.Fatal(err)
		}
		rd.pages[lang.String()]["test_fail"] = ft
	}
	r := httptest.NewRequest("GET", "/login", nil)
	for name, c := range map[string]struct {
		page string
		view any
	}{
		"template error":   {"test_fail", failingView{}},
		"wrong view":       {LoginPage, ConsentView{}},
		"nil view":         {LoginPage, nil},
		"nil pointer view": {LoginPage, (*LoginView)(nil)},
	} {
		w := &recorder{h: http.Header{}}
		if err := rd.Render(w, r, http.StatusOK, russian, c.page, c.view); err == nil || (name == "template error" && !strings.Contains(err.Error(), "boom")) {
			t.Errorf("%s: Render returned %v", name, err)
		}
		if w.touched || len(w.h) != 0 {
			t.Errorf("%s: something was written (headers %v)", name, w.h)
		}
	}
	w := &recorder{h: http.Header{}}
	if err := rd.Render(w, r, http.StatusOK, russian, "no-such-page", nil); err == nil || w.touched {
		t.Errorf("unknown page: err %v, touched %v", err, w.touched)
	}
	// A pointer to the right view is fine.
	if err := rd.Render(httptest.NewRecorder(), r, http.StatusOK, russian, LoginPage, &LoginView{}); err != nil {
		t.Errorf("pointer view: %v", err)
	}
}

func TestRenderStatusAndFallbackLanguage(t *testing.T) {
	rd := newRenderer(t)
	w := httptest.NewRecorder()
	if err := rd.Render(w, httptest.NewRequest("GET", "/", nil), http.StatusTeapot, language.French, LoggedOutPage, LoggedOutView{}); err != nil {
		t.Fatal(err)
	}
	if w.Code != http.StatusTeapot || !strings.Contains(w.Body.String(), `<html lang="ru">`) || w.Header().Get("Content-Language") != "ru" {
		t.Errorf("%d %q", w.Code, w.Header())
	}
}

func TestRenderConcurrent(t *testing.T) {
	rd := newRenderer(t)
	done := make(chan bool)
	for i := range 8 {
		go func() {
			lang := russian
			if i%2 == 1 {
				lang = english
			}
			for _, s := range samples() {
				w := httptest.NewRecorder()
				if err := rd.Render(w, httptest.NewRequest("GET", "/", nil), 200, lang, s.page, s.view); err != nil {
					t.Error(err)
				}
			}
			done <- true
		}()
	}
	for range 8 {
		<-done
	}
}

func TestGoldenLoginPages(t *testing.T) {
	rd := newRenderer(t)
	view := LoginView{FlowID: "flow-0123", CSRFToken: "csrf-4567", Username: "anna@example.org",
		ClientName: "Compatriot card", ErrorKey: "login.error.invalid"}
	for _, lang := range []language.Tag{russian, english} {
		got := render(t, rd, lang, LoginPage, view, "/login?flow=flow-0123").Body.Bytes()
		// The stylesheet's version changes with every CSS edit; the page does not.
		got = staticVersion.ReplaceAll(got, []byte("?v=VERSION"))
		file := filepath.Join("testdata", "login."+lang.String()+".golden")
		if *update {
			if err := os.WriteFile(file, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (run go test ./web -run Golden -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the rendered page (run go test ./web -run Golden -update if intended):\n%s", file, got)
		}
	}
}
