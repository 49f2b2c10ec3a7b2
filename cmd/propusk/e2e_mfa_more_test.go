package main

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"golang.org/x/oauth2"
	"golang.org/x/text/language"

	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/internal/testdb"
	"github.com/propusk/propusk/mfa"
	"github.com/propusk/propusk/web/page"
)

// More end-to-end tests of the second factor: the lock-out shared by
// nodes, bad input on the enrolment page, a client whose registered
// minimum demands a second factor, and prompt=none that would need one.

// english is the catalogue the pages of these tests speak (ui_locales=en).
var english = page.NewLocalizer(language.English)

var uiEnglish = oauth2.SetAuthURLParam("ui_locales", "en")

// enterPassword opens the authorization URL and submits the right password
// on the login page; it returns the page that follows.
func (b *browser) enterPassword(authURL, username string) browserPage {
	b.t.Helper()
	pg := b.get(authURL)
	if !strings.HasSuffix(pg.url.Path, "/login") {
		b.t.Fatalf("expected the login page, got %d %s:\n%s", pg.status, pg.url, pg.body)
	}
	return b.submit(pg, "/login", url.Values{"username": {username}, "password": {"correct horse battery"}})
}

// codeOutsideWindow is six digits the app does not show at any step the
// server accepts now: a wrong code that is certainly wrong.
func codeOutsideWindow(t *testing.T, secret string) string {
	t.Helper()
	near := map[string]bool{}
	for d := -3; d <= 3; d++ {
		near[appCode(t, secret, time.Now().Add(time.Duration(d)*30*time.Second))] = true
	}
	for _, c := range []string{"000000", "111111", "222222", "333333", "444444", "555555", "666666", "777777"} {
		if !near[c] {
			return c
		}
	}
	t.Fatal("every candidate code is in the window")
	return ""
}

// pageShows reports whether the page's text (character references
// resolved) contains s.
func pageShows(p browserPage, s string) bool {
	return strings.Contains(html.UnescapeString(p.body), s)
}

var (
	otpauthLinkRE = regexp.MustCompile(`href="(otpauth://[^"]+)"`)
	continueRE    = regexp.MustCompile(`href="(/login/continue\?flow=[^"]+)"`)
)

// enrolmentOnPage reads the enrolment page: the enrolment's ID (a hidden
// field) and the secret of its otpauth link.
func enrolmentOnPage(t *testing.T, p browserPage) (id, secret string) {
	t.Helper()
	if !strings.HasSuffix(p.url.Path, "/login/enrol") {
		t.Fatalf("expected the enrolment page, got %d %s:\n%s", p.status, p.url, p.body)
	}
	for _, m := range inputRE.FindAllStringSubmatch(p.body, -1) {
		if m[1] == "enrolment" {
			id = m[2]
		}
	}
	m := otpauthLinkRE.FindStringSubmatch(p.body)
	if id == "" || m == nil {
		t.Fatalf("enrolment page lacks the enrolment field or the otpauth link:\n%s", p.body)
	}
	key, err := otp.NewKeyFromURL(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return id, key.Secret()
}

// Two nodes on one database count one person's wrong codes together: the
// lock-out cannot be dodged by a load balancer spreading the guesses.
func TestEndToEndSecondFactorThrottleAcrossNodes(t *testing.T) {
	ctx := t.Context()
	db := testdb.Postgres(t)
	ring := newRing(t)
	a, b := startIDP(t, db, ring), startIDP(t, db, ring)
	id := a.person(t, "raisa", "standard")
	secret := a.enrolApp(t, id, "raisa")
	cfg, _ := a.rp(t, clients.Registration{FirstParty: true})
	cfgB := *cfg
	cfgB.Endpoint.AuthURL = strings.Replace(cfg.Endpoint.AuthURL, a.issuer, b.issuer, 1)
	pkce := oauth2.GenerateVerifier()

	// Each browser signs in with the password on its own node.
	nodes := []struct {
		name string
		p    *idp
		br   *browser
		page browserPage
	}{{name: "A", p: a, br: newBrowser(t)}, {name: "B", p: b, br: newBrowser(t)}}
	for i, cf := range []*oauth2.Config{cfg, &cfgB} {
		n := &nodes[i]
		n.page = n.br.enterPassword(cf.AuthCodeURL("s-node-"+n.name, oauth2.S256ChallengeOption(pkce), uiEnglish), "raisa")
		if !strings.HasSuffix(n.page.url.Path, "/login/otp") || n.page.url.Host != strings.TrimPrefix(n.p.issuer, "http://") {
			t.Fatalf("node %s: after the password, %d %s", n.name, n.page.status, n.page.url)
		}
	}

	wrong := codeOutsideWindow(t, secret)
	locked := strings.SplitAfter(english.T("mfa.error.locked", 0), ".")[0] // "Too many wrong codes."
	for i := range mfa.FreeFailures {
		n := &nodes[i%2]
		n.page = n.br.submit(n.page, "/login/otp", url.Values{"code": {wrong}})
		if n.page.loc != nil || !strings.Contains(n.page.body, `role="alert"`) {
			t.Fatalf("wrong code %d on node %s: %d %v", i+1, n.name, n.page.status, n.page.loc)
		}
		if i < mfa.FreeFailures-1 {
			if n.page.status != http.StatusUnauthorized || !pageShows(n.page, english.T("mfa.error.wrong")) {
				t.Fatalf("wrong code %d on node %s: %d, want 401 and the wrong-code message:\n%s", i+1, n.name, n.page.status, n.page.body)
			}
		} else if n.page.status != http.StatusTooManyRequests || !pageShows(n.page, locked) {
			// The failure that reaches the limit answers with the lock.
			t.Fatalf("wrong code %d (the last free one) on node %s: %d, want 429 and %q:\n%s", i+1, n.name, n.page.status, locked, n.page.body)
		}
	}
	st, err := db.GetMFAState(ctx, id)
	if err != nil || st.Failures != mfa.FreeFailures || !st.LockedUntil.After(time.Now()) {
		t.Fatalf("after %d wrong codes on two nodes: state %+v, %v", mfa.FreeFailures, st, err)
	}

	// Now the right code is refused on either node, and not counted.
	right := appCode(t, secret, time.Now().Add(30*time.Second))
	for i := range nodes {
		n := &nodes[i]
		pg := n.br.submit(n.page, "/login/otp", url.Values{"code": {right}})
		if pg.loc != nil || pg.status != http.StatusTooManyRequests || !strings.Contains(pg.body, `role="alert"`) || !pageShows(pg, locked) {
			t.Fatalf("right code on node %s while locked: %d %v, want 429 and %q:\n%s", n.name, pg.status, pg.loc, locked, pg.body)
		}
		n.page = pg
	}
	if st2, _ := db.GetMFAState(ctx, id); st2.Failures != st.Failures || st2.TotalFailures != st.TotalFailures {
		t.Errorf("attempts while locked were counted: %+v, before %+v", st2, st)
	}
	// Nobody is signed in.
	for _, n := range nodes {
		if none := n.br.get(cfg.AuthCodeURL("s-none-1", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("prompt", "none"))); none.loc == nil || none.loc.Query().Get("error") != "login_required" {
			t.Fatalf("node %s's browser has a session after the lock: %d %v", n.name, none.status, none.loc)
		}
	}
	if ev, _ := db.ListAudit(ctx, auditFilter(id, "mfa.locked")); len(ev) == 0 {
		t.Error("the lock-out is not in the audit log (mfa.locked)")
	}
	if ev, _ := db.ListAudit(ctx, auditFilter(id, "mfa.failed")); len(ev) != mfa.FreeFailures {
		t.Errorf("%d mfa.failed events, want %d", len(ev), mfa.FreeFailures)
	}
}

// Bad input on the enrolment page inside a sign-in: no CSRF token, a wrong
// code, malformed codes, and a second tab.
func TestEndToEndEnrolmentBadInput(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		ctx := t.Context()
		id := p.person(t, "semyon", "standard")
		cfg, provider := p.rp(t, clients.Registration{FirstParty: true})
		svc := p.mfaService(t)
		pkce := oauth2.GenerateVerifier()
		br := newBrowser(t)
		failures := func() int {
			t.Helper()
			st, err := p.db.GetMFAState(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return st.Failures
		}
		confirmed := func() (ids []string) {
			t.Helper()
			all, err := svc.List(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range all {
				if !a.ConfirmedAt.IsZero() {
					ids = append(ids, a.ID)
				}
			}
			return ids
		}

		pg := br.enterPassword(cfg.AuthCodeURL("s-enrol-1", oauth2.S256ChallengeOption(pkce), uiEnglish,
			oauth2.SetAuthURLParam("acr_values", "urn:propusk:acr:standard:mfa")), "semyon")
		enrolID, secret := enrolmentOnPage(t, pg)
		enrolURL := p.issuer + "/login/enrol?" + url.Values{"flow": {pg.url.Query().Get("flow")}}.Encode()

		// Without the CSRF field: refused, even with the right code; the
		// same enrolment again with a notice, not an error page.
		noCSRF := br.submit(browserPage{url: pg.url, body: strings.ReplaceAll(pg.body, `name="csrf"`, `name="x"`)}, "/login/enrol",
			url.Values{"code": {appCode(t, secret, time.Now())}})
		if noCSRF.status != http.StatusForbidden || !pageShows(noCSRF, english.T("mfa.error.stale")) {
			t.Fatalf("enrolment without the CSRF field: %d, want 403 and the page with the stale-form notice:\n%s", noCSRF.status, noCSRF.body)
		}
		if again, _ := enrolmentOnPage(t, noCSRF); again != enrolID {
			t.Error("the enrolment page after a form without its token shows a new secret to scan")
		}
		if ids := confirmed(); len(ids) != 0 {
			t.Fatalf("an authenticator was confirmed by a form without its CSRF token: %v", ids)
		}

		// A wrong code: the page again, with the alert, counted.
		wrongPage := br.submit(pg, "/login/enrol", url.Values{"code": {codeOutsideWindow(t, secret)}})
		if wrongPage.status != http.StatusUnauthorized || !strings.Contains(wrongPage.body, `role="alert"`) || !pageShows(wrongPage, english.T("mfa.error.wrong")) {
			t.Fatalf("wrong code on the enrolment page: %d:\n%s", wrongPage.status, wrongPage.body)
		}
		// The same enrolment again: the entry the person just made in the
		// app keeps working.
		if id2, _ := enrolmentOnPage(t, wrongPage); id2 != enrolID {
			t.Error("the enrolment page after a wrong code shows a new secret to scan")
		}
		if n := failures(); n != 1 {
			t.Fatalf("failures after one wrong code: %d", n)
		}

		// Malformed codes: the message, nothing counted.
		cur := wrongPage
		for _, code := range []string{"12a456", "abcdef", "12345", "1234567", "123 4567", "１２３４５６"} {
			cur = br.submit(cur, "/login/enrol", url.Values{"code": {code}})
			if cur.status != http.StatusBadRequest || !strings.Contains(cur.body, `role="alert"`) || !pageShows(cur, english.T("mfa.error.malformed")) {
				t.Fatalf("code %q: %d, want 400 and the malformed message:\n%s", code, cur.status, cur.body)
			}
			if n := failures(); n != 1 {
				t.Fatalf("code %q was counted as a failure: %d", code, n)
			}
		}

		// A second tab: two showings, two enrolments, one form token; the
		// older tab's form is accepted, and then the newer one's is refused
		// (the flow has moved on).
		tab1 := br.get(enrolURL)
		tab2 := br.get(enrolURL)
		id1, secret1 := enrolmentOnPage(t, tab1)
		id2, secret2 := enrolmentOnPage(t, tab2)
		if id1 == id2 || secret1 == secret2 {
			t.Fatalf("two showings of the enrolment page share an enrolment: %s %s", id1, id2)
		}
		if hiddenField(tab1, "csrf") != hiddenField(tab2, "csrf") {
			t.Error("two showings of a flow's page in one browser carry different form tokens")
		}
		codes := br.submit(tab1, "/login/enrol", url.Values{"code": {appCode(t, secret1, time.Now())}})
		if codes.status != http.StatusOK || strings.Count(codes.body, "<code>") != mfa.RecoveryCodeCount {
			t.Fatalf("confirming in the older tab: %d, want the %d recovery codes:\n%s", codes.status, mfa.RecoveryCodeCount, codes.body)
		}
		again := br.submit(tab2, "/login/enrol", url.Values{"code": {appCode(t, secret2, time.Now())}})
		if again.loc != nil || again.status != http.StatusBadRequest || !pageShows(again, english.T("error.flow_expired.title")) {
			t.Errorf("the newer tab after the older one confirmed: %d %s %v, want the expired page", again.status, again.url, again.loc)
		}
		if ids := confirmed(); len(ids) != 1 || ids[0] != id1 {
			t.Fatalf("confirmed authenticators %v, want exactly the older tab's %s", ids, id1)
		}
		if n := failures(); n != 0 {
			t.Errorf("failures after a successful enrolment: %d, want 0", n)
		}

		// The newer tab goes on to the relying party.
		next := continueRE.FindStringSubmatch(codes.body)
		if next == nil {
			t.Fatalf("no continue link:\n%s", codes.body)
		}
		back := br.get(p.issuer + html.UnescapeString(next[1]))
		if back.loc == nil || back.loc.Query().Get("code") == "" {
			t.Fatalf("continue: %d %s %v", back.status, back.url, back.loc)
		}
		if acr, amr := idTokenAuth(t, ctx, cfg, provider, back.loc.Query().Get("code"), pkce); acr != "urn:propusk:acr:standard:mfa" || strings.Join(amr, " ") != "pwd otp" {
			t.Fatalf("after enrolment: acr %q amr %v", acr, amr)
		}
	})
}

// A client registered with a minimum of standard:mfa: an enrolled person at
// level standard signs in with the password and the code; a person at
// level simplified cannot meet it, and the client is told so.
func TestEndToEndClientRequiresSecondFactor(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		ctx := t.Context()
		id := p.person(t, "taisia", "standard")
		secret := p.enrolApp(t, id, "taisia")
		p.person(t, "ulyana", "simplified")
		cfg, provider := p.rp(t, clients.Registration{FirstParty: true, MinimumACR: "standard:mfa"})
		pkce := oauth2.GenerateVerifier()

		br := newBrowser(t)
		pg := br.enterPassword(cfg.AuthCodeURL("s-min-acr-1", oauth2.S256ChallengeOption(pkce)), "taisia")
		if !strings.HasSuffix(pg.url.Path, "/login/otp") {
			t.Fatalf("after the password: %d %s", pg.status, pg.url)
		}
		back := br.submit(pg, "/login/otp", url.Values{"code": {appCode(t, secret, time.Now().Add(30*time.Second))}})
		if back.loc == nil || back.loc.Query().Get("code") == "" || back.loc.Query().Get("state") != "s-min-acr-1" {
			t.Fatalf("after the code: %d %s %v", back.status, back.url, back.loc)
		}
		if acr, amr := idTokenAuth(t, ctx, cfg, provider, back.loc.Query().Get("code"), pkce); acr != "urn:propusk:acr:standard:mfa" || strings.Join(amr, " ") != "pwd otp" {
			t.Fatalf("ID token: acr %q amr %v", acr, amr)
		}
		// The session meets the minimum: single sign-on with no page.
		if again := br.get(cfg.AuthCodeURL("s-min-acr-2", oauth2.S256ChallengeOption(pkce))); again.loc == nil || again.loc.Query().Get("code") == "" {
			t.Fatalf("SSO for the same client: %d %s %v", again.status, again.url, again.loc)
		}

		// Level simplified: a second factor would not help, so none is asked
		// for; the client gets the error after the sign-in.
		other := newBrowser(t)
		loc := other.signIn(cfg.AuthCodeURL("s-min-acr-3", oauth2.S256ChallengeOption(pkce)), "ulyana", "correct horse battery", nil)
		q := loc.Query()
		if q.Get("error") != "unmet_authentication_requirements" || q.Get("code") != "" || q.Get("state") != "s-min-acr-3" || q.Get("iss") != p.issuer {
			t.Fatalf("simplified account at a standard:mfa client: %s", loc)
		}
	})
}

// prompt=none cannot show the code page: a password-only session asked for
// a second factor answers interaction_required.
func TestEndToEndPromptNoneNeedsStepUp(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		id := p.person(t, "vadim", "standard")
		cfg, _ := p.rp(t, clients.Registration{FirstParty: true})
		pkce := oauth2.GenerateVerifier()
		br := newBrowser(t)
		back := br.signIn(cfg.AuthCodeURL("s-pwd-only", oauth2.S256ChallengeOption(pkce)), "vadim", "correct horse battery", nil)
		if back.Query().Get("code") == "" {
			t.Fatalf("password sign-in: %s", back)
		}
		none := func(state string, extra ...oauth2.AuthCodeOption) url.Values {
			t.Helper()
			opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("prompt", "none")}, extra...)
			pg := br.get(cfg.AuthCodeURL(state, opts...))
			if pg.loc == nil {
				t.Fatalf("prompt=none showed a page: %d %s\n%s", pg.status, pg.url, pg.body)
			}
			q := pg.loc.Query()
			if q.Get("state") != state || q.Get("iss") != p.issuer {
				t.Fatalf("prompt=none answer lacks state or iss: %s", pg.loc)
			}
			return q
		}
		if q := none("s-none-plain"); q.Get("code") == "" {
			t.Fatalf("prompt=none without acr_values: %v", q)
		}
		for _, acr := range []string{"urn:propusk:acr:standard:mfa", "urn:propusk:acr:simplified:mfa", "urn:propusk:acr:confirmed:mfa urn:propusk:acr:standard:mfa"} {
			if q := none("s-none-mfa", oauth2.SetAuthURLParam("acr_values", acr)); q.Get("error") != "interaction_required" || q.Get("code") != "" {
				t.Errorf("prompt=none with acr_values %q on a password-only session: %v, want interaction_required", acr, q)
			}
		}
		// A level the account does not have is not a matter of interaction.
		if q := none("s-none-level", oauth2.SetAuthURLParam("acr_values", "urn:propusk:acr:confirmed:mfa")); q.Get("error") != "unmet_authentication_requirements" {
			t.Errorf("prompt=none with a level above the account's: %v, want unmet_authentication_requirements", q)
		}

		// Once the person has an app, the same request without prompt=none
		// asks for its code (step-up), not for the password.
		secret := p.enrolApp(t, id, "vadim")
		if q := none("s-none-enrolled", oauth2.SetAuthURLParam("acr_values", "urn:propusk:acr:standard:mfa")); q.Get("error") != "interaction_required" {
			t.Errorf("prompt=none after enrolment, session still password-only: %v", q)
		}
		pg := br.get(cfg.AuthCodeURL("s-step-up", oauth2.S256ChallengeOption(pkce), uiEnglish, oauth2.SetAuthURLParam("acr_values", "urn:propusk:acr:standard:mfa")))
		if !strings.HasSuffix(pg.url.Path, "/login/otp") || !pageShows(pg, english.T("mfa.heading")) {
			t.Fatalf("step-up: %d %s\n%s", pg.status, pg.url, pg.body)
		}
		up := br.submit(pg, "/login/otp", url.Values{"code": {appCode(t, secret, time.Now().Add(30*time.Second))}})
		if up.loc == nil || up.loc.Query().Get("code") == "" {
			t.Fatalf("step-up code: %d %s %v", up.status, up.url, up.loc)
		}
		// The raised session answers prompt=none with acr …:mfa.
		if q := none("s-none-raised", oauth2.SetAuthURLParam("acr_values", "urn:propusk:acr:standard:mfa")); q.Get("code") == "" {
			t.Errorf("prompt=none with acr …:mfa on the raised session: %v", q)
		}
	})
}
