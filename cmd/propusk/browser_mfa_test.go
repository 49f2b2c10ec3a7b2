package main

import (
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/pquerna/otp"
	"golang.org/x/oauth2"
	"golang.org/x/text/language"

	"github.com/propusk/propusk/web/page"
)

// The enrolment page in a real browser: a person without an authenticator
// signs in to a request that needs a second factor, lands on the enrolment
// page, sets the app up from what the page shows, keeps the recovery codes
// and reaches the relying party with acr …:mfa.

func TestBrowserEnrolmentPageRussian(t *testing.T) {
	browserEnrolment(t, chromeOptions{acceptLanguage: "ru"}, langRU)
}

func TestBrowserEnrolmentPageEnglish(t *testing.T) {
	// ui_locales wins over the browser's Accept-Language.
	browserEnrolment(t, chromeOptions{acceptLanguage: "ru-RU,ru;q=0.9"}, langEN,
		oauth2.SetAuthURLParam("ui_locales", "en"))
}

var (
	groupedKeyRE    = regexp.MustCompile(`^[A-Z2-7]{4}( [A-Z2-7]{4}){7}$`) // 160 bits: 32 base32 characters
	recoveryCodeRE  = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`)
	enrolFormSubmit = `form[action^="/login/enrol"] button[type="submit"]`
)

func browserEnrolment(t *testing.T, o chromeOptions, lang pageLang, params ...oauth2.AuthCodeOption) {
	params = append(params, oauth2.SetAuthURLParam("acr_values", "urn:propusk:acr:simplified:mfa"))
	f := newBrowserFlow(t, "sqlite", params...)
	c := startChrome(t, o)
	msg := page.NewLocalizer(language.Make(lang.code))
	other := page.NewLocalizer(language.Make(lang.otherCode))

	c.navigate(f.authURL)
	expectLogin(t, c, lang)
	signInOnPage(c, "anna", "correct horse battery")

	// The enrolment page.
	if loc := c.location(); !strings.Contains(loc, "/login/enrol") {
		t.Fatalf("after the password, expected the enrolment page; the browser shows %s:\n%s", loc, c.html())
	}
	c.snapshot("enrol-" + lang.code)
	c.mustAttr("html", "lang", lang.code)
	doc := c.html()
	for _, key := range []string{"enrol.heading", "enrol.required", "enrol.scan", "enrol.type_key", "enrol.confirm"} {
		if s := msg.T(key); !strings.Contains(doc, s) {
			t.Errorf("enrolment page lacks %s %q", key, s)
		}
	}
	if !strings.Contains(doc, "<h1>"+msg.T("enrol.heading")+"</h1>") || strings.Contains(doc, other.T("enrol.heading")) {
		t.Errorf("enrolment page not in %s:\n%s", lang.code, doc)
	}
	if strings.Contains(doc, "<script") {
		t.Error("the enrolment page carries a script")
	}
	if s := msg.T("enrol.key_details", "anna"); !strings.Contains(doc, s) {
		t.Errorf("enrolment page lacks the key details %q", s)
	}

	// The QR code: a visible PNG the browser decoded.
	const qr = `img[src^="data:image/png;base64,"]`
	c.do("the QR code is visible", chromedp.WaitVisible(chromedp.CSS(qr)))
	c.mustAttr(qr, "alt", msg.T("enrol.qr_alt"))
	width := chromeEval[int](c, `(() => { const i = document.querySelector('`+qr+`'); return i && i.complete ? i.naturalWidth : 0 })()`)
	if width <= 0 {
		t.Errorf("the QR code is not a decodable image: naturalWidth %d", width)
	}

	// The key to type, grouped by four.
	key := strings.TrimSpace(chromeText(c, "p.ref code"))
	if !groupedKeyRE.MatchString(key) {
		t.Errorf("the key shown %q is not 32 base32 characters in groups of four", key)
	}

	// The otpauth link, for an app on the same phone.
	link, ok := c.attr(`a[href^="otpauth://"]`, "href")
	if !ok {
		t.Fatalf("no otpauth:// link on the enrolment page:\n%s", doc)
	}
	if got := strings.TrimSpace(chromeText(c, `a[href^="otpauth://"]`)); got != msg.T("enrol.open_link") {
		t.Errorf("otpauth link text %q, want %q", got, msg.T("enrol.open_link"))
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("otpauth link %q: %v", link, err)
	}
	if u.Query().Get("issuer") != "Propusk" || !strings.Contains(u.Path, "anna") {
		t.Errorf("otpauth link %q lacks issuer=Propusk or the username", link)
	}
	otpKey, err := otp.NewKeyFromURL(link)
	if err != nil {
		t.Fatalf("otpauth link %q: %v", link, err)
	}
	if otpKey.Issuer() != "Propusk" || otpKey.AccountName() != "anna" {
		t.Errorf("otpauth key: issuer %q account %q", otpKey.Issuer(), otpKey.AccountName())
	}
	if strings.ReplaceAll(key, " ", "") != otpKey.Secret() {
		t.Errorf("the key shown %q is not the link's secret %q", key, otpKey.Secret())
	}

	// The code field, then the app's current code.
	c.mustAttr("input#code", "autocomplete", "one-time-code")
	c.mustAttr("input#code", "inputmode", "numeric")
	c.mustAttr("label[for=code]", "for", "code")
	c.typeInto("input#code", appCode(t, otpKey.Secret(), time.Now()))
	c.clickAndLoad(enrolFormSubmit)

	// The recovery codes, shown once.
	c.snapshot("recovery-codes-" + lang.code)
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
	if len(nodes) != 10 {
		t.Errorf("%d recovery codes shown, want 10", len(nodes))
	}
	for i := range nodes {
		code := strings.TrimSpace(chromeText(c, "ol.ref li:nth-child("+strconv.Itoa(i+1)+") code"))
		if !recoveryCodeRE.MatchString(code) {
			t.Errorf("recovery code %d %q is not XXXX-XXXX-XXXX", i+1, code)
		}
	}
	if got := strings.TrimSpace(chromeText(c, `a[href^="/login/continue"]`)); got != msg.T("recovery_codes.continue") {
		t.Errorf("continue link text %q, want %q", got, msg.T("recovery_codes.continue"))
	}
	c.clickAndLoad(`a[href^="/login/continue"]`)

	// The client is not first-party: consent, then the relying party.
	expectConsent(t, c, lang)
	allowOnPage(c)
	q := f.rp.response(t, c)
	if q.Get("code") == "" || q.Get("state") != f.state || q.Get("iss") != f.p.issuer {
		t.Fatalf("authorization response %v; want a code, state %q and iss %q", q, f.state, f.p.issuer)
	}
	provider, err := oidc.NewProvider(t.Context(), f.p.issuer)
	if err != nil {
		t.Fatal(err)
	}
	acr, amr := idTokenAuth(t, t.Context(), f.cfg, provider, q.Get("code"), f.pkce)
	if !strings.HasSuffix(acr, ":mfa") || acr != "urn:propusk:acr:standard:mfa" || strings.Join(amr, " ") != "pwd otp" {
		t.Errorf("ID token: acr %q amr %q; want urn:propusk:acr:standard:mfa and [pwd otp]", acr, amr)
	}
}

// chromeEval runs a JavaScript expression of the test harness (not of the
// page, which has none) and returns its value.
func chromeEval[T any](c *chrome, expr string) T {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		c.t.Fatalf("evaluate %s: %v (at %s)", expr, err, c.location())
	}
	return v
}

// chromeText is the visible text of the first element that matches sel.
func chromeText(c *chrome, sel string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, actionTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		c.t.Fatalf("text of %s: %v (at %s)", sel, err, c.location())
	}
	return s
}
