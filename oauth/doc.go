// Package oauth is the OAuth 2.0 / OpenID Connect provider: the fosite
// composition, its endpoints, signing keys, and the adapter that stores
// fosite's requests in package store.
//
// Storage keeps tokens by signature only, seals every stored request (it
// holds ID-token claims), and enforces single use with conditional writes,
// so two nodes redeeming one code at once cannot both succeed. This package
// is the one place that maps store errors to fosite's.
package oauth
