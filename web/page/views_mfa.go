package page

import "html/template"

// Second-factor pages.
const (
	SecondFactorPage  = "second_factor"  // SecondFactorView
	RecoveryPage      = "recovery"       // RecoveryView
	EnrolPage         = "enrol"          // EnrolView
	RecoveryCodesPage = "recovery_codes" // RecoveryCodesView
)

// SecondFactorView asks for the code from the person's authenticator app.
// Its form posts flow, csrf and code to /login/otp?flow=<FlowID>; the input
// has autocomplete="one-time-code" and inputmode="numeric". A link leads to
// /login/recovery?flow=<FlowID> for a recovery code instead.
type SecondFactorView struct {
	FlowID     string
	CSRFToken  string
	ClientName string
	// StepUp is true when the person is already signed in with a password
	// and the relying party asks for more: the page says so.
	StepUp bool
	// ErrorKey is the catalogue key of the message to show, "" for none:
	// mfa.error.malformed, mfa.error.wrong, mfa.error.replayed,
	// mfa.error.locked (with WaitSeconds), mfa.error.locked_hard.
	ErrorKey    string
	WaitSeconds int
}

// RecoveryView asks for one recovery code. Its form posts flow, csrf and
// code to /login/recovery?flow=<FlowID> (input autocomplete="one-time-code",
// autocapitalize="characters", spellcheck="false"); a link goes back to
// /login/otp?flow=<FlowID>.
type RecoveryView struct {
	FlowID      string
	CSRFToken   string
	ClientName  string
	ErrorKey    string // mfa.error.recovery_wrong, mfa.error.locked, mfa.error.locked_hard
	WaitSeconds int
}

// EnrolView sets up an authenticator app: the QR code (a PNG as a data:
// URI, which the CSP allows), the key grouped for typing, and the
// otpauth:// link that opens the app on the same phone; then a form asking
// for the first code. The form posts csrf, enrolment (the authenticator's
// ID), code and, inside a flow, flow, to Action.
type EnrolView struct {
	Action      string // /login/enrol?flow=… or /account/authenticators
	FlowID      string // "" outside a flow
	CSRFToken   string
	EnrolmentID string
	// QRCodeDataURI is data:image/png;base64,… of a PNG the handler made
	// itself. It is a template.URL because html/template replaces a plain
	// string data: URI in src with #ZgotmplZ.
	QRCodeDataURI template.URL
	Key           string // grouped: "ABCD EFGH …"
	// OTPAuthURL is the otpauth://totp/… link, built by the handler; a
	// template.URL for the same reason (html/template lets only http,
	// https and mailto through from a string).
	OTPAuthURL template.URL
	Username   string // the account name the app will show
	// Required is true when the relying party requires a second factor and
	// the person has none yet: the page explains why.
	Required    bool
	ErrorKey    string // mfa.error.malformed, mfa.error.wrong, mfa.error.replayed, mfa.error.locked…
	WaitSeconds int
}

// RecoveryCodesView shows fresh recovery codes once, with the advice to
// keep them somewhere safe; Continue goes to Next.
type RecoveryCodesView struct {
	Codes []string
	Next  string // local path
	// Remaining is set instead of Codes after a recovery code was used:
	// how many are left (the page urges a new set at two or fewer).
	Remaining int
	UsedOne   bool
}
