// Package clients owns the rules for relying parties (OAuth 2.0 / OpenID
// Connect clients) and their secrets.
//
// It decides what a registration may contain: which redirect URIs are
// acceptable (https, http only on loopback, private-use schemes only for
// native public apps), which grant types, scopes and token-endpoint
// authentication methods go together, and whether a client's JSON Web Key
// Set is safe to store. Registration.Validate reports every problem at once,
// so an administrator fixes a registration in one round trip instead of one
// error per attempt.
//
// It also owns client secrets: Propusk generates them (clients never choose
// their own), shows them once, and stores only a keyed hash. SecretHasher
// computes and compares those hashes; Service.RotateSecret keeps the previous
// secret valid for a grace period so a relying party can roll its
// configuration without downtime.
//
// Service ties the rules to the store (store.Clients). It holds no HTTP or
// OAuth-library code: the admin API, the CLI and the token endpoint all call
// into this package, so the rules live in exactly one place.
package clients
