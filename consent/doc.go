// Package consent owns who allowed which client which scopes: remembered
// consent, so a person is asked once per client and set of scopes, and its
// revocation.
package consent
