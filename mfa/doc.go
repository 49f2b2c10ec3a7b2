// Package mfa owns second factors: TOTP authenticator apps (RFC 6238) in
// place of SMS codes, and single-use recovery codes.
//
// What most providers get wrong, and this package does not:
//   - a code's time step is accepted at most once per account, enforced by
//     the database (a conditional write), so the same code sent to two
//     nodes at once succeeds once;
//   - the code that proves an enrolment burns its step, so it cannot sign
//     in a moment later;
//   - wrong codes are counted in the database across nodes: after five the
//     second factor locks with growing delays, and past a hard limit it
//     stays locked until a password reset or an administrator;
//   - secrets are sealed at rest; recovery codes are kept as keyed hashes.
//
// Every enrolment, removal, success, failure, lock-out, recovery-code use
// and reset is written to the audit log. The package renders nothing and
// knows nothing of HTTP.
package mfa
