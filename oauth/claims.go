package oauth

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/store"
)

// ScopesSupported are the scopes Propusk knows; each maps to claims.
var ScopesSupported = []string{"openid", "profile", "email", "phone", "offline_access", "identity"}

// scopeClaims lists the claims each scope releases (OIDC Core §5.4, plus
// Propusk's identity scope).
var scopeClaims = map[string][]string{
	"profile":  {"name", "given_name", "family_name", "middle_name", "birthdate", "locale", "updated_at"},
	"email":    {"email", "email_verified"},
	"phone":    {"phone_number", "phone_number_verified"},
	"identity": {"account_kind", "nationalities", "country_of_residence", "account_level"},
}

// ClaimsSupported is advertised in discovery.
var ClaimsSupported = func() []string {
	out := []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "at_hash"}
	for _, s := range ScopesSupported {
		out = append(out, scopeClaims[s]...)
	}
	// language-tagged Latin renderings of names (OIDC Core §5.2)
	return append(out, "given_name#en", "family_name#en", "middle_name#en")
}()

// accountClaims returns the claims of a released by the granted scopes.
// Only non-empty values are released; a claim a person has not given is
// absent, not empty.
func accountClaims(a store.Account, scopes []string) map[string]any {
	out := map[string]any{}
	set := func(k string, v string) {
		if v != "" {
			out[k] = v
		}
	}
	for _, s := range scopes {
		switch s {
		case "profile":
			set("given_name", a.GivenName)
			set("family_name", a.FamilyName)
			set("middle_name", a.MiddleName)
			set("given_name#en", a.GivenNameLatin)
			set("family_name#en", a.FamilyNameLatin)
			set("middle_name#en", a.MiddleNameLatin)
			set("name", accounts.FullName(a.GivenName, a.MiddleName, a.FamilyName))
			set("birthdate", a.Birthdate)
			set("locale", a.Locale)
			if !a.UpdatedAt.IsZero() {
				out["updated_at"] = a.UpdatedAt.Unix()
			}
		case "email":
			if a.Email != "" {
				out["email"], out["email_verified"] = a.Email, a.EmailVerified
			}
		case "phone":
			if a.Phone != "" {
				out["phone_number"], out["phone_number_verified"] = a.Phone, a.PhoneVerified
			}
		case "identity":
			set("account_kind", a.Kind)
			if len(a.Citizenships) > 0 {
				out["nationalities"] = a.Citizenships
			}
			set("country_of_residence", a.CountryOfResidence)
			set("account_level", a.Assurance)
		}
	}
	return out
}

// claimsRequest is the OIDC "claims" request parameter (Core §5.5).
type claimsRequest struct {
	UserInfo map[string]*claimRequest `json:"userinfo"`
	IDToken  map[string]*claimRequest `json:"id_token"`
}

type claimRequest struct {
	Essential bool     `json:"essential"`
	Value     string   `json:"value"`
	Values    []string `json:"values"`
}

// parseClaimsRequest reads the claims parameter; empty means none.
func parseClaimsRequest(s string) (claimsRequest, error) {
	var cr claimsRequest
	if s == "" {
		return cr, nil
	}
	if len(s) > 4096 {
		return cr, fmt.Errorf("claims parameter too long")
	}
	if err := json.Unmarshal([]byte(s), &cr); err != nil {
		return cr, fmt.Errorf("claims parameter is not a JSON object: %w", err)
	}
	return cr, nil
}

// essentialACR returns the acr values an essential acr claim demands.
func (cr claimsRequest) essentialACR() []string {
	var out []string
	for _, m := range []map[string]*claimRequest{cr.IDToken, cr.UserInfo} {
		if c := m["acr"]; c != nil && c.Essential {
			if c.Value != "" {
				out = append(out, c.Value)
			}
			out = append(out, c.Values...)
		}
	}
	return out
}

// idTokenClaims lists individual claims the request asks for in the ID
// token; they are released only when a granted scope covers them.
func (cr claimsRequest) idTokenClaims() []string {
	var out []string
	for k := range cr.IDToken {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
