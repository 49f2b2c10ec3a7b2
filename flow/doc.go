// Package flow is the pending authorization request: what happens between
// a relying party sending a person to /oauth2/auth and Propusk sending them
// back with a code. The browser carries only the flow's ID; the request
// itself, who signed in and how, live server-side with an expiry.
//
// A flow moves through typed states; each transition is a method that
// refuses an illegal move:
//
//	  Start                      StartStepUp
//	    │                            │
//	    ▼    RequireSecondFactor     ▼        CompleteSecondFactor
//	┌───────┐ ─────────────▶ ┌───────────────┐ ──────────────┐
//	│ login │                │ second_factor │               │
//	└───────┘ ───────┐       └───────────────┘               ▼
//	    │   Authenticate                    │         ┌─────────┐  Allow   ┌──────┐
//	    │            └──────────────────────┼───────▶ │ consent │ ───────▶ │ done │
//	    │ Deny                         Deny │         └─────────┘          └──────┘
//	    ▼                                   ▼              │ Deny
//	┌───────────────────────────────────────────────────────────┐
//	│                          denied                           │
//	└───────────────────────────────────────────────────────────┘
//
// A password alone moves login to consent only when the account has no
// second factor and the request needs none; otherwise the flow waits in
// second_factor for a code (or an enrolment, when the request requires a
// factor the person has not set up). A person whose SSO session already
// satisfies the request starts in consent (StartAuthenticated); one whose
// session has only a password when more is needed starts in second_factor
// (StartStepUp).
//
// done and denied are final: a second tab
// finishing the same flow finds it final and is refused, and the
// transitions run under the store's row lock so two concurrent posts cannot
// both move it. Every step's form carries the flow's CSRF token.
//
// The first browser to be shown a page of the flow is bound to it (Bind):
// a secret in a cookie, whose hash the flow keeps. Every later page and
// post of the flow must come with that cookie, and the forms' CSRF token is
// derived from it (FormToken), so it stays the same in every tab of that
// browser and no other browser can post a form of the flow (login CSRF,
// RFC 6749 §10.12).
package flow
