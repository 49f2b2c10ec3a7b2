// Package accounts owns the people who sign in to Propusk: what kind of
// person an account stands for (a Russian citizen abroad, a compatriot, a
// foreign national), how usernames are normalised so that one person cannot
// register the same name twice in different spellings, how passwords are
// checked and hashed, which profile data is accepted, and how sure we are of
// it (assurance).
//
// Everything that reaches package store has passed through here: store keeps
// values as given and trusts them to be valid and normalised. The rules live
// in one place so the web sign-up form, the admin CLI and any later import
// cannot drift apart.
//
// The package hands on store.Account values. It knows nothing of HTTP, OAuth
// or HTML: the login and sign-up handlers call Service.Authenticate and
// Service.Create and turn the errors into pages; an edit of a stored
// profile (the CLI's users update) goes through WithProfile. Validation errors come back
// as *FieldError (one per profile or username problem, joined with
// errors.Join so a form can show all of them at once) and *PasswordError;
// Authenticate only ever answers ErrInvalidCredentials for a failed login, so
// a caller cannot learn from the answer — or from its timing — whether an
// account exists.
//
// store.Account carries the password hash. Log accounts with LogValue, which
// prints only the ID, the username and the kind.
package accounts
