package page

// AccountPage is the person's account page: templates/account.html,
// rendered with AccountView.
const AccountPage = "account"

// AccountView is the account page: who is signed in, their authenticator
// apps and recovery codes, and forms to manage them and the password.
// Every form posts csrf (the CSRFToken) to its action:
//
//	POST /account/authenticators          name            add an authenticator app
//	POST /account/authenticators/remove   authenticator   remove one (its ID)
//	POST /account/recovery-codes          —               make a new set of recovery codes
//	POST /account/password                current_password (autocomplete current-password),
//	                                      new_password (autocomplete new-password)
//	POST /account/services/withdraw       client          withdraw a remembered consent (the client's ID)
//
// Sign-out is a link to /oauth2/sessions/logout. Sensitive actions ask the
// person to sign in again when the last sign-in is older than five
// minutes; the page says so next to them (FreshSignIn false). Withdrawing
// a consent only takes access away, so it needs no new sign-in.
type AccountView struct {
	CSRFToken string
	Username  string
	Name      string // given and family name, or ""

	Authenticators    []AuthenticatorView
	RecoveryCodesLeft int
	// FreshSignIn is true while the last sign-in is recent enough for
	// sensitive actions.
	FreshSignIn bool
	// Services are the relying parties the person allowed and asked to
	// remember, so they are not asked again.
	Services []ServiceView

	// NoticeKey is a catalogue key of a success message ("" for none):
	// account.notice.added, account.notice.removed,
	// account.notice.password_changed, account.notice.withdrawn (with
	// NoticeArg, the service's name).
	NoticeKey string
	NoticeArg string
	// ErrorKey is a catalogue key of an error message ("" for none):
	// account.error.password_wrong, account.error.name.
	ErrorKey string
	// AuthenticatorName is the name typed into the add-an-app form, kept
	// when the page is shown again.
	AuthenticatorName string
	// PasswordProblems are catalogue keys of the new password's broken
	// rules: password.too_short, password.too_long,
	// password.equals_username, password.invalid_utf8.
	PasswordProblems []string
}

// AuthenticatorView is one authenticator app on the account page. Dates
// are already formatted (YYYY-MM-DD); LastUsed is "" when never used.
type AuthenticatorView struct {
	ID       string
	Name     string
	Added    string
	LastUsed string
}

// ServiceView is one remembered consent on the account page: the relying
// party's name, what it receives (described with catalogue key
// "scope.<Name>", as on the consent page) and since when (YYYY-MM-DD). Its
// withdraw form posts client (ClientID).
type ServiceView struct {
	ClientID string
	Name     string
	Scopes   []ScopeView
	Since    string
}
