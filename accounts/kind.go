package accounts

import (
	"fmt"
	"strings"
)

// Kind is the kind of person an account stands for. It decides which
// citizenships are consistent with the account (see Profile.Normalize) and,
// further up, which services a relying party may offer.
type Kind string

// The kinds. The values are stored and sent in claims: never change them.
const (
	// KindCitizen: a citizen of the Russian Federation living abroad.
	KindCitizen Kind = "citizen"
	// KindCompatriot: a compatriot (соотечественник) without Russian
	// citizenship.
	KindCompatriot Kind = "compatriot"
	// KindForeignNational: a citizen of another country, or a stateless
	// person, with no tie claimed to Russia.
	KindForeignNational Kind = "foreign_national"
)

// ParseKind parses a kind, ignoring surrounding space and case so that
// command-line and form input need not be exact.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(strings.ToLower(strings.TrimSpace(s))); k {
	case KindCitizen, KindCompatriot, KindForeignNational:
		return k, nil
	case "":
		return "", fmt.Errorf("account kind is required")
	default:
		return "", fmt.Errorf("unknown account kind %q (want citizen, compatriot or foreign_national)", s)
	}
}

// Assurance is how well the person's identity data has been checked. Relying
// parties ask for a minimum (as an ACR), so levels must be comparable: use
// AtLeast, never string comparison.
type Assurance string

// The assurance levels, weakest first. The values are stored: never change
// them.
const (
	// AssuranceSimplified: self-asserted data, nothing checked. Every new
	// account starts here.
	AssuranceSimplified Assurance = "simplified"
	// AssuranceStandard: contact data verified and identity data checked
	// remotely.
	AssuranceStandard Assurance = "standard"
	// AssuranceConfirmed: identity confirmed in person or against an
	// official document.
	AssuranceConfirmed Assurance = "confirmed"
)

// rank orders the levels; 0 means unknown.
func (a Assurance) rank() int {
	switch a {
	case AssuranceSimplified:
		return 1
	case AssuranceStandard:
		return 2
	case AssuranceConfirmed:
		return 3
	}
	return 0
}

// AtLeast reports whether a is as strong as other or stronger. An unknown
// level on either side answers false: when in doubt, the check fails closed.
func (a Assurance) AtLeast(other Assurance) bool {
	ra, ro := a.rank(), other.rank()
	return ra != 0 && ro != 0 && ra >= ro
}

// ParseAssurance parses an assurance level, ignoring surrounding space and
// case.
func ParseAssurance(s string) (Assurance, error) {
	a := Assurance(strings.ToLower(strings.TrimSpace(s)))
	if a.rank() == 0 {
		if a == "" {
			return "", fmt.Errorf("assurance level is required")
		}
		return "", fmt.Errorf("unknown assurance level %q (want simplified, standard or confirmed)", s)
	}
	return a, nil
}
