package oauth

import (
	"testing"

	"github.com/ory/fosite"
)

func TestRedirectRegistered(t *testing.T) {
	confidential := &fosite.DefaultClient{RedirectURIs: []string{"http://127.0.0.1:9999/cb", "https://card.example/cb?x=1"}}
	public := &fosite.DefaultClient{Public: true, RedirectURIs: []string{"http://127.0.0.1/cb", "http://[::1]:8080/cb?a=b", "http://localhost/cb", "https://127.0.0.1/cb"}}
	for _, tc := range []struct {
		client fosite.Client
		uri    string
		want   bool
	}{
		{confidential, "http://127.0.0.1:9999/cb", true},
		{confidential, "https://card.example/cb?x=1", true},
		{confidential, "http://127.0.0.1:19999/cb", false}, // fosite's loopback rule let this through
		{confidential, "http://127.0.0.1/cb", false},
		{confidential, "http://127.0.0.1:9999/cb/", false},
		{confidential, "http://127.0.0.1:9999/CB", false},
		{confidential, "https://card.example/cb?x=1&y=2", false},
		{confidential, "https://card.example:443/cb?x=1", false},
		{public, "http://127.0.0.1/cb", true},
		{public, "http://127.0.0.1:43210/cb", true},
		{public, "http://[::1]:1/cb?a=b", true},
		{public, "http://[::1]:1/cb", false},
		{public, "http://127.0.0.1:43210/cb/x", false},
		{public, "http://[::1]:43210/cb", false},     // another host than registered
		{public, "http://localhost:43210/cb", false}, // a name, not a loopback IP literal (RFC 8252 §8.3)
		{public, "http://user@127.0.0.1:43210/cb", false},
		{public, "http://127.0.0.1:43210/cb#f", false},
		{public, "https://127.0.0.1:43210/cb", false}, // port freedom is for http loopback only
	} {
		if got := redirectRegistered(tc.uri, tc.client); got != tc.want {
			t.Errorf("public=%v %s: %v, want %v", tc.client.IsPublic(), tc.uri, got, tc.want)
		}
	}
}
