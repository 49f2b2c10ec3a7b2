package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/oauth"
	"github.com/propusk/propusk/web/page"
)

// End-to-end tests of a flow's binding to the browser that first opened
// it (login CSRF, RFC 6749 §10.12), and of form tokens that stay good in
// every tab of that browser.

// russian is the catalogue of a browser that asked for no language.
var russian = page.NewLocalizer(page.DefaultLanguage)

// expectOtherBrowser checks that pg is the page refusing a flow to another
// browser, in Russian, with a link to start again at restart.
func expectOtherBrowser(t *testing.T, what string, pg browserPage, restart string) {
	t.Helper()
	if pg.status != http.StatusForbidden || pg.loc != nil || !pageShows(pg, "<h1>"+russian.T("other_browser.heading")+"</h1>") ||
		!pageShows(pg, russian.T("other_browser.message")) {
		t.Fatalf("%s: %d %v, want 403 and the other-browser page:\n%s", what, pg.status, pg.loc, pg.body)
	}
	if !strings.Contains(pg.body, `href="`+restart+`"`) {
		t.Errorf("%s: no link to start again at %s:\n%s", what, restart, pg.body)
	}
	if strings.Contains(pg.body, `name="csrf"`) {
		t.Errorf("%s: the page carries a form token:\n%s", what, pg.body)
	}
}

// A login form shown to browser A, posted from browser B with A's flow ID
// and form token (B never saw the page: no cookie of A's), is refused with
// a page to start again, signs no one in and leaves the flow to A. B
// opening the flow's URL does not take it over either.
func TestEndToEndLoginFormFromAnotherBrowser(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		p.person(t, "mallory", "standard")
		cfg, _ := p.rp(t, clients.Registration{FirstParty: true})
		pkce := oauth2.GenerateVerifier()
		a, b := newBrowser(t), newBrowser(t)
		login := a.get(cfg.AuthCodeURL("s-login-csrf", oauth2.S256ChallengeOption(pkce), uiEnglish))
		if login.url.Path != "/login" || hiddenField(login, "csrf") == "" {
			t.Fatalf("expected the login page, got %d %s", login.status, login.url)
		}
		flowID := login.url.Query().Get("flow")
		creds := url.Values{"username": {"mallory"}, "password": {"correct horse battery"}}

		forged := b.submit(login, "/login", creds)
		expectOtherBrowser(t, "A's login form posted from B", forged, "http://127.0.0.1:9/")
		if c := b.cookie(p.issuer, oauth.SessionCookie); c != "" {
			t.Fatal("B got an SSO session from A's login form")
		}
		expectOtherBrowser(t, "A's flow opened in B", b.get(login.url.String()), "http://127.0.0.1:9/")
		expectOtherBrowser(t, "A's login form posted from B after opening it", b.submit(login, "/login", creds), "http://127.0.0.1:9/")
		if f, err := p.db.GetFlow(t.Context(), flowID); err != nil || f.State != "login" || f.AccountID != "" {
			t.Fatalf("the flow after B's posts: %+v, %v", f, err)
		}

		back := a.submit(login, "/login", creds)
		if back.loc == nil || back.loc.Query().Get("code") == "" || back.loc.Query().Get("state") != "s-login-csrf" {
			t.Fatalf("A's own post: %d %s %v\n%s", back.status, back.url, back.loc, back.body)
		}
	})
}

// Every later step refuses a form from another browser too: the code, a
// recovery code, an enrolment, consent, and the sign-in of the account
// page (whose page offers to sign in again there).
func TestEndToEndLaterStepsFromAnotherBrowser(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		ctx := t.Context()
		id := p.person(t, "inna", "standard")
		secret := p.enrolApp(t, id, "inna")
		ivan := p.person(t, "ivan", "standard") // no app: enrolment is next
		firstParty, _ := p.rp(t, clients.Registration{FirstParty: true})
		thirdParty, _ := p.rp(t, clients.Registration{Name: "Entry app"})
		pkce := oauth2.GenerateVerifier()
		mfaURL := func(cfg *oauth2.Config) string {
			return cfg.AuthCodeURL("s-later-1", oauth2.S256ChallengeOption(pkce), uiEnglish,
				oauth2.SetAuthURLParam("acr_values", "urn:propusk:acr:standard:mfa"))
		}

		t.Run("code", func(t *testing.T) {
			a := newBrowser(t)
			pg := a.enterPassword(mfaURL(firstParty), "inna")
			if pg.url.Path != "/login/otp" {
				t.Fatalf("after the password: %d %s", pg.status, pg.url)
			}
			expectOtherBrowser(t, "the code form from B", newBrowser(t).submit(pg, "/login/otp", url.Values{"code": {appCode(t, secret, time.Now())}}), "http://127.0.0.1:9/")
			rec := a.get(p.issuer + "/login/recovery?" + pg.url.RawQuery)
			expectOtherBrowser(t, "the recovery form from B", newBrowser(t).submit(rec, "/login/recovery", url.Values{"code": {"AAAA-BBBB-CCCC"}}), "http://127.0.0.1:9/")
			if back := a.submit(pg, "/login/otp", url.Values{"code": {appCode(t, secret, time.Now())}}); back.loc == nil || back.loc.Query().Get("code") == "" {
				t.Fatalf("A's code: %d %s %v", back.status, back.url, back.loc)
			}
		})

		t.Run("enrolment", func(t *testing.T) {
			a := newBrowser(t)
			pg := a.enterPassword(mfaURL(firstParty), "ivan")
			_, enrolSecret := enrolmentOnPage(t, pg)
			expectOtherBrowser(t, "the enrolment form from B", newBrowser(t).submit(pg, "/login/enrol", url.Values{"code": {appCode(t, enrolSecret, time.Now())}}), "http://127.0.0.1:9/")
			if enrolled, err := p.mfaService(t).Enrolled(ctx, ivan); err != nil || enrolled {
				t.Fatalf("B's enrolment form set up an app: %v %v", enrolled, err)
			}
		})

		t.Run("consent", func(t *testing.T) {
			a := newBrowser(t)
			pg := a.enterPassword(thirdParty.AuthCodeURL("s-later-2", oauth2.S256ChallengeOption(pkce), uiEnglish), "ivan")
			if pg.url.Path != "/consent" {
				t.Fatalf("after the password: %d %s", pg.status, pg.url)
			}
			expectOtherBrowser(t, "the consent form from B", newBrowser(t).submit(pg, "/consent", url.Values{"decision": {"allow"}}), "http://127.0.0.1:9/")
			if back := a.submit(pg, "/consent", url.Values{"decision": {"allow"}}); back.loc == nil || back.loc.Query().Get("code") == "" {
				t.Fatalf("A's consent: %d %s %v", back.status, back.url, back.loc)
			}
		})

		t.Run("account page", func(t *testing.T) {
			a := newBrowser(t)
			pg := a.get(p.issuer + "/account")
			if pg.url.Path != "/login" {
				t.Fatalf("the account page signed out: %d %s", pg.status, pg.url)
			}
			expectOtherBrowser(t, "the account sign-in from B", newBrowser(t).submit(pg, "/login", url.Values{"username": {"ivan"}, "password": {"correct horse battery"}}), "/account")
		})
	})
}

// A flow's pages shown several times in one browser (two tabs, a language
// switch) carry one form token: the first showing's form is accepted
// after the others. A form with a wrong or no token shows the page again
// with a notice and the username typed, never an error page.
func TestEndToEndFlowFormsStayGoodInEveryTab(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		id := p.person(t, "tanya", "standard")
		secret := p.enrolApp(t, id, "tanya")
		cfg, _ := p.rp(t, clients.Registration{FirstParty: true})
		pkce := oauth2.GenerateVerifier()
		br := newBrowser(t)
		tab1 := br.get(cfg.AuthCodeURL("s-tabs-1", oauth2.S256ChallengeOption(pkce), uiEnglish))
		tab2 := br.get(tab1.url.String())
		switched := br.get(p.issuer + "/lang?" + url.Values{"set": {"ru"}, "return": {tab1.url.RequestURI()}}.Encode())
		if switched.url.Path != "/login" || !pageShows(switched, russian.T("login.heading")) {
			t.Fatalf("after the language switch: %d %s", switched.status, switched.url)
		}
		for _, pg := range []browserPage{tab2, switched} {
			if hiddenField(pg, "csrf") != hiddenField(tab1, "csrf") {
				t.Fatal("showings of the login page in one browser carry different form tokens")
			}
		}

		for name, body := range map[string]string{
			"wrong token": strings.ReplaceAll(tab2.body, `name="csrf" value="`, `name="csrf" value="x`),
			"no token":    strings.ReplaceAll(tab2.body, `name="csrf"`, `name="x"`),
		} {
			pg := br.submit(browserPage{url: tab2.url, body: body}, "/login", url.Values{"username": {"tanya"}, "password": {"correct horse battery"}})
			if pg.status != http.StatusForbidden || pg.url.Path != "/login" || !pageShows(pg, russian.T("login.error.stale")) ||
				!strings.Contains(pg.body, `name="username" type="text" value="tanya"`) || !strings.Contains(pg.body, `name="password" type="password"`) ||
				strings.Contains(pg.body, "correct horse battery") || hiddenField(pg, "csrf") != hiddenField(tab1, "csrf") {
				t.Fatalf("login form with a %s: %d %s, want 403 and the login page with the notice and the username:\n%s", name, pg.status, pg.url, pg.body)
			}
		}

		otp1 := br.submit(tab1, "/login", url.Values{"username": {"tanya"}, "password": {"correct horse battery"}})
		if otp1.url.Path != "/login/otp" {
			t.Fatalf("the first tab's login form: %d %s\n%s", otp1.status, otp1.url, otp1.body)
		}
		otp2 := br.get(otp1.url.String())
		if hiddenField(otp2, "csrf") != hiddenField(otp1, "csrf") {
			t.Fatal("two showings of the code page carry different form tokens")
		}
		stale := br.submit(browserPage{url: otp2.url, body: strings.ReplaceAll(otp2.body, `name="csrf"`, `name="x"`)}, "/login/otp",
			url.Values{"code": {appCode(t, secret, time.Now())}})
		if stale.status != http.StatusForbidden || !pageShows(stale, russian.T("mfa.error.stale")) || !strings.Contains(stale.body, `autocomplete="one-time-code"`) {
			t.Fatalf("code form without its token: %d, want 403 and the code page with the notice:\n%s", stale.status, stale.body)
		}
		if back := br.submit(otp1, "/login/otp", url.Values{"code": {appCode(t, secret, time.Now())}}); back.loc == nil || back.loc.Query().Get("code") == "" {
			t.Fatalf("the first showing's code form: %d %s %v\n%s", back.status, back.url, back.loc, back.body)
		}
	})
}

// The account page's forms carry the sign-in's token: good in every tab
// and showing, new at the next sign-in. A stale one shows the page again
// with a notice and the name typed.
func TestEndToEndAccountFormsStayGoodInEveryTab(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		p.accountPerson(t, "lena", "en")
		steps := &appSteps{}
		br := newBrowser(t)
		tab1 := signInToAccount(t, p, br, "lena", accountPassword, "", steps)
		tab2 := br.get(p.issuer + "/account")
		if hiddenField(tab2, "csrf") != hiddenField(tab1, "csrf") {
			t.Fatal("two showings of the account page carry different form tokens")
		}
		wrong := browserPage{url: tab2.url, body: strings.ReplaceAll(tab2.body, `name="csrf" value="`, `name="csrf" value="x`)}
		pg := br.submit(wrong, "/account/authenticators", url.Values{"name": {"телефон"}})
		if pg.status != http.StatusForbidden || pg.url.Path != "/account/authenticators" || !pageShows(pg, english.T("account.error.stale")) ||
			!strings.Contains(pg.body, `value="телефон"`) || !pageShows(pg, english.T("account.heading")) {
			t.Fatalf("account form with a wrong token: %d %s, want 403 and the account page with the notice and the name:\n%s", pg.status, pg.url, pg.body)
		}
		if en := br.submit(tab1, "/account/authenticators", url.Values{"name": {"телефон"}}); en.status != http.StatusOK || hiddenField(en, "enrolment") == "" {
			t.Fatalf("the first showing's form: %d %s, want the enrolment page:\n%s", en.status, en.url, en.body)
		}

		// A new sign-in (a new session) rotates the token.
		again := signInFromLogin(t, p, br, br.get(p.issuer+"/account/reauth"), "lena", accountPassword, "", steps)
		if hiddenField(again, "csrf") == hiddenField(tab1, "csrf") {
			t.Fatal("the account forms' token survived a new sign-in")
		}
		if old := br.submit(tab1, "/account/authenticators", url.Values{"name": {"phone"}}); old.status != http.StatusForbidden || !pageShows(old, english.T("account.error.stale")) {
			t.Fatalf("a form from before the new sign-in: %d, want 403 and the notice:\n%s", old.status, old.body)
		}
	})
}

// A consent form without the flow's token decides nothing and asks again,
// with a notice; the first showing's form still counts.
func TestEndToEndConsentFormStale(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		p.person(t, "olga", "standard")
		cfg, _ := p.rp(t, clients.Registration{})
		br := newBrowser(t)
		login := br.get(cfg.AuthCodeURL("s-consent-stale", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		consent := br.submit(login, "/login", url.Values{"username": {"olga"}, "password": {"correct horse battery"}})
		if consent.url.Path != "/consent" {
			t.Fatalf("after the password: %d %s", consent.status, consent.url)
		}
		stale := br.submit(browserPage{url: consent.url, body: strings.ReplaceAll(consent.body, `name="csrf" value="`, `name="csrf" value="x`)},
			"/consent", url.Values{"decision": {"allow"}})
		if stale.status != http.StatusForbidden || stale.loc != nil || stale.url.Path != "/consent" ||
			!pageShows(stale, russian.T("consent.error.stale")) || !strings.Contains(stale.body, `name="decision" value="allow"`) {
			t.Fatalf("consent form with a wrong token: %d %s %v, want 403 and the question again:\n%s", stale.status, stale.url, stale.loc, stale.body)
		}
		if back := br.submit(consent, "/consent", url.Values{"decision": {"allow"}}); back.loc == nil || back.loc.Query().Get("code") == "" {
			t.Fatalf("the first showing's consent form: %d %s %v\n%s", back.status, back.url, back.loc, back.body)
		}
	})
}
