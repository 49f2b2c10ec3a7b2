package accounts

import "testing"

func TestNormalizeCountry(t *testing.T) {
	for in, want := range map[string]string{"RU": "RU", "kz": "KZ", " de ": "DE", "Am": "AM", "GB": "GB", "XK": "XK"} {
		if got, err := NormalizeCountry(in); err != nil || got != want {
			t.Errorf("NormalizeCountry(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"XX":  `unknown country code "XX"`,
		"xx":  `unknown country code "xx"`,
		"RUS": `unknown country code "RUS"`,
		"643": `unknown country code "643"`,
		"":    "country code is required",
		"ZZ":  `unknown country code "ZZ"`,
		"EU":  `unknown country code "EU"`, // a group, not a country
		"UK":  `unknown country code "UK"`, // reserved; GB is the code
		"SU":  `unknown country code "SU"`, // USSR
		"R1":  `unknown country code "R1"`,
		"ЯЯ":  `unknown country code "ЯЯ"`,
	} {
		got, err := NormalizeCountry(in)
		if err == nil {
			t.Errorf("NormalizeCountry(%q) = %q, want error", in, got)
		} else if err.Error() != msg {
			t.Errorf("NormalizeCountry(%q) error %q, want %q", in, err, msg)
		}
	}
}
