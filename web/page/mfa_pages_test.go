package page

import (
	"html"
	"html/template"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/language"
)

const (
	sampleQR      template.URL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
	sampleOTPAuth template.URL = "otpauth://totp/Propusk:anna%40example.org?secret=JBSWY3DPEHPK3PXP&issuer=Propusk&algorithm=SHA1&digits=6&period=30"
)

func sampleEnrolView() EnrolView {
	return EnrolView{
		Action: "/login/enrol?flow=flow-1", FlowID: "flow-1", CSRFToken: "csrf-2", EnrolmentID: "enr-3",
		QRCodeDataURI: sampleQR, Key: "JBSW Y3DP EHPK 3PXP", OTPAuthURL: sampleOTPAuth,
		Username: "anna@example.org",
	}
}

var (
	imgSrc      = regexp.MustCompile(`<img src="([^"]*)" width="256" height="256"`)
	otpauthHref = regexp.MustCompile(`<a href="(otpauth:[^"]*)">`)
)

var unsafeMarkup = regexp.MustCompile(`(?i)<script|\sstyle=|<style|\son[a-z]+=|javascript:|ZgotmplZ`)

// mfaPage renders page with view in lang and checks what every
// second-factor page must satisfy.
func mfaPage(t *testing.T, rd *Renderer, lang language.Tag, page string, view any) string {
	t.Helper()
	missingKeys()
	body := render(t, rd, lang, page, view, "/login/otp?flow=flow-1").Body.String()
	if m := unsafeMarkup.FindString(body); m != "" {
		t.Errorf("%s in %s: %q in page:\n%s", page, lang, m, body)
	}
	if got := missingKeys(); len(got) > 0 {
		t.Errorf("%s in %s: missing message keys %v", page, lang, got)
	}
	return body
}

func wantIn(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(body, want) {
			t.Errorf("%s lacks %s\n%s", what, want, body)
		}
	}
}

func wantNotIn(t *testing.T, what, body string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(body, u) {
			t.Errorf("%s has %s\n%s", what, u, body)
		}
	}
}

// text is the catalogue text of key in lang as it appears in a page.
func text(lang language.Tag, key string, args ...any) string {
	return template.HTMLEscapeString(NewLocalizer(lang).T(key, args...))
}

func TestSecondFactorPage(t *testing.T) {
	rd := newRenderer(t)
	for _, lang := range SupportedLanguages() {
		what := "second_factor/" + lang.String()
		body := mfaPage(t, rd, lang, SecondFactorPage, SecondFactorView{FlowID: "flow-1", CSRFToken: "csrf-2"})
		wantIn(t, what, body,
			`<form method="post" action="/login/otp?flow=flow-1">`,
			`<input type="hidden" name="flow" value="flow-1">`,
			`<input type="hidden" name="csrf" value="csrf-2">`,
			`<label for="code">`+text(lang, "mfa.code")+`</label>`,
			`<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="7" autofocus required aria-describedby="code-hint">`,
			`id="code-hint">`+text(lang, "mfa.explain")+`</p>`,
			`<h1>`+text(lang, "mfa.heading")+`</h1>`,
			`<button type="submit" class="primary">`+text(lang, "mfa.submit")+`</button>`,
			`<a href="/login/recovery?flow=flow-1">`+text(lang, "mfa.use_recovery")+`</a>`,
		)
		wantNotIn(t, what, body, `role="alert"`, text(lang, "mfa.stepup"))

		body = mfaPage(t, rd, lang, SecondFactorPage, &SecondFactorView{FlowID: "flow-1", CSRFToken: "c", StepUp: true})
		wantIn(t, what+" step-up", body, text(lang, "mfa.stepup"))
		body = mfaPage(t, rd, lang, SecondFactorPage, SecondFactorView{FlowID: "flow-1", CSRFToken: "c", StepUp: true, ClientName: "Card <1>"})
		wantIn(t, what+" step-up for a client", body, text(lang, "mfa.stepup_client", "Card <1>"))
		body = mfaPage(t, rd, lang, SecondFactorPage, SecondFactorView{FlowID: "flow-1", CSRFToken: "c", ClientName: "Card"})
		wantNotIn(t, what+" sign-in for a client", body, text(lang, "mfa.stepup_client", "Card"))
	}
}

func TestSecondFactorErrors(t *testing.T) {
	rd := newRenderer(t)
	for _, lang := range SupportedLanguages() {
		for _, key := range []string{"mfa.error.malformed", "mfa.error.wrong", "mfa.error.replayed", "mfa.error.locked", "mfa.error.locked_hard"} {
			what := "second_factor/" + lang.String() + " " + key
			v := SecondFactorView{FlowID: "flow-1", CSRFToken: "c", ErrorKey: key}
			want := text(lang, key)
			if key == "mfa.error.locked" {
				v.WaitSeconds = 45
				want = text(lang, key, 45)
				if !strings.Contains(want, "45") {
					t.Fatalf("%s: %q does not show the seconds", what, want)
				}
			}
			body := mfaPage(t, rd, lang, SecondFactorPage, v)
			wantIn(t, what, body,
				`<p class="alert" role="alert" id="code-error">`+want+`</p>`,
				`aria-describedby="code-hint code-error"`,
			)
		}
		// WaitSeconds alone means locked, as on the sign-in page.
		body := mfaPage(t, rd, lang, SecondFactorPage, SecondFactorView{FlowID: "f", CSRFToken: "c", WaitSeconds: 12})
		wantIn(t, "second_factor throttled", body, `role="alert" id="code-error">`+text(lang, "mfa.error.locked", 12)+`</p>`)
	}
}

func TestRecoveryPage(t *testing.T) {
	rd := newRenderer(t)
	for _, lang := range SupportedLanguages() {
		what := "recovery/" + lang.String()
		body := mfaPage(t, rd, lang, RecoveryPage, RecoveryView{FlowID: "flow-1", CSRFToken: "csrf-2"})
		wantIn(t, what, body,
			`<form method="post" action="/login/recovery?flow=flow-1">`,
			`<input type="hidden" name="flow" value="flow-1">`,
			`<input type="hidden" name="csrf" value="csrf-2">`,
			`<label for="code">`+text(lang, "recovery.code")+`</label>`,
			`id="code-hint">`+text(lang, "recovery.hint")+`</p>`,
			"XXXX-XXXX-XXXX",
			`<input id="code" name="code" type="text" autocomplete="one-time-code" autocapitalize="characters" autocorrect="off" spellcheck="false" autofocus required aria-describedby="code-hint">`,
			`<a href="/login/otp?flow=flow-1">`+text(lang, "recovery.use_app")+`</a>`,
		)
		wantNotIn(t, what, body, `role="alert"`, `inputmode="numeric"`)

		for _, key := range []string{"mfa.error.recovery_wrong", "mfa.error.locked", "mfa.error.locked_hard"} {
			v := RecoveryView{FlowID: "flow-1", CSRFToken: "c", ErrorKey: key}
			want := text(lang, key)
			if key == "mfa.error.locked" {
				v.WaitSeconds = 300
				want = text(lang, key, 300)
			}
			body := mfaPage(t, rd, lang, RecoveryPage, v)
			wantIn(t, what+" "+key, body,
				`<p class="alert" role="alert" id="code-error">`+want+`</p>`,
				`aria-describedby="code-hint code-error"`,
			)
		}
	}
}

func TestEnrolPage(t *testing.T) {
	rd := newRenderer(t)
	for _, lang := range SupportedLanguages() {
		what := "enrol/" + lang.String()
		body := mfaPage(t, rd, lang, EnrolPage, sampleEnrolView())
		wantIn(t, what, body,
			`<h1>`+text(lang, "enrol.heading")+`</h1>`,
			`" width="256" height="256" alt="`+text(lang, "enrol.qr_alt")+`">`,
			`<code>JBSW Y3DP EHPK 3PXP</code>`,
			text(lang, "enrol.key_details", "anna@example.org"),
			`<form method="post" action="/login/enrol?flow=flow-1">`,
			`<input type="hidden" name="csrf" value="csrf-2">`,
			`<input type="hidden" name="enrolment" value="enr-3">`,
			`<input type="hidden" name="flow" value="flow-1">`,
			`<label for="code">`+text(lang, "enrol.code")+`</label>`,
			`<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="7" required aria-describedby="code-hint">`,
			`<button type="submit" class="primary">`+text(lang, "enrol.submit")+`</button>`,
		)
		// The data: URI and the otpauth: link come through unfiltered (the
		// attribute may escape "+" and "&" as character references).
		if m := imgSrc.FindStringSubmatch(body); m == nil || html.UnescapeString(m[1]) != string(sampleQR) {
			t.Errorf("%s: QR code src is %q, want %s", what, m, sampleQR)
		}
		if m := otpauthHref.FindStringSubmatch(body); m == nil || html.UnescapeString(m[1]) != string(sampleOTPAuth) {
			t.Errorf("%s: otpauth link is %q, want %s", what, m, sampleOTPAuth)
		}
		// Three ways, in order.
		ol := body[strings.Index(body, "<ol>"):strings.Index(body, "</ol>")]
		if n := strings.Count(ol, "<li>"); n != 3 {
			t.Errorf("%s: %d ways, want 3", what, n)
		}
		if i, j, k := strings.Index(ol, "<img"), strings.Index(ol, "<code>"), strings.Index(ol, "otpauth:"); !(i < j && j < k) {
			t.Errorf("%s: ways out of order (%d, %d, %d)", what, i, j, k)
		}
		wantNotIn(t, what, body, `role="alert"`, text(lang, "enrol.required"))

		v := sampleEnrolView()
		v.Action, v.FlowID, v.Required, v.ErrorKey = "/account/authenticators", "", true, "mfa.error.replayed"
		body = mfaPage(t, rd, lang, EnrolPage, &v)
		wantIn(t, what+" outside a flow", body,
			`<form method="post" action="/account/authenticators">`,
			text(lang, "enrol.required"),
			`<p class="alert" role="alert" id="code-error">`+text(lang, "mfa.error.replayed")+`</p>`,
			`aria-describedby="code-hint code-error" autofocus>`,
		)
		wantNotIn(t, what+" outside a flow", body, `name="flow"`)

		v.ErrorKey, v.WaitSeconds = "mfa.error.locked", 90
		body = mfaPage(t, rd, lang, EnrolPage, v)
		wantIn(t, what+" locked", body, `role="alert" id="code-error">`+text(lang, "mfa.error.locked", 90)+`</p>`)
	}
}

func TestRecoveryCodesPage(t *testing.T) {
	rd := newRenderer(t)
	codes := []string{"ABCD-EFGH-JKMN", "PQRS-TVWX-YZ01", "2345-6789-ABCD"}
	for _, lang := range SupportedLanguages() {
		what := "recovery_codes/" + lang.String()
		body := mfaPage(t, rd, lang, RecoveryCodesPage, RecoveryCodesView{Codes: codes, Next: "/login/continue?flow=flow-1"})
		wantIn(t, what, body,
			`<title>`+text(lang, "recovery_codes.title")+` · `,
			`<h1>`+text(lang, "recovery_codes.heading")+`</h1>`,
			text(lang, "recovery_codes.explain"), text(lang, "recovery_codes.keep"), text(lang, "recovery_codes.once"),
			"<li><code>ABCD-EFGH-JKMN</code></li>\n<li><code>PQRS-TVWX-YZ01</code></li>\n<li><code>2345-6789-ABCD</code></li>\n</ol>",
			`<a href="/login/continue?flow=flow-1">`+text(lang, "recovery_codes.continue")+`</a>`,
		)
		wantNotIn(t, what, body, `role="alert"`, text(lang, "recovery_codes.used_heading"))

		for remaining := range 8 {
			w := what + " used, " + strconv.Itoa(remaining) + " left"
			body := mfaPage(t, rd, lang, RecoveryCodesPage, &RecoveryCodesView{UsedOne: true, Remaining: remaining, Next: "/"})
			wantIn(t, w, body,
				`<title>`+text(lang, "recovery_codes.used_title")+` · `,
				text(lang, "recovery_codes.used", remaining),
				`<a href="/">`+text(lang, "recovery_codes.continue")+`</a>`,
			)
			wantNotIn(t, w, body, "<code>")
			switch {
			case remaining == 0:
				wantIn(t, w, body, `<p class="alert" role="alert">`+text(lang, "recovery_codes.urge_none")+`</p>`)
			case remaining <= 2:
				wantIn(t, w, body, `<p class="alert" role="alert">`+text(lang, "recovery_codes.urge")+`</p>`)
			default:
				wantNotIn(t, w, body, `role="alert"`)
			}
		}
	}
}

// A plain string would not do for the enrolment links: html/template
// replaces a data: or otpauth: URL given as a string with #ZgotmplZ, which
// is why EnrolView types them template.URL.
func TestEnrolURLsNeedTemplateURL(t *testing.T) {
	tm := template.Must(template.New("x").Parse(`<img src="{{.}}"><a href="{{.}}">`))
	for _, u := range []string{string(sampleQR), string(sampleOTPAuth)} {
		var b strings.Builder
		if err := tm.Execute(&b, u); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "ZgotmplZ") {
			t.Errorf("html/template now lets %.20s… through as a string: %s", u, b.String())
		}
	}
}
