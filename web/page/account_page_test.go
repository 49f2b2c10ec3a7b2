package page

import (
	"regexp"
	"strings"
	"testing"

	"golang.org/x/text/language"
)

// accountPage renders the account page with v in lang and checks what every
// page must satisfy: the right lang, no key missing or shown raw, no script
// and no inline style.
func accountPage(t *testing.T, rd *Renderer, raw *regexp.Regexp, lang language.Tag, v any) string {
	t.Helper()
	missingKeys()
	body := render(t, rd, lang, AccountPage, v, "/account").Body.String()
	if want := `<html lang="` + lang.String() + `">`; !strings.Contains(body, want) {
		t.Errorf("account/%s: no %s", lang, want)
	}
	if m := unsafeMarkup.FindString(body); m != "" {
		t.Errorf("account/%s: %q in page:\n%s", lang, m, body)
	}
	if m := raw.FindString(body); m != "" {
		t.Errorf("account/%s: raw message key %q in page:\n%s", lang, m, body)
	}
	if got := missingKeys(); len(got) > 0 {
		t.Errorf("account/%s: missing message keys %v", lang, got)
	}
	return body
}

func sampleAccountView() AccountView {
	return AccountView{
		CSRFToken: "csrf-<1>", Username: "anna@example.org", Name: "Анна Иванова",
		Authenticators: []AuthenticatorView{
			{ID: "0f1e2d3c", Name: "телефон", Added: "2025-01-02", LastUsed: "2025-03-04"},
			{ID: "4b5a6978", Name: "<planshet>", Added: "2025-02-03"},
		},
		RecoveryCodesLeft: 8,
		FreshSignIn:       true,
	}
}

func TestAccountPage(t *testing.T) {
	rd := newRenderer(t)
	raw := rawKeyPattern(t)
	for _, lang := range SupportedLanguages() {
		what := "account/" + lang.String()
		body := accountPage(t, rd, raw, lang, sampleAccountView())
		wantIn(t, what, body,
			`<title>`+text(lang, "account.title")+` · `,
			`<h1>`+text(lang, "account.heading")+`</h1>`,
			text(lang, "account.signed_in_named", "Анна Иванова", "anna@example.org"),
			`<a href="/oauth2/sessions/logout">`+text(lang, "account.sign_out")+`</a>`,
			// Every form, with its csrf.
			`<form method="post" action="/account/authenticators/remove">`+"\n"+`<input type="hidden" name="csrf" value="csrf-&lt;1&gt;">`,
			`<form method="post" action="/account/authenticators">`+"\n"+`<input type="hidden" name="csrf" value="csrf-&lt;1&gt;">`,
			`<form method="post" action="/account/recovery-codes">`+"\n"+`<input type="hidden" name="csrf" value="csrf-&lt;1&gt;">`,
			`<form method="post" action="/account/password">`+"\n"+`<input type="hidden" name="csrf" value="csrf-&lt;1&gt;">`,
			// Each authenticator, with its own remove form.
			`<input type="hidden" name="authenticator" value="0f1e2d3c">`,
			`<input type="hidden" name="authenticator" value="4b5a6978">`,
			`<strong id="authenticator-0">телефон</strong>`,
			`<strong id="authenticator-1">&lt;planshet&gt;</strong>`,
			text(lang, "account.mfa.added", "2025-01-02"), text(lang, "account.mfa.last_used", "2025-03-04"),
			text(lang, "account.mfa.added", "2025-02-03"), text(lang, "account.mfa.never_used"),
			`aria-describedby="authenticator-1">`+text(lang, "account.mfa.remove")+`</button>`,
			// Adding one.
			`<label for="authenticator-name">`+text(lang, "account.mfa.name")+`</label>`,
			`<input id="authenticator-name" name="name" type="text" maxlength="64" autocomplete="off">`,
			`<button type="submit" class="primary">`+text(lang, "account.mfa.add")+`</button>`,
			// Recovery codes.
			text(lang, "account.codes.left", 8), text(lang, "account.codes.replace"),
			text(lang, "account.codes.create")+`</button>`,
			// Password: the account's name for password managers, then the two fields.
			`autocomplete="username" hidden>`,
			`<label for="current_password">`+text(lang, "account.password.current")+`</label>`,
			`<input id="current_password" name="current_password" type="password" autocomplete="current-password" required>`,
			`<label for="new_password">`+text(lang, "account.password.new")+`</label>`,
			`id="new-password-rules">`+text(lang, "account.password.rules")+`</p>`,
			`<input id="new_password" name="new_password" type="password" autocomplete="new-password" required aria-describedby="new-password-rules">`,
			text(lang, "account.password.submit")+`</button>`,
		)
		if n := strings.Count(body, `<input type="hidden" name="csrf"`); n != 5 {
			t.Errorf("%s: %d csrf fields, want 5 (two remove forms, add, codes, password)", what, n)
		}
		if n := strings.Count(body, `<form method="post"`); n != 5 {
			t.Errorf("%s: %d forms, want 5", what, n)
		}
		wantNotIn(t, what, body,
			`role="alert"`, `role="status"`, `aria-invalid`,
			text(lang, "account.mfa.recommend"), text(lang, "account.mfa.remove_last"),
			text(lang, "account.codes.urge"), text(lang, "account.codes.urge_none"),
			text(lang, "account.reauth"),
		)
		// The name shows after all, and the username alone without one.
		v := sampleAccountView()
		v.Name = ""
		body = accountPage(t, rd, raw, lang, &v)
		wantIn(t, what+" without a name", body, text(lang, "account.signed_in", "anna@example.org"))
	}
}

func TestAccountPageRecommendsAnApp(t *testing.T) {
	rd := newRenderer(t)
	raw := rawKeyPattern(t)
	for _, lang := range SupportedLanguages() {
		what := "account/" + lang.String() + " without an app"
		body := accountPage(t, rd, raw, lang, AccountView{CSRFToken: "c", Username: "anna", FreshSignIn: true})
		wantIn(t, what, body,
			`<div class="alert" role="note">`,
			text(lang, "account.mfa.recommend_title"), text(lang, "account.mfa.recommend"),
			`<form method="post" action="/account/authenticators">`,
			`<form method="post" action="/account/password">`,
		)
		if sms := map[string]string{"ru": "СМС", "en": "SMS"}[lang.String()]; sms != "" && !strings.Contains(body, sms) {
			t.Errorf("%s: the recommendation does not say why not %s", what, sms)
		}
		// No codes without an app, and nothing to remove.
		wantNotIn(t, what, body,
			`action="/account/recovery-codes"`, `action="/account/authenticators/remove"`, `name="authenticator"`,
			text(lang, "account.codes.heading"), text(lang, "account.mfa.on"),
		)
		if i, j := strings.Index(body, text(lang, "account.mfa.recommend")), strings.Index(body, `action="/account/authenticators"`); i < 0 || i > j {
			t.Errorf("%s: the recommendation is not before the form to set up an app", what)
		}

		what = "account/" + lang.String() + " with one app"
		body = accountPage(t, rd, raw, lang, AccountView{CSRFToken: "c", Username: "anna", FreshSignIn: true, RecoveryCodesLeft: 10,
			Authenticators: []AuthenticatorView{{ID: "id-1", Added: "2025-01-02"}}})
		wantNotIn(t, what, body, `role="note"`, text(lang, "account.mfa.recommend"))
		wantIn(t, what, body,
			`<input type="hidden" name="authenticator" value="id-1">`,
			`<strong id="authenticator-0">`+text(lang, "account.mfa.unnamed")+`</strong>`,
			text(lang, "account.mfa.remove_last"),
			`action="/account/recovery-codes"`,
		)
	}
}

func TestAccountPageRecoveryCodesUrge(t *testing.T) {
	rd := newRenderer(t)
	raw := rawKeyPattern(t)
	for _, lang := range SupportedLanguages() {
		for left := range 11 {
			what := "account/" + lang.String() + " with " + text(lang, "account.codes.left", left)
			v := sampleAccountView()
			v.RecoveryCodesLeft = left
			body := accountPage(t, rd, raw, lang, v)
			wantIn(t, what, body, text(lang, "account.codes.left", left))
			switch {
			case left == 0:
				wantIn(t, what, body, `<p class="alert" role="note">`+text(lang, "account.codes.urge_none")+`</p>`)
				wantNotIn(t, what, body, text(lang, "account.codes.urge")+"<")
			case left <= 2:
				wantIn(t, what, body, `<p class="alert" role="note">`+text(lang, "account.codes.urge")+`</p>`)
				wantNotIn(t, what, body, text(lang, "account.codes.urge_none"))
			default:
				wantNotIn(t, what, body, `role="note"`, text(lang, "account.codes.urge"), text(lang, "account.codes.urge_none"))
			}
		}
	}
}

func TestAccountPageMessages(t *testing.T) {
	rd := newRenderer(t)
	raw := rawKeyPattern(t)
	for _, lang := range SupportedLanguages() {
		what := "account/" + lang.String()
		for _, key := range []string{"account.notice.added", "account.notice.removed", "account.notice.password_changed", "account.notice.codes_created"} {
			v := sampleAccountView()
			v.NoticeKey = key
			body := accountPage(t, rd, raw, lang, v)
			wantIn(t, what+" "+key, body, `<p class="lead" role="status">`+text(lang, key)+`</p>`)
			wantNotIn(t, what+" "+key, body, `role="alert"`)
		}

		v := sampleAccountView()
		v.ErrorKey = "account.error.password_wrong"
		body := accountPage(t, rd, raw, lang, v)
		wantIn(t, what+" wrong password", body,
			`<p class="alert" role="alert" id="account-error">`+text(lang, "account.error.password_wrong")+`</p>`,
			`autocomplete="current-password" required aria-describedby="account-error" aria-invalid="true">`,
		)
		wantNotIn(t, what+" wrong password", body, `role="status"`)

		v.ErrorKey = "account.error.name"
		body = accountPage(t, rd, raw, lang, v)
		wantIn(t, what+" name too long", body,
			`<p class="alert" role="alert" id="account-error">`+text(lang, "account.error.name")+`</p>`,
			`name="name" type="text" maxlength="64" autocomplete="off" aria-describedby="account-error" aria-invalid="true">`,
		)
		if !strings.Contains(text(lang, "account.error.name"), "64") {
			t.Errorf("%s: the name error does not say 64", what)
		}

		v = sampleAccountView()
		v.PasswordProblems = []string{"password.too_short", "password.too_long", "password.equals_username", "password.invalid_utf8"}
		body = accountPage(t, rd, raw, lang, v)
		wantIn(t, what+" password problems", body,
			`<div class="alert" role="alert" id="new-password-problems">`,
			`<li>`+text(lang, "password.too_short")+`</li>`,
			`<li>`+text(lang, "password.too_long")+`</li>`,
			`<li>`+text(lang, "password.equals_username")+`</li>`,
			`<li>`+text(lang, "password.invalid_utf8")+`</li>`,
			`autocomplete="new-password" required aria-describedby="new-password-rules new-password-problems" aria-invalid="true">`,
		)
		alert := body[strings.Index(body, `id="new-password-problems"`):]
		alert = alert[:strings.Index(alert, "</div>")]
		if n := strings.Count(alert, "<li>"); n != 4 {
			t.Errorf("%s: %d password problems in the alert, want 4", what, n)
		}
		for _, n := range []string{"10", "128"} {
			if !strings.Contains(text(lang, "account.password.rules"), n) {
				t.Errorf("%s: the password rules do not say %s", what, n)
			}
		}
	}
}

// Until the last sign-in is fresh, each sensitive section says a new
// sign-in comes first.
func TestAccountPageAsksForAFreshSignIn(t *testing.T) {
	rd := newRenderer(t)
	raw := rawKeyPattern(t)
	for _, lang := range SupportedLanguages() {
		v := sampleAccountView()
		v.FreshSignIn = false
		body := accountPage(t, rd, raw, lang, v)
		note := `<p class="muted small">` + text(lang, "account.reauth") + `</p>`
		if n := strings.Count(body, note); n != 3 {
			t.Errorf("account/%s: the sign-in note shows %d times, want 3 (app, codes, password)", lang, n)
		}
		for _, section := range []string{`id="mfa-heading"`, `id="codes-heading"`, `id="password-heading"`} {
			rest := body[strings.Index(body, section):]
			if !strings.HasPrefix(rest[strings.Index(rest, "</h2>")+len("</h2>\n"):], note) {
				t.Errorf("account/%s: no sign-in note right under %s", lang, section)
			}
		}
		if !strings.Contains(text(lang, "account.reauth"), map[string]string{"ru": "пяти минут", "en": "five minutes"}[lang.String()]) {
			t.Errorf("account/%s: the note does not say five minutes", lang)
		}

		v.Authenticators = nil
		body = accountPage(t, rd, raw, lang, v)
		if n := strings.Count(body, note); n != 2 {
			t.Errorf("account/%s without an app: the sign-in note shows %d times, want 2", lang, n)
		}
	}
}

// The services the person allowed: each named, with what it receives,
// since when, and its own withdraw form; a line saying there are none
// otherwise.
func TestAccountPageServices(t *testing.T) {
	rd := newRenderer(t)
	raw := rawKeyPattern(t)
	for _, lang := range SupportedLanguages() {
		what := "account/" + lang.String() + " with services"
		v := sampleAccountView()
		v.Services = []ServiceView{
			{ClientID: "card-1", Name: "Compatriot <card>", Since: "2025-04-05",
				Scopes: []ScopeView{{"openid"}, {"profile"}, {"offline_access"}}},
			{ClientID: "mail&2", Name: "Консульство", Since: "2025-05-06", Scopes: []ScopeView{{"openid"}, {"payments:read"}}},
		}
		body := accountPage(t, rd, raw, lang, v)
		wantIn(t, what, body,
			`<h2 id="services-heading">`+text(lang, "account.services.heading")+`</h2>`,
			text(lang, "account.services.explain"),
			`<strong id="service-0">Compatriot &lt;card&gt;</strong>`,
			`<strong id="service-1">Консульство</strong>`,
			text(lang, "account.services.since", "2025-04-05"), text(lang, "account.services.since", "2025-05-06"),
			`<li>`+text(lang, "scope.openid")+`</li>`+"\n"+`<li>`+text(lang, "scope.profile")+`</li>`+"\n"+`<li>`+text(lang, "scope.offline_access")+`</li>`,
			`<li>`+text(lang, "scope.unknown", "payments:read")+`</li>`,
			`<form method="post" action="/account/services/withdraw">`+"\n"+`<input type="hidden" name="csrf" value="csrf-&lt;1&gt;">`+"\n"+`<input type="hidden" name="client" value="card-1">`,
			`<input type="hidden" name="client" value="mail&amp;2">`,
			`aria-describedby="service-1 services-withdraw-hint">`+text(lang, "account.services.withdraw")+`</button>`,
			`<p class="muted small" id="services-withdraw-hint">`+text(lang, "account.services.withdraw_hint")+`</p>`,
		)
		wantNotIn(t, what, body, text(lang, "account.services.none"))
		if n := strings.Count(body, `action="/account/services/withdraw"`); n != 2 {
			t.Errorf("%s: %d withdraw forms, want 2", what, n)
		}
		// Withdrawing only takes access away: no new sign-in asked for it.
		v.FreshSignIn = false
		body = accountPage(t, rd, raw, lang, v)
		if rest := body[strings.Index(body, `id="services-heading"`):]; strings.Contains(rest, text(lang, "account.reauth")) {
			t.Errorf("%s: the services section asks for a new sign-in", what)
		}

		what = "account/" + lang.String() + " without services"
		body = accountPage(t, rd, raw, lang, sampleAccountView())
		wantIn(t, what, body, `<h2 id="services-heading">`, `<p>`+text(lang, "account.services.none")+`</p>`)
		wantNotIn(t, what, body, `action="/account/services/withdraw"`, text(lang, "account.services.explain"), `id="services-withdraw-hint"`)

		what = "account/" + lang.String() + " after withdrawing"
		v = sampleAccountView()
		v.NoticeKey, v.NoticeArg = "account.notice.withdrawn", "Compatriot <card>"
		body = accountPage(t, rd, raw, lang, v)
		wantIn(t, what, body, `<p class="lead" role="status">`+text(lang, "account.notice.withdrawn", "Compatriot <card>")+`</p>`)
		if !strings.Contains(body, "Compatriot &lt;card&gt;") || strings.Contains(body, "%!") {
			t.Errorf("%s: the notice does not name the service:\n%s", what, body)
		}
	}
}
