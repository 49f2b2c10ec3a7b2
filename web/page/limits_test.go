package page

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestQueryText(t *testing.T) {
	for raw, want := range map[string]bool{
		"":                        true,
		"name=%D1%82%D0%B5%D0%BB": true,
		"name=phone%00":           false,
		"name=phone%FF":           false,
		"na%00me=phone":           false,
		"a=%zz&name=%00":          false, // a pair that does not parse does not hide the next
		"a=%zz":                   true,  // left to the handler's own form parsing
		"a=1;b=%00":               true,  // net/http drops semicolon pairs: nothing reaches storage
	} {
		if got := queryText(raw); got != want {
			t.Errorf("queryText(%q) = %v, want %v", raw, got, want)
		}
	}
}

// FuzzQueryText: whatever queryText accepts, net/http's form parsing yields
// only storable text.
func FuzzQueryText(f *testing.F) {
	for _, s := range []string{"a=b", "a=%00", "a=%ff&b=c", "%00=1", "a=%zz&b=%00", "a;b=%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if !queryText(raw) {
			return
		}
		vs, _ := url.ParseQuery(raw)
		for k, list := range vs {
			for _, s := range append(list, k) {
				if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
					t.Fatalf("queryText(%q) accepted %q", raw, s)
				}
			}
		}
	})
}
