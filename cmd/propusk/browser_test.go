package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/internal/testdb"
)

// The browser tests drive the sign-in and consent pages in a real headless
// Chromium (through the DevTools protocol, with chromedp): the language a
// browser asks for, the language switcher, the forms, the CSP with the
// redirects that follow the forms, and the whole sign-in with JavaScript
// turned off. The protocol itself is covered on both backends by the
// end-to-end tests; here SQLite is enough, but the backend is a parameter.
//
// Chromium comes from PROPUSK_CHROMIUM, else /usr/bin/chromium, else
// chromium on PATH; without it the tests are skipped, or fail under CI=true.

// browserTimeout bounds a whole test's browser; actionTimeout one step.
const (
	browserTimeout = 60 * time.Second
	actionTimeout  = 15 * time.Second
)

// Strings of web/page/locales/*.json the tests look for.
const (
	ruLoginHeading   = "Вход в Пропуск"
	enLoginHeading   = "Sign in to Propusk"
	ruConsentHeading = "Сервис «%s» запрашивает доступ к вашей учётной записи"
	enConsentHeading = "%s wants to access your account"
	ruWrongPassword  = "Неверное имя пользователя или пароль."
	enWrongPassword  = "Wrong username or password."
)

var ruScopes = []string{
	"Идентификатор вашей учётной записи — чтобы узнавать вас при следующих входах",
	"Фамилию, имя и отчество кириллицей и латиницей, дату рождения и язык общения",
	"Адрес электронной почты и сведения о том, подтверждён ли он",
	"Тип учётной записи, гражданство, страну проживания и уровень учётной записи",
}

var enScopes = []string{
	"Your account identifier, so the service recognises you next time",
	"Your name in Cyrillic and Latin letters, including patronymic, your date of birth and preferred language",
	"Your email address and whether it has been confirmed",
	"Your account type, citizenships, country of residence and account level",
}

// chromiumPath finds Chromium, or skips the test (fails it under CI=true).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PROPUSK_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("PROPUSK_CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium (set PROPUSK_CHROMIUM, or install Debian's chromium package): the browser tests are required under CI=true")
	}
	t.Skip("no Chromium (set PROPUSK_CHROMIUM, or install Debian's chromium package); CI fails instead")
	return ""
}

// chrome is one headless Chromium with one tab, for one test.
type chrome struct {
	t   *testing.T
	ctx context.Context
	// shots are screenshots of the pages seen so far, written out only if
	// the test fails.
	shots []shot
}

type shot struct {
	name string
	png  []byte
}

type chromeOptions struct {
	acceptLanguage string // sent with every request; "" keeps Chromium's own
	noScript       bool   // JavaScript disabled in the page
}

// startChrome starts a browser for the test; it is closed when the test
// ends. Every action of the test shares the browser's deadline.
func startChrome(t *testing.T, o chromeOptions) *chrome {
	t.Helper()
	execPath := chromiumPath(t)
	profile := t.TempDir() // removed after the browser is gone (cleanups run last-in first-out)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		// Without these Chromium phones home, and on a closed network its
		// connections are refused.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1000, 900),
	)
	base, cancelTimeout := context.WithTimeout(context.Background(), browserTimeout)
	alloc, cancelAlloc := chromedp.NewExecAllocator(base, opts...)
	ctx, cancelTab := chromedp.NewContext(alloc)
	c := &chrome{t: t, ctx: ctx}
	t.Cleanup(func() {
		c.writeShots()
		closeCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := chromedp.Cancel(closeCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			t.Logf("closing Chromium: %v", err)
		}
		cancelTab()
		cancelAlloc()
		cancelTimeout()
	})

	// Start the browser and set the tab up before the first page.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium (%s): %v", execPath, err)
	}
	if o.acceptLanguage != "" {
		call(c, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
			Headers: network.Headers{"Accept-Language": o.acceptLanguage}})
	}
	if o.noScript {
		call(c, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
	}
	return c
}

// call sends one protocol command to the tab.
func call[P, R any](c *chrome, cmd cdp.Command[P, R], params P) R {
	c.t.Helper()
	r, err := chromedp.Call(c.ctx, cmd, params)
	if err != nil {
		c.t.Fatalf("%s: %v", cmd.Method, err)
	}
	return r
}

// do runs actions, failing the test on an error.
func (c *chrome) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		c.t.Fatalf("%s: %v (at %s)", what, err, c.location())
	}
}

// navigate loads u and waits for the page's load event.
func (c *chrome) navigate(u string) {
	c.t.Helper()
	c.do("navigate to "+u, chromedp.Navigate(u))
}

// clickAndLoad clicks the element and waits for the page it leads to.
// Only DOM and input commands are used, so it works without JavaScript.
func (c *chrome) clickAndLoad(sel string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, actionTimeout)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.WaitEvent(cdppage.LoadEventFired, nil,
		chromedp.Click(chromedp.CSS(sel))))
	if err != nil {
		c.t.Fatalf("click %s: %v (at %s)", sel, err, c.location())
	}
}

// type types text into the field, key by key.
func (c *chrome) typeInto(sel, text string) {
	c.t.Helper()
	c.do("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// location is the URL of the page shown, from the navigation history (no
// JavaScript needed).
func (c *chrome) location() string {
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	h, err := chromedp.Call(ctx, cdppage.GetNavigationHistory, cdp.Empty{})
	if err != nil || h.CurrentIndex < 0 || int(h.CurrentIndex) >= len(h.Entries) {
		return fmt.Sprintf("unknown location: %v", err)
	}
	return h.Entries[h.CurrentIndex].URL
}

// html is the document's markup as the browser has it, with character
// references resolved (read through the DOM, no JavaScript). It finds the
// root element with a query: DOM.getDocument would renumber the nodes
// chromedp keeps track of.
func (c *chrome) html() string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, actionTimeout)
	defer cancel()
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS("html")))
	if err != nil || len(nodes) == 0 {
		c.t.Fatalf("the document's root: %v", err)
	}
	out, err := chromedp.Call(ctx, dom.GetOuterHTML, dom.GetOuterHTMLParams{NodeID: nodes[0].NodeID})
	if err != nil {
		c.t.Fatalf("DOM.getOuterHTML: %v", err)
	}
	return html.UnescapeString(out.OuterHTML)
}

// attr is an attribute of the first element that matches sel ("" and
// false when it has none).
func (c *chrome) attr(sel, name string) (string, bool) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, actionTimeout)
	defer cancel()
	r, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if err != nil {
		c.t.Fatalf("attribute %s of %s: %v (at %s)", name, sel, err, c.location())
	}
	return r.Value, r.Exists
}

// mustAttr checks an attribute's value.
func (c *chrome) mustAttr(sel, name, want string) {
	c.t.Helper()
	if got, ok := c.attr(sel, name); !ok || got != want {
		c.t.Errorf("%s[%s] = %q (present %v), want %q", sel, name, got, ok, want)
	}
}

// snapshot keeps a screenshot of the page, written out if the test fails.
func (c *chrome) snapshot(name string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, actionTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.t.Logf("screenshot %s: %v", name, err)
		return
	}
	c.shots = append(c.shots, shot{name, png})
}

// writeShots writes the screenshots of a failed test where they outlive it
// (t.TempDir would be removed with the test) and logs where.
func (c *chrome) writeShots() {
	if !c.t.Failed() {
		return
	}
	// The page the test stopped at, if the browser still answers.
	if ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second); ctx.Err() == nil {
		if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			c.shots = append(c.shots, shot{"at-failure", png})
		}
		c.t.Logf("the browser stopped at %s", c.location())
		cancel()
	} else {
		cancel()
	}
	if len(c.shots) == 0 {
		return
	}
	dir, err := os.MkdirTemp("", "propusk-"+strings.ReplaceAll(c.t.Name(), "/", "_")+"-")
	if err != nil {
		c.t.Logf("screenshots: %v", err)
		return
	}
	for i, s := range c.shots {
		p := filepath.Join(dir, fmt.Sprintf("%02d-%s.png", i+1, s.name))
		if err := os.WriteFile(p, s.png, 0o644); err != nil {
			c.t.Logf("screenshot: %v", err)
			continue
		}
		c.t.Logf("screenshot of the %s page: %s", s.name, p)
	}
}

// relyingParty is the relying party's redirect URI, served on loopback: it
// records the authorization response and shows "ok".
type relyingParty struct {
	redirect string
	got      chan url.Values
}

func startRelyingParty(t *testing.T) *relyingParty {
	rp := &relyingParty{got: make(chan url.Values, 4)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		select {
		case rp.got <- r.URL.Query():
		default:
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!DOCTYPE html><html lang="en"><title>Relying party</title><p id="rp-ok">ok</p></html>`)
	}))
	t.Cleanup(srv.Close)
	rp.redirect = srv.URL + "/callback"
	return rp
}

// response is the authorization response the relying party received.
func (rp *relyingParty) response(t *testing.T, c *chrome) url.Values {
	t.Helper()
	select {
	case q := <-rp.got:
		return q
	case <-time.After(5 * time.Second):
		c.snapshot("no-redirect")
		t.Fatalf("the browser did not come back to the relying party; it shows %s:\n%s", c.location(), c.html())
		return nil
	}
}

// browserFlow is one authorization request of a test.
type browserFlow struct {
	p       *idp
	rp      *relyingParty
	cfg     *oauth2.Config
	state   string
	pkce    string
	authURL string
}

const browserClientName = "Карта соотечественника"

// newBrowserFlow starts Propusk on backend with one person ("anna") and one
// relying party, and builds an authorization URL with S256 PKCE.
func newBrowserFlow(t *testing.T, backend string, params ...oauth2.AuthCodeOption) *browserFlow {
	t.Helper()
	p := startIDP(t, testdb.Open(t, backend), newRing(t))
	p.person(t, "anna", "standard")
	rp := startRelyingParty(t)
	cfg, _ := p.rp(t, clients.Registration{Name: browserClientName, RedirectURIs: []string{rp.redirect}})
	f := &browserFlow{p: p, rp: rp, cfg: cfg, state: random(t), pkce: oauth2.GenerateVerifier()}
	f.authURL = cfg.AuthCodeURL(f.state, append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.pkce)}, params...)...)
	return f
}

// finish checks the authorization response the relying party got and
// exchanges its code.
func (f *browserFlow) finish(t *testing.T, c *chrome) {
	t.Helper()
	q := f.rp.response(t, c)
	if q.Get("code") == "" || q.Get("state") != f.state || q.Get("iss") != f.p.issuer {
		t.Fatalf("authorization response %v; want a code, state %q and iss %q", q, f.state, f.p.issuer)
	}
	if !strings.Contains(c.html(), `id="rp-ok"`) {
		t.Errorf("the browser does not show the relying party's page; it shows %s", c.location())
	}
	tok, err := f.cfg.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(f.pkce))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	if raw, _ := tok.Extra("id_token").(string); raw == "" {
		t.Fatal("no ID token in the token response")
	}
}

// pageLang is the language of the pages, one of "ru" and "en".
type pageLang struct {
	code, otherCode          string
	loginHeading, otherLogin string
	consentHeading           string
	scopes                   []string
	wrongPassword            string
}

var (
	langRU = pageLang{code: "ru", otherCode: "en", loginHeading: ruLoginHeading, otherLogin: enLoginHeading,
		consentHeading: ruConsentHeading, scopes: ruScopes, wrongPassword: ruWrongPassword}
	langEN = pageLang{code: "en", otherCode: "ru", loginHeading: enLoginHeading, otherLogin: ruLoginHeading,
		consentHeading: enConsentHeading, scopes: enScopes, wrongPassword: enWrongPassword}
)

// expectLogin checks that the browser shows the login page in lang.
func expectLogin(t *testing.T, c *chrome, lang pageLang) {
	t.Helper()
	if loc := c.location(); !strings.Contains(loc, "/login") {
		t.Fatalf("expected the login page, the browser shows %s:\n%s", loc, c.html())
	}
	c.snapshot("login-" + lang.code)
	c.mustAttr("html", "lang", lang.code)
	doc := c.html()
	if !strings.Contains(doc, "<h1>"+lang.loginHeading+"</h1>") || strings.Contains(doc, lang.otherLogin) {
		t.Errorf("login page not in %s (want heading %q, not %q):\n%s", lang.code, lang.loginHeading, lang.otherLogin, doc)
	}
	if !strings.Contains(doc, browserClientName) {
		t.Errorf("login page does not name the client %q", browserClientName)
	}
	c.mustAttr("input#username", "autocomplete", "username")
	c.mustAttr("input#password", "autocomplete", "current-password")
	c.mustAttr(`nav.languages a[hreflang="`+lang.code+`"]`, "aria-current", "true")
}

// expectConsent checks that the browser shows the consent page in lang.
func expectConsent(t *testing.T, c *chrome, lang pageLang) {
	t.Helper()
	if loc := c.location(); !strings.Contains(loc, "/consent") {
		t.Fatalf("expected the consent page, the browser shows %s:\n%s", loc, c.html())
	}
	c.snapshot("consent-" + lang.code)
	c.mustAttr("html", "lang", lang.code)
	doc := c.html()
	if h := fmt.Sprintf(lang.consentHeading, browserClientName); !strings.Contains(doc, h) {
		t.Errorf("consent page lacks the heading %q:\n%s", h, doc)
	}
	for _, s := range lang.scopes {
		if !strings.Contains(doc, s) {
			t.Errorf("consent page lacks the scope description %q", s)
		}
	}
}

// signInOnPage fills in and submits the login form shown.
func signInOnPage(c *chrome, username, password string) {
	c.t.Helper()
	if username != "" {
		c.typeInto("input#username", username)
	}
	c.typeInto("input#password", password)
	c.clickAndLoad(`form[action^="/login"] button[type="submit"]`)
}

// allowOnPage allows, with "remember" ticked as the page offers it.
func allowOnPage(c *chrome) {
	c.t.Helper()
	// :checked matches the box's state, not its attribute; DOM.querySelector
	// answers it without JavaScript.
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS("input#remember:checked"))); err != nil {
		c.t.Fatalf("the remember box is not ticked by default: %v", err)
	}
	c.clickAndLoad(`button[name="decision"][value="allow"]`)
}

func TestBrowserSignInRussian(t *testing.T) {
	browserSignIn(t, "sqlite", chromeOptions{acceptLanguage: "ru"}, langRU)
}

func TestBrowserSignInEnglish(t *testing.T) {
	// ui_locales wins over the browser's Accept-Language.
	browserSignIn(t, "sqlite", chromeOptions{acceptLanguage: "ru-RU,ru;q=0.9"}, langEN,
		oauth2.SetAuthURLParam("ui_locales", "en"))
}

func browserSignIn(t *testing.T, backend string, o chromeOptions, lang pageLang, params ...oauth2.AuthCodeOption) {
	f := newBrowserFlow(t, backend, params...)
	c := startChrome(t, o)

	c.navigate(f.authURL)
	expectLogin(t, c, lang)
	signInOnPage(c, "anna", "correct horse battery")
	expectConsent(t, c, lang)
	allowOnPage(c)
	f.finish(t, c)

	// Consent was remembered: the next request for the same scopes goes
	// straight back, with no page.
	f.state = random(t)
	c.navigate(f.cfg.AuthCodeURL(f.state, oauth2.S256ChallengeOption(f.pkce)))
	f.finish(t, c)
}

func TestBrowserLanguageSwitcher(t *testing.T) {
	f := newBrowserFlow(t, "sqlite")
	c := startChrome(t, chromeOptions{acceptLanguage: "ru"})

	c.navigate(f.authURL)
	expectLogin(t, c, langRU)
	c.clickAndLoad(`nav.languages a[hreflang="en"]`)
	expectLogin(t, c, langEN)
	// And back again, then forward once more: the flow survives each switch.
	c.clickAndLoad(`nav.languages a[hreflang="ru"]`)
	expectLogin(t, c, langRU)
	c.clickAndLoad(`nav.languages a[hreflang="en"]`)
	expectLogin(t, c, langEN)

	signInOnPage(c, "anna", "correct horse battery")
	expectConsent(t, c, langEN) // the chosen language, not Accept-Language
	allowOnPage(c)
	f.finish(t, c)
}

func TestBrowserWrongPasswordAndNoScript(t *testing.T) {
	f := newBrowserFlow(t, "sqlite")
	c := startChrome(t, chromeOptions{acceptLanguage: "ru", noScript: true})

	c.navigate(f.authURL)
	expectLogin(t, c, langRU)
	signInOnPage(c, "anna", "wrong password!")

	c.snapshot("login-wrong-password")
	doc := c.html()
	if !strings.Contains(doc, `role="alert"`) {
		t.Fatalf("no role=alert element after a wrong password:\n%s", doc)
	}
	if !strings.Contains(doc, langRU.wrongPassword) {
		t.Errorf("the alert lacks %q:\n%s", langRU.wrongPassword, doc)
	}
	c.mustAttr(`[role="alert"]`, "id", "login-error")
	c.mustAttr("input#username", "value", "anna")
	c.mustAttr("input#username", "aria-describedby", "login-error")
	if v, _ := c.attr("input#password", "value"); v != "" {
		t.Errorf("the password came back in the page: %q", v)
	}

	// The username is kept: type only the password.
	signInOnPage(c, "", "correct horse battery")
	expectConsent(t, c, langRU)
	allowOnPage(c)
	f.finish(t, c)
}

// After a failed attempt the login page is the answer to POST /login; its
// URL must still carry the flow, or the switcher's return path loses it.
func TestBrowserLanguageSwitcherAfterWrongPassword(t *testing.T) {
	f := newBrowserFlow(t, "sqlite")
	c := startChrome(t, chromeOptions{acceptLanguage: "ru"})

	c.navigate(f.authURL)
	expectLogin(t, c, langRU)
	signInOnPage(c, "anna", "wrong password!")
	c.clickAndLoad(`nav.languages a[hreflang="en"]`)
	expectLogin(t, c, langEN)
	signInOnPage(c, "anna", "correct horse battery")
	expectConsent(t, c, langEN)
	allowOnPage(c)
	f.finish(t, c)
}
