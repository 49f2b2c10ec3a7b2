package flow

// Details is what the pages show about a flow; the provider (package oauth)
// works it out from the flow's request, and the pages (package web) read it,
// so neither needs the other.
type Details struct {
	ClientName string
	Scopes     []string
	LoginHint  string
	FirstParty bool
	// Public clients (apps) are asked about every time: nothing is
	// remembered for them (package oauth, needsConsent).
	Public bool
	// RedirectOrigin is the relying party's origin: forms whose answer
	// redirects there must allow it in the CSP's form-action.
	RedirectOrigin string
}

// Consent is what a finishing flow's consent rests on (web.Provider's
// FinishFlow).
type Consent int

const (
	// ConsentOnRecord: no consent page in this request; the consent
	// remembered earlier (or the client's first-party standing) is relied
	// on, and the provider checks it again as it issues the code, since a
	// withdrawal may have committed after NeedsConsent read it.
	ConsentOnRecord Consent = iota
	// ConsentGivenNow: the person allowed this very request on the consent
	// page.
	ConsentGivenNow
)
