package oauth

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The discovery document is a contract with every relying party: any
// change to it must show up in review as a change to this golden file.
func TestDiscoveryGolden(t *testing.T) {
	h := &Handler{Config: Config{Issuer: "https://id.example.org"}}
	got, err := json.MarshalIndent(h.discoveryDoc(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "discovery.golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./oauth -run Discovery -update)", err)
	}
	if string(got) != string(want) {
		t.Fatalf("discovery document changed; if intended, run go test ./oauth -run Discovery -update\n got: %s\nwant: %s", got, want)
	}
}

func TestRequirement(t *testing.T) {
	pwd := func(l int) acr { return acr{level: l} }
	mfa := func(l int) acr { return acr{level: l, mfa: true} }
	for _, tc := range []struct {
		min, values string
		essential   []string
		ok          bool
		met, unmet  []acr
	}{
		{"", "", nil, true, []acr{pwd(0)}, nil},
		{"standard", "", nil, true, []acr{pwd(1), mfa(2)}, []acr{mfa(0)}},
		{"standard:mfa", "", nil, true, []acr{mfa(1)}, []acr{pwd(2), mfa(0)}},
		{"", ACRConfirmed + " " + ACRStandard, nil, true, []acr{pwd(1)}, []acr{mfa(0)}},
		{"", ACRStandard + ":mfa " + ACRConfirmed, nil, true, []acr{mfa(1), pwd(2)}, []acr{pwd(1), mfa(0)}},
		{"confirmed", ACRSimplified, nil, true, []acr{pwd(2)}, []acr{mfa(1)}},
		{"", "", []string{ACRConfirmed + ":mfa"}, true, []acr{mfa(2)}, []acr{pwd(2)}},
		{"", "urn:other", nil, false, nil, nil},
		{"", "urn:other " + ACRStandard, nil, true, []acr{pwd(1)}, []acr{pwd(0)}},
	} {
		req, ok := newRequirement(tc.min, tc.values, tc.essential)
		if ok != tc.ok {
			t.Errorf("newRequirement(%q, %q, %v) ok = %v", tc.min, tc.values, tc.essential, ok)
			continue
		}
		for _, a := range tc.met {
			if !req.metBy(a) {
				t.Errorf("%v should meet (%q, %q, %v)", a, tc.min, tc.values, tc.essential)
			}
		}
		for _, a := range tc.unmet {
			if req.metBy(a) {
				t.Errorf("%v should not meet (%q, %q, %v)", a, tc.min, tc.values, tc.essential)
			}
		}
	}
	if got := AchievedACR("standard", []string{"pwd", "otp"}); got != ACRStandard+":mfa" {
		t.Errorf("AchievedACR = %q", got)
	}
}
