package page

// Page names, for Renderer.Render. Each is templates/<name>.html and takes
// the view struct named beside it.
const (
	LoginPage     = "login"      // LoginView
	ConsentPage   = "consent"    // ConsentView
	LogoutPage    = "logout"     // LogoutView
	LoggedOutPage = "logged_out" // LoggedOutView
	ErrorPage     = "error"      // ErrorView
	FormPostPage  = "form_post"  // FormPostView
	// OtherBrowserPage refuses a flow to a browser it is not bound to.
	OtherBrowserPage = "other_browser" // OtherBrowserView
)

// LoginView is the sign-in page. Its form posts flow, csrf, username and
// password to /login.
type LoginView struct {
	FlowID    string
	CSRFToken string
	Username  string // prefilled, from login_hint or the previous attempt
	// ClientName is the relying party the person signs in to, "" if unknown.
	ClientName string
	// ErrorKey is the catalogue key of the message to show ("" for none),
	// e.g. "login.error.invalid".
	ErrorKey string
	// WaitSeconds > 0 means sign-in is throttled: the page says to try
	// again in that many seconds.
	WaitSeconds int
}

// ConsentView asks the person to let ClientName have the listed scopes. Its
// form posts flow, csrf, decision (allow or deny) and remember (1 when
// ticked) to /consent.
type ConsentView struct {
	FlowID     string
	CSRFToken  string
	ClientName string
	// Scopes are what the person is asked about: only what is new when
	// AllowedBefore is not empty.
	Scopes []ScopeView
	// AllowedBefore are requested scopes the person allowed the client
	// before; the page says so apart from the new ones.
	AllowedBefore []ScopeView
	AccountName   string // who is signed in, so the person sees whose data goes
	// ShowRemember offers "remember my decision", ticked (not for clients
	// that must ask every time).
	ShowRemember bool
	ErrorKey     string // a notice: the form was stale, nothing was decided
}

// ScopeView is one requested scope; the page describes it with catalogue
// key "scope.<Name>" (or a generic line naming it, for a scope the
// catalogue does not know).
type ScopeView struct {
	Name string
}

// LogoutView asks whether to sign out. Its form posts csrf,
// decision (confirm or cancel) and the OIDC parameters to
// /oauth2/sessions/logout.
type LogoutView struct {
	CSRFToken             string
	ClientName            string // the relying party asking, "" if none
	State                 string
	PostLogoutRedirectURI string
	ClientID              string
}

// LoggedOutView is the page after signing out when there is nowhere to go
// back to.
type LoggedOutView struct {
	// NothingEnded: there was no live session to end, and the page says so
	// rather than "you have signed out".
	NothingEnded bool
}

// ErrorView is an error page. TitleKey and MessageKey are catalogue keys;
// RefID is the reference a person can quote to support.
type ErrorView struct {
	TitleKey   string
	MessageKey string
	RefID      string
	Status     int
}

// OtherBrowserView says that a sign-in began in another browser and offers
// to start again in this one: RestartURL (a local path, for Propusk's own
// pages), else ServiceURL (the relying party's site, named ClientName),
// else only the advice to go back to the app.
type OtherBrowserView struct {
	ClientName string
	ServiceURL string
	RestartURL string
}

// FormPostView is the OAuth 2.0 form_post response: a form that posts
// Params to Action, the relying party's redirect URI (http or https). With
// no JavaScript it cannot submit itself; the person presses Continue. The
// handler must call AllowFormAction with the origin of Action first.
type FormPostView struct {
	Action string
	Params [][2]string // name, value
}
