// Package web serves the pages people see in a sign-in and after it: the
// sign-in page, second factor, consent, and the account page. It renders
// them through package page (templates, catalogues, language choice,
// security headers, error pages), which it shares with package oauth.
//
// CSRF defence is threefold. A flow is bound to the browser first shown
// one of its pages (binding.go): another browser is refused every page and
// form of it (login CSRF). A token in every form — the flow's, derived from
// that binding and stored hashed (package flow), or, for forms outside a
// flow (the account page, the logout confirmation), one derived from the
// SSO session cookie (page.SessionFormToken) — is the
// same at every showing, so a second tab or the back button keep working,
// and a stale one shows the page again with a notice. And the standard
// library's cross-origin protection (page.CrossOrigin) stands in front of
// every POST handler.
//
// The pages of a flow are flows.go and secondfactor.go, the account page
// account.go. Handlers return their failures, and errors.go turns each
// into what the person sees, in one place. A page reads what it shows of a
// flow's request from the flow (flow.Flow.Details, recorded once at the
// authorization endpoint); the relying party's side of a flow is behind the
// Provider interface, which package oauth implements with the plain types
// of package flow, so oauth does not import web.
package web
