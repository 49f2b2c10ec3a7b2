package accounts

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"

	"github.com/propusk/propusk/store"
)

// MaxNameLength is the longest accepted name part, in characters.
const MaxNameLength = 200

// russia is the country code that separates citizens from everyone else.
const russia = "RU"

// Profile is the person data of an account as entered, before validation.
// It mirrors store.Account without the identifiers, secrets, timestamps and
// verification flags: those are set by Service, never by the person.
type Profile struct {
	Email string
	Phone string // E.164; spaces, '-', '(' and ')' are tolerated on input

	Kind Kind

	GivenName  string
	FamilyName string
	MiddleName string // patronymic
	// Latin-script renderings, as in a foreign passport.
	GivenNameLatin  string
	FamilyNameLatin string
	MiddleNameLatin string

	Birthdate          string   // YYYY-MM-DD, or empty
	Citizenships       []string // ISO 3166-1 alpha-2
	CountryOfResidence string   // ISO 3166-1 alpha-2, or empty
	Locale             string   // BCP 47, or empty
	Assurance          Assurance
}

// Normalize validates p and returns it in stored form: trimmed, codes upper
// case, citizenships sorted and deduplicated, locale canonical, assurance
// defaulted to simplified. It reports every problem at once, each a
// *FieldError, joined with errors.Join, so a form can mark all fields in one
// round trip.
func (p Profile) Normalize() (Profile, error) { return p.normalize(time.Now()) }

func (p Profile) normalize(now time.Time) (Profile, error) {
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, fieldError(field, fmt.Sprintf(format, args...)))
	}

	if strings.TrimSpace(string(p.Kind)) == "" {
		fail("kind", "kind is required")
	} else if k, err := ParseKind(string(p.Kind)); err != nil {
		fail("kind", "%s", err)
	} else {
		p.Kind = k
	}

	// The e-mail keeps the case of its local part (which mail servers may
	// honour); only the domain, which is case-insensitive, is folded.
	p.Email = norm.NFC.String(strings.TrimSpace(p.Email))
	if p.Email != "" {
		if local, domain, ok := strings.Cut(p.Email, "@"); ok {
			p.Email = local + "@" + fold(norm.NFKC.String(domain))
		}
		if msg := checkEmail(p.Email); msg != "" {
			fail("email", "email %s", msg)
		}
	}

	if p.Phone = strings.TrimSpace(p.Phone); p.Phone != "" {
		if phone, ok := normalizePhone(p.Phone); ok {
			p.Phone = phone
		} else {
			fail("phone", "phone must be in international E.164 format: + and 8 to 15 digits")
		}
	}

	for _, n := range []struct {
		field, label string
		v            *string
	}{
		{"given_name", "given name", &p.GivenName},
		{"family_name", "family name", &p.FamilyName},
		{"middle_name", "middle name", &p.MiddleName},
		{"given_name_latin", "given name (Latin)", &p.GivenNameLatin},
		{"family_name_latin", "family name (Latin)", &p.FamilyNameLatin},
		{"middle_name_latin", "middle name (Latin)", &p.MiddleNameLatin},
	} {
		if !utf8.ValidString(*n.v) {
			fail(n.field, "%s must be valid UTF-8 text", n.label)
			continue
		}
		// NFC, not NFKC: a name is shown as the person wrote it, only
		// with one encoding for each visible character.
		*n.v = strings.TrimSpace(norm.NFC.String(*n.v))
		if utf8.RuneCountInString(*n.v) > MaxNameLength {
			fail(n.field, "%s must be at most %d characters", n.label, MaxNameLength)
		}
		if hasControl(*n.v) {
			fail(n.field, "%s must not contain control characters", n.label)
		}
	}

	if p.Birthdate = strings.TrimSpace(p.Birthdate); p.Birthdate != "" {
		d, err := time.Parse(time.DateOnly, p.Birthdate)
		switch {
		case err != nil || len(p.Birthdate) != len(time.DateOnly):
			fail("birthdate", "birthdate must be a date in the form YYYY-MM-DD")
		case d.After(now):
			fail("birthdate", "birthdate must be in the past")
		case d.Year() < 1900:
			fail("birthdate", "birthdate must not be before 1900")
		}
	}

	var cits []string
	for _, c := range p.Citizenships {
		code, err := NormalizeCountry(c)
		if err != nil {
			fail("citizenships", "citizenship: %s", err)
			continue
		}
		cits = append(cits, code)
	}
	slices.Sort(cits)
	p.Citizenships = slices.Compact(cits)
	// The kind must agree with the citizenships: relying parties decide what
	// a person may do from the kind, and must not get a "citizen" without
	// Russian citizenship or a "compatriot" who is in fact a citizen.
	hasRU := slices.Contains(p.Citizenships, russia)
	switch {
	case p.Kind == KindCitizen && !hasRU:
		fail("citizenships", "a citizen account must list RU among citizenships")
	case p.Kind == KindCompatriot && hasRU:
		fail("citizenships", "a compatriot account must not list RU among citizenships")
	case p.Kind == KindForeignNational && hasRU:
		fail("citizenships", "a foreign national account must not list RU among citizenships")
	}

	if p.CountryOfResidence = strings.TrimSpace(p.CountryOfResidence); p.CountryOfResidence != "" {
		if code, err := NormalizeCountry(p.CountryOfResidence); err != nil {
			fail("country_of_residence", "country of residence: %s", err)
		} else {
			p.CountryOfResidence = code
		}
	}

	if p.Locale = strings.TrimSpace(p.Locale); p.Locale != "" {
		if tag, err := language.Parse(p.Locale); err != nil {
			fail("locale", "locale %q is not a valid language tag", p.Locale)
		} else {
			p.Locale = tag.String()
		}
	}

	if strings.TrimSpace(string(p.Assurance)) == "" {
		p.Assurance = AssuranceSimplified
	} else if a, err := ParseAssurance(string(p.Assurance)); err != nil {
		fail("assurance", "%s", err)
	} else {
		p.Assurance = a
	}

	if len(errs) > 0 {
		return Profile{}, errors.Join(errs...)
	}
	return p, nil
}

// normalizePhone strips the separators people type and checks E.164: '+',
// a country code not starting with 0, 8 to 15 digits in all.
func normalizePhone(s string) (string, bool) {
	s = norm.NFKC.String(s) // fullwidth digits and plus
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '+' && i == 0:
			b.WriteRune(r)
		case '0' <= r && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')':
		default:
			return "", false
		}
	}
	e := b.String()
	if len(e) < 9 || len(e) > 16 || e[0] != '+' || e[1] == '0' {
		return "", false
	}
	return e, true
}

// FullName is a person's name in one line: the given, middle and family
// names that are set, in that order (the OIDC name claim).
func FullName(given, middle, family string) string {
	return strings.Join(slices.DeleteFunc([]string{given, middle, family}, func(s string) bool { return s == "" }), " ")
}

// ProfileOf is the person data of a stored account.
func ProfileOf(a store.Account) Profile {
	return Profile{
		Email: a.Email, Phone: a.Phone, Kind: Kind(a.Kind),
		GivenName: a.GivenName, FamilyName: a.FamilyName, MiddleName: a.MiddleName,
		GivenNameLatin: a.GivenNameLatin, FamilyNameLatin: a.FamilyNameLatin, MiddleNameLatin: a.MiddleNameLatin,
		Birthdate: a.Birthdate, Citizenships: slices.Clone(a.Citizenships), CountryOfResidence: a.CountryOfResidence,
		Locale: a.Locale, Assurance: Assurance(a.Assurance),
	}
}

// WithProfile is account a with its person data replaced by p, once p has
// passed Normalize (its errors are returned as they are), and the fields
// that changed, named as FieldError names them (given_name, citizenships
// …). Values are compared normalised: another spelling of what a holds is
// no change. A changed e-mail address or phone number is no longer
// verified, for the check was of the old one. The caller sets UpdatedAt
// and stores the result.
func WithProfile(a store.Account, p Profile) (store.Account, []string, error) {
	p, err := p.Normalize()
	if err != nil {
		return a, nil, err
	}
	old := a
	fields := changedFields(ProfileOf(old), p)
	p.apply(&a)
	if a.Email != old.Email {
		a.EmailVerified = false
	}
	if a.Phone != old.Phone {
		a.PhoneVerified = false
	}
	return a, fields, nil
}

// changedFields names the fields in which two normalised profiles differ.
func changedFields(old, p Profile) []string {
	var fields []string
	diff := func(field string, changed bool) {
		if changed {
			fields = append(fields, field)
		}
	}
	diff("email", old.Email != p.Email)
	diff("phone", old.Phone != p.Phone)
	diff("kind", old.Kind != p.Kind)
	diff("given_name", old.GivenName != p.GivenName)
	diff("family_name", old.FamilyName != p.FamilyName)
	diff("middle_name", old.MiddleName != p.MiddleName)
	diff("given_name_latin", old.GivenNameLatin != p.GivenNameLatin)
	diff("family_name_latin", old.FamilyNameLatin != p.FamilyNameLatin)
	diff("middle_name_latin", old.MiddleNameLatin != p.MiddleNameLatin)
	diff("birthdate", old.Birthdate != p.Birthdate)
	diff("citizenships", !slices.Equal(old.Citizenships, p.Citizenships))
	diff("country_of_residence", old.CountryOfResidence != p.CountryOfResidence)
	diff("locale", old.Locale != p.Locale)
	diff("assurance", old.Assurance != p.Assurance)
	return fields
}

// apply copies the person data of p onto a.
func (p Profile) apply(a *store.Account) {
	a.Email = p.Email
	a.Phone = p.Phone
	a.Kind = string(p.Kind)
	a.GivenName, a.FamilyName, a.MiddleName = p.GivenName, p.FamilyName, p.MiddleName
	a.GivenNameLatin, a.FamilyNameLatin, a.MiddleNameLatin = p.GivenNameLatin, p.FamilyNameLatin, p.MiddleNameLatin
	a.Birthdate = p.Birthdate
	a.Citizenships = slices.Clone(p.Citizenships)
	a.CountryOfResidence = p.CountryOfResidence
	a.Locale = p.Locale
	a.Assurance = string(p.Assurance)
}
