package main

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/mfa"
	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/web"
)

// mfaService is the second-factor service over the IdP's database, as the
// handler tree builds it.
func (p *idp) mfaService(t *testing.T) *mfa.Service {
	t.Helper()
	key, err := serverSecret(t.Context(), p.db, p.ring, recoveryKeyName, timeNow())
	if err != nil {
		t.Fatal(err)
	}
	return &mfa.Service{Store: p.db, Ring: p.ring, RecoveryKey: key}
}

// enrolApp enrols and confirms an authenticator for the account and
// returns its secret, as the person's phone would hold it.
func (p *idp) enrolApp(t *testing.T, accountID, username string) string {
	t.Helper()
	svc := p.mfaService(t)
	en, err := svc.Begin(t.Context(), accountID, username, "phone", false, mfa.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := otp.NewKeyFromURL(en.URL)
	// The enrolment burns the current step; sign-ins in the test use the
	// next steps (the server accepts one step of drift).
	if err := svc.Confirm(t.Context(), accountID, en.AuthenticatorID, appCode(t, key.Secret(), time.Now().Add(-30*time.Second)), false, mfa.Meta{}); err != nil {
		t.Fatal(err)
	}
	return key.Secret()
}

func appCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func idTokenAuth(t *testing.T, ctx context.Context, cfg *oauth2.Config, provider *oidc.Provider, code, pkce string) (acr string, amr []string) {
	t.Helper()
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(pkce))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: cfg.ClientID}).Verify(ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		ACR string   `json:"acr"`
		AMR []string `json:"amr"`
	}
	idt.Claims(&c)
	return c.ACR, c.AMR
}

func TestEndToEndSecondFactor(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		ctx := t.Context()
		id := p.person(t, "nina", "standard")
		secret := p.enrolApp(t, id, "nina")
		cfg, provider := p.rp(t, clients.Registration{FirstParty: true})
		pkce := oauth2.GenerateVerifier()
		br := newBrowser(t)

		// Password, then the code page (one-time-code input), then back.
		pg := br.get(cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(pkce)))
		pg = br.submit(pg, "/login", url.Values{"username": {"nina"}, "password": {"correct horse battery"}})
		if !strings.HasSuffix(pg.url.Path, "/login/otp") || !strings.Contains(pg.body, `autocomplete="one-time-code"`) || !strings.Contains(pg.body, `inputmode="numeric"`) {
			t.Fatalf("after the password: %d %s\n%s", pg.status, pg.url, pg.body)
		}
		// No session yet: a password alone signs nobody in.
		if none := br.get(cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("prompt", "none"))); none.loc == nil || none.loc.Query().Get("error") != "login_required" {
			t.Fatalf("session after the password only: %v", none.loc)
		}
		wrong := br.submit(pg, "/login/otp", url.Values{"code": {"12 34 5x"}})
		if wrong.status != 400 || !strings.Contains(wrong.body, `role="alert"`) {
			t.Fatalf("malformed code: %d", wrong.status)
		}
		c := appCode(t, secret, time.Now().Add(30*time.Second))
		back := br.submit(wrong, "/login/otp", url.Values{"code": {c[:3] + " " + c[3:]}})
		if back.loc == nil {
			t.Fatalf("right code: %d %s\n%s", back.status, back.url, back.body)
		}
		acr, amr := idTokenAuth(t, ctx, cfg, provider, back.loc.Query().Get("code"), pkce)
		if acr != "urn:propusk:acr:standard:mfa" || strings.Join(amr, " ") != "pwd otp" {
			t.Fatalf("acr %q amr %v", acr, amr)
		}

		// The same code again, in another sign-in: refused.
		other := newBrowser(t)
		pg = other.get(cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(pkce)))
		pg = other.submit(pg, "/login", url.Values{"username": {"nina"}, "password": {"correct horse battery"}})
		if replay := other.submit(pg, "/login/otp", url.Values{"code": {c}}); replay.loc != nil || !strings.Contains(replay.body, `role="alert"`) {
			t.Fatalf("replayed code: %d %v", replay.status, replay.loc)
		}
	})
}

// A password-only session asked for more gets the code page, not the
// password page; the session's acr rises.
func TestEndToEndStepUp(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		ctx := t.Context()
		p.person(t, "oleg", "standard")
		cfg, provider := p.rp(t, clients.Registration{FirstParty: true})
		pkce := oauth2.GenerateVerifier()
		br := newBrowser(t)
		back := br.signIn(cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(pkce)), "oleg", "correct horse battery", nil)
		if acr, _ := idTokenAuth(t, ctx, cfg, provider, back.Query().Get("code"), pkce); acr != "urn:propusk:acr:standard" {
			t.Fatalf("password-only acr %q", acr)
		}
		// Not enrolled yet: the step-up leads to enrolment.
		pg := br.get(cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("acr_values", "urn:propusk:acr:standard:mfa")))
		if !strings.HasSuffix(pg.url.Path, "/login/enrol") {
			t.Fatalf("step-up without an authenticator: %d %s", pg.status, pg.url)
		}
		m := regexp.MustCompile(`href="(otpauth://[^"]+)"`).FindStringSubmatch(pg.body)
		if m == nil || !strings.Contains(pg.body, `src="data:image/png;base64,`) {
			t.Fatalf("enrolment page lacks the otpauth link or the QR code:\n%s", pg.body)
		}
		key, err := otp.NewKeyFromURL(html.UnescapeString(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		codes := br.submit(pg, "/login/enrol", url.Values{"code": {appCode(t, key.Secret(), time.Now())}})
		if codes.status != 200 || strings.Count(codes.body, "<code>") < 10 {
			t.Fatalf("after enrolment, the recovery codes: %d\n%s", codes.status, codes.body)
		}
		next := regexp.MustCompile(`href="(/login/continue\?flow=[^"]+)"`).FindStringSubmatch(codes.body)
		if next == nil {
			t.Fatalf("no continue link:\n%s", codes.body)
		}
		back2 := br.get(p.issuer + html.UnescapeString(next[1]))
		if back2.loc == nil {
			t.Fatalf("continue: %d %s", back2.status, back2.url)
		}
		if acr, amr := idTokenAuth(t, ctx, cfg, provider, back2.loc.Query().Get("code"), pkce); acr != "urn:propusk:acr:standard:mfa" || len(amr) != 2 {
			t.Fatalf("after step-up: acr %q amr %v", acr, amr)
		}
		// The raised session now answers such requests without a page.
		if again := br.get(cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("acr_values", "urn:propusk:acr:standard:mfa"))); again.loc == nil {
			t.Fatalf("raised session asked again: %s", again.url)
		}
	})
}

// Setting up a first app inside a step-up trusts whoever holds the
// session; a session whose password is older than web.FreshSignIn (an
// unattended browser) is asked for the password first, then enrols.
func TestEndToEndStepUpEnrolmentNeedsRecentPassword(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		id := p.person(t, "vera", "standard")
		cfg, _ := p.rp(t, clients.Registration{FirstParty: true})
		pkce := oauth2.GenerateVerifier()
		br := newBrowser(t)
		br.signIn(cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(pkce)), "vera", "correct horse battery", nil)
		p.ageSignIn(t, br, web.FreshSignIn+time.Minute)

		pg := br.get(cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("acr_values", "urn:propusk:acr:standard:mfa")))
		if pg.url.Path != "/login" || strings.Contains(pg.body, "otpauth://") {
			t.Fatalf("step-up enrolment from a stale session: %d %s, want the password page", pg.status, pg.url)
		}
		if ok, _ := p.mfaService(t).Enrolled(t.Context(), id); ok {
			t.Fatal("enrolled without the password")
		}
		// The password again, then the enrolment page.
		en := br.submit(pg, "/login", url.Values{"username": {"vera"}, "password": {"correct horse battery"}})
		if !strings.HasSuffix(en.url.Path, "/login/enrol") || !strings.Contains(en.body, "otpauth://") {
			t.Fatalf("after the password: %d %s, want the enrolment page", en.status, en.url)
		}
	})
}

func TestEndToEndRecoveryCode(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		ctx := t.Context()
		id := p.person(t, "pavel", "simplified")
		p.enrolApp(t, id, "pavel")
		codes, err := p.mfaService(t).NewRecoveryCodes(ctx, id, mfa.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		cfg, provider := p.rp(t, clients.Registration{FirstParty: true})
		pkce := oauth2.GenerateVerifier()
		br := newBrowser(t)
		pg := br.get(cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(pkce)))
		pg = br.submit(pg, "/login", url.Values{"username": {"pavel"}, "password": {"correct horse battery"}})
		rec := br.get(p.issuer + "/login/recovery?" + pg.url.RawQuery)
		if !strings.Contains(rec.body, `name="code"`) {
			t.Fatalf("recovery page:\n%s", rec.body)
		}
		left := br.submit(rec, "/login/recovery", url.Values{"code": {strings.ToLower(codes[0])}})
		if left.status != 200 || !strings.Contains(left.body, "9") {
			t.Fatalf("after a recovery code: %d\n%s", left.status, left.body)
		}
		next := regexp.MustCompile(`href="(/login/continue\?flow=[^"]+)"`).FindStringSubmatch(left.body)
		back := br.get(p.issuer + html.UnescapeString(next[1]))
		if back.loc == nil {
			t.Fatalf("continue: %d", back.status)
		}
		if _, amr := idTokenAuth(t, ctx, cfg, provider, back.loc.Query().Get("code"), pkce); len(amr) != 2 {
			t.Fatalf("amr after a recovery code: %v", amr)
		}
		events, _ := p.db.ListAudit(ctx, auditFilter(id, "mfa.recovery_used"))
		if len(events) != 1 {
			t.Fatalf("recovery use not audited: %d events", len(events))
		}

		// The app removed while the recovery page is open: a code posted
		// then does not count, and the person is led to set up an app.
		br2 := newBrowser(t)
		pg = br2.submit(br2.get(cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(pkce))), "/login", url.Values{"username": {"pavel"}, "password": {"correct horse battery"}})
		rec = br2.get(p.issuer + "/login/recovery?" + pg.url.RawQuery)
		svc := p.mfaService(t)
		apps, err := svc.List(ctx, id)
		if err != nil || len(apps) != 1 {
			t.Fatalf("apps: %v %v", apps, err)
		}
		if err := svc.Remove(ctx, id, apps[0].ID, mfa.Meta{}); err != nil {
			t.Fatal(err)
		}
		late := br2.submit(rec, "/login/recovery", url.Values{"code": {codes[1]}})
		if late.url.Path != "/login/enrol" || strings.Contains(late.body, "/login/continue") {
			t.Fatalf("a recovery code after the last app was removed: %d %s", late.status, late.url)
		}
	})
}

func auditFilter(accountID, typ string) store.AuditFilter {
	return store.AuditFilter{AccountID: accountID, Type: typ}
}

// After an administrator's reset the next sign-in leads to setting up an
// authenticator again.
func TestEndToEndEnrolAfterReset(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		id := p.person(t, "rita", "simplified")
		p.enrolApp(t, id, "rita")
		if err := p.mfaService(t).Reset(t.Context(), id, "lost phone", mfa.Meta{ActorID: "admin:test"}); err != nil {
			t.Fatal(err)
		}
		cfg, _ := p.rp(t, clients.Registration{FirstParty: true})
		br := newBrowser(t)
		pg := br.get(cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		pg = br.submit(pg, "/login", url.Values{"username": {"rita"}, "password": {"correct horse battery"}})
		if !strings.HasSuffix(pg.url.Path, "/login/enrol") {
			t.Fatalf("sign-in after a reset: %d %s", pg.status, pg.url)
		}
	})
}

// Between the password and the second factor there is no SSO session yet;
// a cookie keeps the sign-in to the browser that gave the password. The
// flow's URL in another browser neither shows the enrolment (a new secret)
// nor takes a right code; the first browser then finishes.
func TestEndToEndSecondFactorStaysInTheBrowser(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		id := p.person(t, "inna", "standard")
		secret := p.enrolApp(t, id, "inna")
		p.person(t, "ivan", "standard") // no app yet: enrolment is next
		cfg, _ := p.rp(t, clients.Registration{FirstParty: true})
		pkce := oauth2.GenerateVerifier()
		authURL := cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("acr_values", "urn:propusk:acr:standard:mfa"))

		br := newBrowser(t)
		pg := br.submit(br.get(authURL), "/login", url.Values{"username": {"inna"}, "password": {"correct horse battery"}})
		if !strings.HasSuffix(pg.url.Path, "/login/otp") {
			t.Fatalf("after the password: %d %s", pg.status, pg.url)
		}
		other := newBrowser(t)
		seen := other.get(pg.url.String())
		if seen.status != http.StatusForbidden || strings.Contains(seen.body, `name="code"`) {
			t.Fatalf("the code page in another browser: %d\n%s", seen.status, seen.body)
		}
		// A right code posted from the other browser (with a form token
		// from the first) is refused and does not use up the time step.
		stolen := other.submit(pg, "/login/otp", url.Values{"code": {appCode(t, secret, time.Now())}})
		if stolen.status != http.StatusForbidden || stolen.loc != nil {
			t.Fatalf("a code from another browser: %d %v", stolen.status, stolen.loc)
		}
		if back := br.submit(pg, "/login/otp", url.Values{"code": {appCode(t, secret, time.Now())}}); back.loc == nil || back.loc.Query().Get("code") == "" {
			t.Fatalf("the code in the browser that gave the password: %d %s %v", back.status, back.url, back.loc)
		}

		// The same for an enrolment: no secret is shown elsewhere.
		br2 := newBrowser(t)
		en := br2.submit(br2.get(authURL), "/login", url.Values{"username": {"ivan"}, "password": {"correct horse battery"}})
		if en.url.Path != "/login/enrol" && !strings.HasSuffix(en.url.Path, "/login/otp") {
			t.Fatalf("after ivan's password: %d %s", en.status, en.url)
		}
		if leak := newBrowser(t).get(en.url.String()); leak.status != http.StatusForbidden || strings.Contains(leak.body, "otpauth://") {
			t.Fatalf("the enrolment page in another browser: %d\n%s", leak.status, leak.body)
		}
	})
}
