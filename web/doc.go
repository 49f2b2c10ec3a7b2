// Package web owns the pages people see: sign-in, second factor, consent,
// logout confirmation, the OAuth form_post hand-back and the error pages.
//
// Templates (templates/*.html), static files (static/) and the message
// catalogues (locales/*.json) are embedded, so the binary carries everything
// it shows. Every page works without JavaScript, and none is served: the
// Content-Security-Policy set by SecurityHeaders allows no script at all,
// no inline style, and forms only to Propusk itself (AllowFormAction widens
// that to one relying party where a form ends at it).
//
// Every human text comes from the catalogue through a Localizer; templates
// hold no literal text. Russian is the default language — the people signing
// in deal with Russian public services — and English is the second; another
// language is one more locales/<tag>.json with the same keys. ChooseLanguage
// picks the language from the OIDC ui_locales parameter, the propusk_lang
// cookie (set by LanguageSwitch) and Accept-Language, in that order.
//
// Renderer renders a page from its view struct (LoginView, ConsentView, …)
// into a buffer first, so a failing template never leaves half a page, and
// Renderer.Error turns any error into a localized error page carrying a
// reference a person can quote to support, while the cause goes only to the
// log.
//
// CSRF defence is threefold. A flow is bound to the browser first shown
// one of its pages (binding.go): another browser is refused every page and
// form of it (login CSRF). A token in every form — the flow's, derived from
// that binding and stored hashed (package flow), or, for forms outside a
// flow (the account page, the logout confirmation), one derived from the
// SSO session cookie (SessionFormToken) — is the
// same at every showing, so a second tab or the back button keep working,
// and a stale one shows the page again with a notice. And the standard
// library's cross-origin protection (CrossOrigin) stands in front of every
// POST handler.
//
// Besides rendering, the package drives the pages of a flow (flows.go,
// secondfactor.go) and the account page (account.go); the relying party's
// side of a flow is behind the Provider interface, which package oauth
// implements.
package web
