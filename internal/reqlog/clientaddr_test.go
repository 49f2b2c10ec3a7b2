package reqlog

import (
	"net/http/httptest"
	"testing"
)

func TestClientAddr(t *testing.T) {
	proxies, err := ParseProxies("10.0.0.0/8, 192.0.2.7 ,2001:db8::/32")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"no proxy in front", "198.51.100.1:4000", nil, "198.51.100.1"},
		{"an untrusted peer's header is ignored", "198.51.100.1:4000", []string{"203.0.113.9"}, "198.51.100.1"},
		{"one trusted proxy", "10.1.2.3:4000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"a forged entry left of the real client", "10.1.2.3:4000", []string{"6.6.6.6, 203.0.113.9"}, "203.0.113.9"},
		{"two trusted proxies", "10.1.2.3:4000", []string{"203.0.113.9, 192.0.2.7"}, "203.0.113.9"},
		{"several header lines", "10.1.2.3:4000", []string{"6.6.6.6", "203.0.113.9", "10.9.9.9"}, "203.0.113.9"},
		{"IPv6 client", "[2001:db8::1]:4000", []string{"2001:db8:1::5"}, "2001:db8:1::5"},
		{"IPv4-mapped client", "10.1.2.3:4000", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
		{"garbage stops at the last trusted hop", "10.1.2.3:4000", []string{"203.0.113.9, not-an-ip"}, "10.1.2.3"},
		{"only trusted hops", "10.1.2.3:4000", []string{"10.4.4.4"}, "10.4.4.4"},
		{"trusted peer, no header", "10.1.2.3:4000", nil, "10.1.2.3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := proxies.ClientAddr(r); got != tc.want {
				t.Errorf("ClientAddr = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseProxies(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "example.org", "fe80::1%eth0", "10.0.0.1/8/2"} {
		if _, err := ParseProxies(bad); err == nil {
			t.Errorf("ParseProxies(%q) accepted", bad)
		}
	}
	if ps, err := ParseProxies(" , "); err != nil || len(ps) != 0 {
		t.Errorf("an empty list: %v, %v", ps, err)
	}
}
