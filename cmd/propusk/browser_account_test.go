package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp"
	"golang.org/x/text/language"

	"github.com/propusk/propusk/internal/testdb"
	"github.com/propusk/propusk/mfa"
	"github.com/propusk/propusk/web/page"
)

// The account page in a real browser: a signed-out person opens /account,
// signs in, sees the page in their language, sets up an authenticator app
// from the QR code, key and link the page shows, keeps the recovery codes
// and comes back to the page listing the app.
//
// SQLite, as the other browser tests; PostgreSQL too, so the pages are
// driven in a browser even while one backend's local flows fail.

// browserAccountIDP starts Propusk with one person ("anna") whose account
// speaks locale ("" for none), after checking that /account leads to a
// login page on this backend; when it does not, that is a bug of its own,
// reported by the subtest, and the rest is skipped.
func browserAccountIDP(t *testing.T, backend, locale string) *idp {
	t.Helper()
	p := startIDP(t, testdb.Open(t, backend), newRing(t))
	p.accountPerson(t, "anna", locale)
	if !t.Run("local flow's login page", func(t *testing.T) { expectLocalFlowLogin(t, p) }) {
		t.Skip("the account page's sign-in failed on " + backend + " (see the subtest above); the rest cannot run")
	}
	return p
}

func TestBrowserAccountPage(t *testing.T) {
	for _, backend := range testdb.Backends {
		t.Run("backend="+backend, func(t *testing.T) {
			// Russian: the browser asks for it, and so does the account.
			t.Run("ru", func(t *testing.T) {
				p := browserAccountIDP(t, backend, "ru")
				c := startChrome(t, chromeOptions{acceptLanguage: "ru"})
				browserAccount(t, p, c, langRU, "телефон", false)
			})
			// English: the browser asks for Russian; the person picks English
			// with the switcher on the login page, and the account has no
			// language of its own.
			t.Run("en", func(t *testing.T) {
				p := browserAccountIDP(t, backend, "")
				c := startChrome(t, chromeOptions{acceptLanguage: "ru"})
				browserAccount(t, p, c, langEN, "phone", true)
			})
		})
	}
}

func browserAccount(t *testing.T, p *idp, c *chrome, lang pageLang, appName string, switchOnLogin bool) {
	msg := page.NewLocalizer(language.Make(lang.code))
	other := page.NewLocalizer(language.Make(lang.otherCode))

	c.navigate(p.issuer + "/account")
	if switchOnLogin {
		expectAccountLogin(t, c, langRU)
		c.clickAndLoad(`nav.languages a[hreflang="` + lang.code + `"]`)
	}
	expectAccountLogin(t, c, lang)
	signInOnPage(c, "anna", accountPassword)

	// The account page.
	expectBrowserAccountPage(t, c, lang)
	doc := c.html()
	for _, key := range []string{"account.mfa.heading", "account.mfa.recommend_title", "account.mfa.recommend", "account.password.heading"} {
		if s := msg.T(key); !strings.Contains(doc, s) {
			t.Errorf("the account page lacks %s %q", key, s)
		}
	}
	if s := msg.T("account.signed_in_named", "Зоя Петрова", "anna"); !strings.Contains(doc, s) {
		t.Errorf("the account page lacks %q", s)
	}
	if strings.Contains(doc, "<script") {
		t.Error("the account page carries a script")
	}
	c.mustAttr("input#current_password", "autocomplete", "current-password")
	c.mustAttr("input#current_password", "type", "password")
	c.mustAttr("input#new_password", "autocomplete", "new-password")
	c.mustAttr("input#new_password", "type", "password")
	c.mustAttr("input#authenticator-name", "autocomplete", "off")
	if got := strings.TrimSpace(chromeText(c, `label[for="new_password"]`)); got != msg.T("account.password.new") {
		t.Errorf("the new password's label %q, want %q", got, msg.T("account.password.new"))
	}

	// Add an app.
	c.typeInto("input#authenticator-name", appName)
	c.clickAndLoad(`form[action="/account/authenticators"] button[type="submit"]`)
	if loc := c.location(); !strings.HasSuffix(loc, "/account/authenticators") {
		t.Fatalf("after adding an app, expected the enrolment page; the browser shows %s:\n%s", loc, c.html())
	}
	c.snapshot("account-enrol-" + lang.code)
	c.mustAttr("html", "lang", lang.code)
	doc = c.html()
	if !strings.Contains(doc, "<h1>"+msg.T("enrol.heading")+"</h1>") || strings.Contains(doc, other.T("enrol.heading")) {
		t.Errorf("the enrolment page is not in %s:\n%s", lang.code, doc)
	}
	if strings.Contains(doc, msg.T("enrol.required")) {
		t.Error("the enrolment page from the account page says a service requires the app")
	}

	// The QR code: a visible PNG the browser decoded.
	const qr = `img[src^="data:image/png;base64,"]`
	c.do("the QR code is visible", chromedp.WaitVisible(chromedp.CSS(qr)))
	c.mustAttr(qr, "alt", msg.T("enrol.qr_alt"))
	if width := chromeEval[int](c, `(() => { const i = document.querySelector('`+qr+`'); return i && i.complete ? i.naturalWidth : 0 })()`); width <= 0 {
		t.Errorf("the QR code is not a decodable image: naturalWidth %d", width)
	}
	key := strings.TrimSpace(chromeText(c, "p.ref code"))
	if !groupedKeyRE.MatchString(key) {
		t.Errorf("the key shown %q is not 32 base32 characters in groups of four", key)
	}
	link, ok := c.attr(`a[href^="otpauth://"]`, "href")
	if !ok {
		t.Fatalf("no otpauth:// link on the enrolment page:\n%s", doc)
	}
	if got := strings.TrimSpace(chromeText(c, `a[href^="otpauth://"]`)); got != msg.T("enrol.open_link") {
		t.Errorf("otpauth link text %q, want %q", got, msg.T("enrol.open_link"))
	}
	otpKey, err := otp.NewKeyFromURL(link)
	if err != nil {
		t.Fatalf("otpauth link %q: %v", link, err)
	}
	if otpKey.Issuer() != mfa.Issuer || otpKey.AccountName() != "anna" {
		t.Errorf("otpauth key: issuer %q account %q", otpKey.Issuer(), otpKey.AccountName())
	}
	if strings.ReplaceAll(key, " ", "") != otpKey.Secret() {
		t.Errorf("the key shown %q is not the link's secret %q", key, otpKey.Secret())
	}

	// The app's code.
	c.mustAttr("input#code", "autocomplete", "one-time-code")
	c.mustAttr("input#code", "inputmode", "numeric")
	c.typeInto("input#code", appCode(t, otpKey.Secret(), time.Now()))
	c.clickAndLoad(`form[action="/account/authenticators/confirm"] button[type="submit"]`)

	// The recovery codes, shown once.
	c.snapshot("account-recovery-codes-" + lang.code)
	c.mustAttr("html", "lang", lang.code)
	doc = c.html()
	if !strings.Contains(doc, "<h1>"+msg.T("recovery_codes.heading")+"</h1>") {
		t.Fatalf("after the code, expected the recovery codes page in %s; the browser shows %s:\n%s", lang.code, c.location(), doc)
	}
	ctx, cancel := context.WithTimeout(c.ctx, actionTimeout)
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll("ol.ref li code")))
	cancel()
	if err != nil {
		t.Fatalf("recovery codes: %v", err)
	}
	if len(nodes) != mfa.RecoveryCodeCount {
		t.Errorf("%d recovery codes shown, want %d", len(nodes), mfa.RecoveryCodeCount)
	}
	for i := range nodes {
		code := strings.TrimSpace(chromeText(c, "ol.ref li:nth-child("+strconv.Itoa(i+1)+") code"))
		if !recoveryCodeRE.MatchString(code) {
			t.Errorf("recovery code %d %q is not XXXX-XXXX-XXXX", i+1, code)
		}
	}
	const back = `p.actions a[href^="/account"]`
	if got := strings.TrimSpace(chromeText(c, back)); got != msg.T("recovery_codes.continue") {
		t.Errorf("continue link text %q, want %q", got, msg.T("recovery_codes.continue"))
	}
	c.clickAndLoad(back)

	// Back on the account page, which lists the app.
	expectBrowserAccountPage(t, c, lang)
	if got := strings.TrimSpace(chromeText(c, "strong#authenticator-0")); got != appName {
		t.Errorf("the account page lists the app as %q, want %q", got, appName)
	}
	doc = c.html()
	if s := msg.T("account.codes.left", mfa.RecoveryCodeCount); !strings.Contains(doc, s) {
		t.Errorf("the account page lacks %q", s)
	}
	if strings.Contains(doc, msg.T("account.mfa.recommend_title")) {
		t.Error("the account page with an app still recommends one")
	}
	c.mustAttr(`form[action="/account/authenticators/remove"] button[type="submit"]`, "aria-describedby", "authenticator-0")
}

// expectAccountLogin checks that the browser shows the login page of a
// local flow in lang.
func expectAccountLogin(t *testing.T, c *chrome, lang pageLang) {
	t.Helper()
	if loc := c.location(); !strings.Contains(loc, "/login?flow=") {
		t.Fatalf("expected the login page, the browser shows %s:\n%s", loc, c.html())
	}
	c.snapshot("account-login-" + lang.code)
	c.mustAttr("html", "lang", lang.code)
	doc := c.html()
	if !strings.Contains(doc, "<h1>"+lang.loginHeading+"</h1>") || strings.Contains(doc, lang.otherLogin) {
		t.Errorf("login page not in %s (want heading %q, not %q):\n%s", lang.code, lang.loginHeading, lang.otherLogin, doc)
	}
	c.mustAttr("input#username", "autocomplete", "username")
	c.mustAttr("input#password", "autocomplete", "current-password")
	c.mustAttr(`nav.languages a[hreflang="`+lang.code+`"]`, "aria-current", "true")
}

// expectBrowserAccountPage checks that the browser shows the account page
// in lang.
func expectBrowserAccountPage(t *testing.T, c *chrome, lang pageLang) {
	t.Helper()
	msg := page.NewLocalizer(language.Make(lang.code))
	other := page.NewLocalizer(language.Make(lang.otherCode))
	if loc := c.location(); !strings.Contains(loc, "/account") || strings.Contains(loc, "/account/") {
		t.Fatalf("expected the account page, the browser shows %s:\n%s", loc, c.html())
	}
	c.snapshot("account-" + lang.code)
	c.mustAttr("html", "lang", lang.code)
	doc := c.html()
	if !strings.Contains(doc, "<h1>"+msg.T("account.heading")+"</h1>") || strings.Contains(doc, other.T("account.heading")) {
		t.Fatalf("the account page is not in %s (want heading %q):\n%s", lang.code, msg.T("account.heading"), doc)
	}
	if !strings.Contains(doc, "<title>"+msg.T("account.title")+" · ") {
		t.Errorf("the account page's title is not %q", msg.T("account.title"))
	}
	c.mustAttr(`nav.languages a[hreflang="`+lang.code+`"]`, "aria-current", "true")
}

// The language switcher on the account's pages: it must change the
// language of the page it was used on, also for an account that has a
// language, and lead to a page from one that answered a form.
func TestBrowserAccountPageLanguageSwitcher(t *testing.T) {
	for _, backend := range testdb.Backends {
		t.Run("backend="+backend, func(t *testing.T) {
			p := browserAccountIDP(t, backend, "ru")
			c := startChrome(t, chromeOptions{acceptLanguage: "ru"})
			c.navigate(p.issuer + "/account")
			expectAccountLogin(t, c, langRU)
			signInOnPage(c, "anna", accountPassword)
			expectBrowserAccountPage(t, c, langRU)

			t.Run("on the account page", func(t *testing.T) {
				c.clickAndLoad(`nav.languages a[hreflang="en"]`)
				if got, _ := c.attr("html", "lang"); got != "en" {
					// web/account.go renderAccount: ChooseLanguage(r, acct.Locale)
					// puts the account's language above the switcher's cookie.
					t.Errorf("BUG: after choosing English with the switcher on the account page of an account in Russian, the page is in %q (%s)", got, c.location())
				}
				c.navigate(p.issuer + "/account")
				c.clickAndLoad(`nav.languages a[hreflang="ru"]`)
			})

			t.Run("on the enrolment page", func(t *testing.T) {
				c.navigate(p.issuer + "/account")
				c.typeInto("input#authenticator-name", "телефон")
				c.clickAndLoad(`form[action="/account/authenticators"] button[type="submit"]`)
				if loc := c.location(); !strings.HasSuffix(loc, "/account/authenticators") {
					t.Fatalf("expected the enrolment page, the browser shows %s", loc)
				}
				c.clickAndLoad(`nav.languages a[hreflang="en"]`)
				// The switcher returns to the URL the enrolment page answered,
				// /account/authenticators, which only takes POST: a GET gets
				// 405 with no page, and the browser shows its own error.
				if doc := c.html(); !strings.Contains(doc, `<main class="card">`) {
					t.Errorf("BUG: the language switcher on the account's enrolment page leads to %s, which is no Propusk page (its return is the POST-only path):\n%.300s", c.location(), doc)
				}
			})
		})
	}
}
