package oauth

import "testing"

// With an essential acr claim with values, the ID token carries one of
// them (OIDC Core §5.5.1.1): the highest the sign-in meets. Otherwise it
// carries what was achieved.
func TestReportedACR(t *testing.T) {
	const (
		simplified  = acrPrefix + "simplified"
		standard    = acrPrefix + "standard"
		standardMFA = acrPrefix + "standard:mfa"
		confirmed   = acrPrefix + "confirmed"
	)
	achieved := acr{level: 2, mfa: true} // confirmed:mfa
	for _, tc := range []struct {
		essential []string
		want      string
	}{
		{nil, achieved.String()},
		{[]string{standard}, standard},
		{[]string{simplified, standard}, standard},
		{[]string{standard, standardMFA}, standardMFA},
		{[]string{standardMFA, standard}, standardMFA},
		{[]string{"urn:other:acr", standard}, standard},
		{[]string{"urn:other:acr"}, achieved.String()},
	} {
		if got := reportedACR(achieved, tc.essential).String(); got != tc.want {
			t.Errorf("reportedACR(%v, %v) = %s, want %s", achieved, tc.essential, got, tc.want)
		}
	}
	// A value the sign-in does not meet is never reported.
	low := acr{level: 1} // standard, no second factor
	if got := reportedACR(low, []string{confirmed, standardMFA, standard}).String(); got != standard {
		t.Errorf("reportedACR(standard, …) = %s, want %s", got, standard)
	}
}
