package accounts

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk/store"
)

var testNow = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

// fieldErrors unpacks a joined validation error into field → messages.
func fieldErrors(t *testing.T, err error) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Fatalf("error %T %q is not a *FieldError", err, err)
		}
		out[fe.Field] = append(out[fe.Field], fe.Message)
	}
	if err != nil {
		walk(err)
	}
	return out
}

func TestProfileNormalize(t *testing.T) {
	in := Profile{
		Email:              "  Ivan.Petrov@Example.COM ",
		Phone:              "+7 (999) 123-45-67",
		Kind:               " Citizen ",
		GivenName:          " Пётр ",
		FamilyName:         "Иванов",
		MiddleName:         "Се\u0301ргеевич",
		GivenNameLatin:     "Petr",
		FamilyNameLatin:    "Ivanov",
		Birthdate:          "1985-07-01",
		Citizenships:       []string{"ru", "de", "RU", " kz "},
		CountryOfResidence: "de",
		Locale:             "ru_ru",
	}
	got, err := in.normalize(testNow)
	if err != nil {
		t.Fatal(err)
	}
	want := Profile{
		Email:              "Ivan.Petrov@example.com",
		Phone:              "+79991234567",
		Kind:               KindCitizen,
		GivenName:          "Пётр",
		FamilyName:         "Иванов",
		MiddleName:         "Се\u0301ргеевич",
		GivenNameLatin:     "Petr",
		FamilyNameLatin:    "Ivanov",
		Birthdate:          "1985-07-01",
		Citizenships:       []string{"DE", "KZ", "RU"},
		CountryOfResidence: "DE",
		Locale:             "ru-RU",
		Assurance:          AssuranceSimplified,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Normalize =\n%+v\nwant\n%+v", got, want)
	}
	if again, err := got.normalize(testNow); err != nil || !reflect.DeepEqual(again, got) {
		t.Errorf("Normalize is not idempotent: %+v, %v", again, err)
	}
	if in.Citizenships[0] != "ru" {
		t.Error("Normalize changed its receiver's slice")
	}
}

func TestProfileMinimal(t *testing.T) {
	for _, p := range []Profile{
		{Kind: KindForeignNational},
		{Kind: KindCompatriot, Citizenships: []string{"KZ"}, Assurance: AssuranceStandard},
		{Kind: KindCitizen, Citizenships: []string{"RU"}, Birthdate: "1900-01-01", Assurance: "confirmed"},
		{Kind: KindCitizen, Citizenships: []string{"RU"}, Birthdate: testNow.Format(time.DateOnly)},
	} {
		if _, err := p.normalize(testNow); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
}

func TestProfileRules(t *testing.T) {
	for _, tc := range []struct {
		p     Profile
		field string
		msg   string
	}{
		{Profile{}, "kind", "kind is required"},
		{Profile{Kind: "tourist"}, "kind", `unknown account kind "tourist"`},
		{Profile{Kind: KindForeignNational, Email: "ivan@"}, "email", "email is not a valid e-mail address"},
		{Profile{Kind: KindForeignNational, Email: "Ivan <ivan@example.com>"}, "email", "email is not a valid e-mail address"},
		{Profile{Kind: KindForeignNational, Phone: "89991234567"}, "phone", "phone must be in international E.164 format"},
		{Profile{Kind: KindForeignNational, Phone: "+7123"}, "phone", "phone must be in international E.164 format"},
		{Profile{Kind: KindForeignNational, Phone: "+0123456789"}, "phone", "phone must be in international E.164 format"},
		{Profile{Kind: KindForeignNational, Phone: "+1234567890123456"}, "phone", "phone must be in international E.164 format"},
		{Profile{Kind: KindForeignNational, Phone: "+7 999 ext 1"}, "phone", "phone must be in international E.164 format"},
		{Profile{Kind: KindForeignNational, Birthdate: "01.07.1985"}, "birthdate", "birthdate must be a date in the form YYYY-MM-DD"},
		{Profile{Kind: KindForeignNational, Birthdate: "1985-7-1"}, "birthdate", "birthdate must be a date in the form YYYY-MM-DD"},
		{Profile{Kind: KindForeignNational, Birthdate: "1985-02-30"}, "birthdate", "birthdate must be a date in the form YYYY-MM-DD"},
		{Profile{Kind: KindForeignNational, Birthdate: "2026-03-16"}, "birthdate", "birthdate must be in the past"},
		{Profile{Kind: KindForeignNational, Birthdate: "1899-12-31"}, "birthdate", "birthdate must not be before 1900"},
		{Profile{Kind: KindForeignNational, Citizenships: []string{"XX"}}, "citizenships", `citizenship: unknown country code "XX"`},
		{Profile{Kind: KindCitizen, Citizenships: []string{"DE"}}, "citizenships", "a citizen account must list RU among citizenships"},
		{Profile{Kind: KindCitizen}, "citizenships", "a citizen account must list RU among citizenships"},
		{Profile{Kind: KindCompatriot, Citizenships: []string{"KZ", "ru"}}, "citizenships", "a compatriot account must not list RU among citizenships"},
		{Profile{Kind: KindForeignNational, Citizenships: []string{"RU"}}, "citizenships", "a foreign national account must not list RU among citizenships"},
		{Profile{Kind: KindForeignNational, CountryOfResidence: "RUS"}, "country_of_residence", `country of residence: unknown country code "RUS"`},
		{Profile{Kind: KindForeignNational, Locale: "not a tag"}, "locale", `locale "not a tag" is not a valid language tag`},
		{Profile{Kind: KindForeignNational, Locale: "zz"}, "locale", `locale "zz" is not a valid language tag`},
		{Profile{Kind: KindForeignNational, Assurance: "high"}, "assurance", `unknown assurance level "high"`},
		{Profile{Kind: KindForeignNational, GivenName: strings.Repeat("я", 201)}, "given_name", "given name must be at most 200 characters"},
		{Profile{Kind: KindForeignNational, FamilyName: "Ива\x07нов"}, "family_name", "family name must not contain control characters"},
		{Profile{Kind: KindForeignNational, MiddleNameLatin: "Ivan\u202eovich"}, "middle_name_latin", "middle name (Latin) must not contain control characters"},
		{Profile{Kind: KindForeignNational, GivenNameLatin: "\xff"}, "given_name_latin", "given name (Latin) must be valid UTF-8 text"},
	} {
		_, err := tc.p.normalize(testNow)
		fe := fieldErrors(t, err)
		if len(fe) != 1 || len(fe[tc.field]) != 1 || !strings.HasPrefix(fe[tc.field][0], tc.msg) {
			t.Errorf("%+v: errors %q, want only %s: %q", tc.p, fe, tc.field, tc.msg)
		}
	}
}

// All problems come back at once, so a form can show them together.
func TestProfileReportsAllProblems(t *testing.T) {
	p := Profile{
		Kind:               KindCitizen,
		Email:              "not-an-address",
		Phone:              "12345",
		Birthdate:          "3000-01-01",
		Citizenships:       []string{"DE", "XX"},
		CountryOfResidence: "643",
		Locale:             "??",
		Assurance:          "ultimate",
		GivenName:          "a\nb",
	}
	_, err := p.normalize(testNow)
	fe := fieldErrors(t, err)
	fields := make([]string, 0, len(fe))
	for f := range fe {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	want := []string{"assurance", "birthdate", "citizenships", "country_of_residence", "email", "given_name", "locale", "phone"}
	if !slices.Equal(fields, want) {
		t.Errorf("fields with errors %v, want %v", fields, want)
	}
	if n := len(fe["citizenships"]); n != 2 {
		t.Errorf("citizenships: %d errors %q, want unknown code and missing RU", n, fe["citizenships"])
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if line == "" || strings.ToLower(line[:1]) != line[:1] {
			t.Errorf("message %q does not start in lower case", line)
		}
	}
}

func TestProfileNormalizeUsesClock(t *testing.T) {
	// Normalize (not normalize) reads the real clock.
	if _, err := (Profile{Kind: KindForeignNational, Birthdate: "2999-01-01"}).Normalize(); err == nil {
		t.Error("a birthdate in 2999 was accepted")
	}
}

func TestWithProfile(t *testing.T) {
	stored := store.Account{
		ID: "a1", Username: "anna", Kind: string(KindCompatriot), Citizenships: []string{"KZ"},
		Email: "anna@example.org", EmailVerified: true, Phone: "+79991234567", PhoneVerified: true,
		Assurance: string(AssuranceSimplified),
	}
	for _, c := range []struct {
		name         string
		change       func(p *Profile)
		fields       []string
		email, phone bool // still verified
	}{
		{"nothing", func(p *Profile) {}, nil, true, true},
		{"other spellings", func(p *Profile) {
			p.Email, p.Phone, p.Citizenships = "anna@EXAMPLE.org", "+7 (999) 123-45-67", []string{"kz"}
		}, nil, true, true},
		{"names", func(p *Profile) { p.GivenName, p.FamilyNameLatin = " Анна ", "Ivanova" },
			[]string{"given_name", "family_name_latin"}, true, true},
		{"new e-mail address", func(p *Profile) { p.Email = "anna@example.com" }, []string{"email"}, false, true},
		{"new phone number", func(p *Profile) { p.Phone = "+79997654321" }, []string{"phone"}, true, false},
		{"kind and citizenships", func(p *Profile) { p.Kind, p.Citizenships = KindCitizen, []string{"RU", "KZ"} },
			[]string{"kind", "citizenships"}, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := ProfileOf(stored)
			c.change(&p)
			got, fields, err := WithProfile(stored, p)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(fields, c.fields) {
				t.Errorf("changed fields %v, want %v", fields, c.fields)
			}
			if got.EmailVerified != c.email || got.PhoneVerified != c.phone {
				t.Errorf("email_verified %v, phone_verified %v; want %v, %v", got.EmailVerified, got.PhoneVerified, c.email, c.phone)
			}
			if want, _ := p.Normalize(); !reflect.DeepEqual(ProfileOf(got), want) {
				t.Errorf("profile %+v, want %+v", ProfileOf(got), want)
			}
			if got.ID != stored.ID || got.Username != stored.Username {
				t.Errorf("identifiers changed: %+v", got)
			}
		})
	}
	p := ProfileOf(stored)
	p.Kind, p.Birthdate = KindCitizen, "yesterday"
	got, fields, err := WithProfile(stored, p)
	if errs := fieldErrors(t, err); len(errs["citizenships"]) != 1 || len(errs["birthdate"]) != 1 {
		t.Errorf("invalid profile: %v, want citizenships and birthdate problems", err)
	}
	if !reflect.DeepEqual(got, stored) || fields != nil {
		t.Errorf("an invalid profile gave %+v, %v; want the account unchanged", got, fields)
	}
}

func TestFullName(t *testing.T) {
	for _, c := range []struct{ given, middle, family, want string }{
		{"Пётр", "Сергеевич", "Иванов", "Пётр Сергеевич Иванов"},
		{"Anna", "", "Smith", "Anna Smith"},
		{"", "", "Smith", "Smith"},
		{"Anna Maria", "", "", "Anna Maria"},
		{"", "", "", ""},
	} {
		if got := FullName(c.given, c.middle, c.family); got != c.want {
			t.Errorf("FullName(%q, %q, %q) = %q, want %q", c.given, c.middle, c.family, got, c.want)
		}
	}
}
