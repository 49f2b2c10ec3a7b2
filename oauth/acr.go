package oauth

import (
	"slices"
	"strings"
)

// Propusk's acr values combine two things a relying party may demand: the
// account's identity level — the national portal's levels simplified,
// standard, confirmed — and whether the person proved a second factor
// (an authenticator app) in this sign-in:
//
//	urn:propusk:acr:simplified       urn:propusk:acr:simplified:mfa
//	urn:propusk:acr:standard         urn:propusk:acr:standard:mfa
//	urn:propusk:acr:confirmed        urn:propusk:acr:confirmed:mfa
//
// A value is met by any value at least as high on both counts. The ID
// token's acr says what was achieved. A second factor can be asked for in
// the middle of a sign-in (step-up); an identity level cannot.
const acrPrefix = "urn:propusk:acr:"

// Levels, lowest first (accounts.Assurance values).
var levels = []string{"simplified", "standard", "confirmed"}

// ACR values for the plain levels, kept for callers and documentation.
const (
	ACRSimplified = acrPrefix + "simplified"
	ACRStandard   = acrPrefix + "standard"
	ACRConfirmed  = acrPrefix + "confirmed"
)

// ACRValuesSupported is advertised in discovery, lowest first.
var ACRValuesSupported = func() []string {
	var out []string
	for _, l := range levels {
		out = append(out, acrPrefix+l, acrPrefix+l+":mfa")
	}
	return out
}()

// acr is one point of the lattice.
type acr struct {
	level int // index in levels
	mfa   bool
}

func (a acr) String() string {
	s := acrPrefix + levels[a.level]
	if a.mfa {
		s += ":mfa"
	}
	return s
}

// meets reports whether a is at least b on both counts.
func (a acr) meets(b acr) bool { return a.level >= b.level && (a.mfa || !b.mfa) }

// parseACR reads an acr value (urn:propusk:acr:…).
func parseACR(s string) (acr, bool) {
	rest, ok := strings.CutPrefix(s, acrPrefix)
	if !ok {
		return acr{}, false
	}
	return parseLevel(rest)
}

// parseLevel reads a client's registered minimum: a level name with an
// optional ":mfa" (clients.ACRValues).
func parseLevel(s string) (acr, bool) {
	name, mfa := strings.CutSuffix(s, ":mfa")
	i := slices.Index(levels, name)
	if i < 0 {
		return acr{}, false
	}
	return acr{level: i, mfa: mfa}, true
}

// achievedACR is what a sign-in achieved: the account's level, with mfa
// when the authentication methods include a second factor.
func achievedACR(level string, amr []string) acr {
	a, ok := parseLevel(level)
	if !ok {
		a = acr{}
	}
	a.mfa = slices.Contains(amr, "otp")
	return a
}

// reportedACR is the acr an ID token carries: what the sign-in achieved,
// unless the request asked for acr as an essential claim with values; then
// it must be one of those (OIDC Core §5.5.1.1), the highest the sign-in
// meets. (The request was refused earlier if it meets none.)
func reportedACR(achieved acr, essential []string) acr {
	best, found := acr{}, false
	for _, v := range essential {
		a, ok := parseACR(v)
		if !ok || !achieved.meets(a) {
			continue
		}
		if !found || a.meets(best) {
			best, found = a, true
		}
	}
	if !found {
		return achieved
	}
	return best
}

// AchievedACR is achievedACR as a string, for the session record.
func AchievedACR(level string, amr []string) string { return achievedACR(level, amr).String() }

// requirement is what a request demands: a floor (the client's registered
// minimum) and, for each of acr_values and an essential acr claim, a list
// of acceptable values of which one must be met.
type requirement struct {
	floor acr
	anyOf [][]acr
}

// newRequirement reads a request's demands. ok is false when a list holds
// only values Propusk does not know: such a request cannot be met.
func newRequirement(clientMinimum, acrValues string, essential []string) (requirement, bool) {
	var r requirement
	if clientMinimum != "" {
		if a, ok := parseLevel(clientMinimum); ok {
			r.floor = a
		}
	}
	for _, values := range [][]string{strings.Fields(acrValues), essential} {
		if len(values) == 0 {
			continue
		}
		var known []acr
		for _, v := range values {
			if a, ok := parseACR(v); ok {
				known = append(known, a)
			}
		}
		if len(known) == 0 {
			return r, false
		}
		r.anyOf = append(r.anyOf, known)
	}
	return r, true
}

// metBy reports whether achieved satisfies every demand.
func (r requirement) metBy(achieved acr) bool {
	if !achieved.meets(r.floor) {
		return false
	}
	for _, alts := range r.anyOf {
		if !slices.ContainsFunc(alts, achieved.meets) {
			return false
		}
	}
	return true
}

// needsSecondFactor reports whether achieved falls short only for want of
// a second factor: not met as it is, met once a code is proven. That is
// when Propusk can step up; an identity level it cannot raise.
func (r requirement) needsSecondFactor(achieved acr) bool {
	withMFA := achieved
	withMFA.mfa = true
	return !r.metBy(achieved) && r.metBy(withMFA)
}

// String describes the requirement for error hints.
func (r requirement) String() string {
	parts := []string{"at least " + r.floor.String()}
	for _, alts := range r.anyOf {
		var s []string
		for _, a := range alts {
			s = append(s, a.String())
		}
		parts = append(parts, "one of "+strings.Join(s, ", "))
	}
	return strings.Join(parts, " and ")
}
