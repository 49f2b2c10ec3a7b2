package accounts

import (
	"fmt"
	"strings"

	"golang.org/x/text/language"
)

// notAssigned lists two-letter codes that golang.org/x/text/language accepts
// as countries but that ISO 3166-1 does not assign to a country today:
// former states split into several (a Soviet passport says nothing about
// today's citizenship) and exceptionally reserved codes. Codes that were
// simply renamed (UK, DD, ZR …) are caught by Canonicalize instead.
var notAssigned = map[string]bool{
	"SU": true, "YU": true, "CS": true, "AN": true, "NT": true,
	"AC": true, "CP": true, "DG": true, "EA": true, "IC": true, "TA": true,
}

// NormalizeCountry validates an ISO 3166-1 alpha-2 country code and returns
// it in upper case. Only two letters pass: language.ParseRegion would also
// turn "RUS" or "643" into RU, but stored codes, claims and forms all use the
// two-letter form, and accepting others would let two spellings of one
// country through.
func NormalizeCountry(code string) (string, error) {
	s := strings.TrimSpace(code)
	if s == "" {
		return "", fmt.Errorf("country code is required")
	}
	up := strings.ToUpper(s)
	if len(up) != 2 || !isASCIILetter(up[0]) || !isASCIILetter(up[1]) || notAssigned[up] {
		return "", fmt.Errorf("unknown country code %q", code)
	}
	r, err := language.ParseRegion(up)
	if err != nil || !r.IsCountry() || r.String() != up || r.Canonicalize().String() != up {
		return "", fmt.Errorf("unknown country code %q", code)
	}
	return up, nil
}

func isASCIILetter(b byte) bool { return 'A' <= b && b <= 'Z' }
