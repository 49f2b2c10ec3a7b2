package accounts

import "testing"

func TestParseKind(t *testing.T) {
	for in, want := range map[string]Kind{
		"citizen": KindCitizen, " Compatriot ": KindCompatriot, "foreign_national": KindForeignNational,
	} {
		got, err := ParseKind(in)
		if err != nil || got != want {
			t.Errorf("ParseKind(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "resident", "foreign national"} {
		if k, err := ParseKind(in); err == nil {
			t.Errorf("ParseKind(%q) = %q, want error", in, k)
		}
	}
}

func TestAssurance(t *testing.T) {
	for _, in := range []string{"simplified", "standard", "CONFIRMED"} {
		if _, err := ParseAssurance(in); err != nil {
			t.Errorf("ParseAssurance(%q): %v", in, err)
		}
	}
	if _, err := ParseAssurance("high"); err == nil {
		t.Error(`ParseAssurance("high") succeeded`)
	}
	levels := []Assurance{AssuranceSimplified, AssuranceStandard, AssuranceConfirmed}
	for i, a := range levels {
		for j, b := range levels {
			if got, want := a.AtLeast(b), i >= j; got != want {
				t.Errorf("%s.AtLeast(%s) = %v, want %v", a, b, got, want)
			}
		}
		if a.AtLeast("bogus") || Assurance("bogus").AtLeast(a) || Assurance("").AtLeast(a) {
			t.Errorf("unknown level compared as known against %s", a)
		}
	}
}
