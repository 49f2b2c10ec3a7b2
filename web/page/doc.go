// Package page is the toolkit every HTML side of Propusk renders with: the
// people's pages (package web), the provider's own pages (package oauth:
// logout confirmation, signed out, the OAuth form_post hand-back) and the
// error pages of both.
//
// Templates (templates/*.html), their view structs (LoginView, ConsentView,
// …, one per page, in views*.go), static files (static/) and the message
// catalogues (locales/*.json) are embedded here, so the binary carries
// everything it shows and one Renderer serves every side: a template, the
// view it reads and the catalogue keys it names are one contract, checked
// together by this package's tests. Every page works without JavaScript, and
// none is served: the Content-Security-Policy set by SecurityHeaders allows
// no script at all, no inline style, and forms only to Propusk itself
// (AllowFormAction widens that to one relying party where a form ends at it).
//
// Every human text comes from the catalogue through a Localizer; templates
// hold no literal text. Russian is the default language — the people signing
// in deal with Russian public services — and English is the second; another
// language is one more locales/<tag>.json with the same keys. ChooseLanguage
// picks the language from the OIDC ui_locales parameter, the propusk_lang
// cookie (set by LanguageSwitch) and Accept-Language, in that order.
//
// Renderer renders a page from its view struct into a buffer first, so a
// failing template never leaves half a page, and Renderer.Error turns any
// error (a PageError says which page: BadRequest, NotFound, Unavailable, …)
// into a localized error page carrying a reference a person can quote to
// support, while the cause goes only to the log.
//
// The form-token helpers here are those of forms outside a flow: a token
// derived from the SSO session cookie (SessionFormToken; the account page,
// the logout confirmation) or kept in a cookie of its own (SetFormCookie,
// FormCookieMatches). CrossOrigin puts the standard library's cross-origin
// protection in front of a POST handler, and BodyLimits bounds what any
// request may send.
//
// This package imports neither web nor oauth: both import it.
package page
