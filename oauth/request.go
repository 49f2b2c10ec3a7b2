package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"net/url"

	"github.com/ory/fosite"

	"github.com/propusk/propusk/store"
)

// provider is fosite with two of its authorization-request rules replaced
// by the standards' own. Every authorization request Propusk reads, at the
// authorization endpoint and at PAR, goes through it; a flow's request is
// checked by the same redirect rule again when it is answered (resume).
//
//   - Redirect URIs match byte for byte. fosite lets any port through for
//     a registered loopback URI, for every client; that freedom is for
//     native apps (RFC 8252 §7.3), which are public clients. For a
//     confidential client it would send the person's code to whatever
//     listens on another port of the same host (RFC 9700 §4.1.3).
//   - state is optional (RFC 6749 §4.1.1; PKCE, which every client must
//     use, is the CSRF defence, RFC 9700 §2.1). fosite refuses a request
//     without one with invalid_state, and no setting lifts that: it reads
//     a minimum of 0 as 8 (Config.MinParameterEntropy is 1, so a state or
//     nonce of any length passes). The state check is the last one fosite
//     makes, so a request refused only for it is otherwise valid.
type provider struct {
	*fosite.Fosite
}

func (p provider) NewAuthorizeRequest(ctx context.Context, r *http.Request) (fosite.AuthorizeRequester, error) {
	ar, err := p.Fosite.NewAuthorizeRequest(ctx, r)
	return ar, amendAuthorizeRequest(ar, err)
}

func (p provider) NewPushedAuthorizeRequest(ctx context.Context, r *http.Request) (fosite.AuthorizeRequester, error) {
	ar, err := p.Fosite.NewPushedAuthorizeRequest(ctx, r)
	lifted := err != nil && errors.Is(err, fosite.ErrInvalidState)
	err = amendAuthorizeRequest(ar, err)
	// fosite returns before its last PAR check when the state check fails;
	// it is made here instead.
	if err == nil && lifted && ar.GetRequestedScopes().Has("openid") && ar.GetRequestForm().Get("redirect_uri") == "" {
		err = fosite.ErrInvalidRequest.WithHint("Query parameter 'redirect_uri' is required when performing an OpenID Connect flow.")
	}
	return ar, err
}

// NewAccessResponse names the grant's person in the context for the
// refresh and code grants, so the transaction fosite begins through
// Storage.BeginTX takes that person's grant lock before it rotates or
// redeems anything.
func (p provider) NewAccessResponse(ctx context.Context, ar fosite.AccessRequester) (fosite.AccessResponder, error) {
	gt := ar.GetGrantTypes()
	if gt.ExactOne("refresh_token") || gt.ExactOne("authorization_code") {
		if sess := ar.GetSession(); sess != nil && sess.GetSubject() != "" {
			ctx = store.WithGrantSubject(ctx, sess.GetSubject())
		}
	}
	return p.Fosite.NewAccessResponse(ctx, ar)
}

// amendAuthorizeRequest applies the two rules to what fosite answered.
// A redirect URI that fosite accepted but the exact rule refuses is
// dropped from the request, so the refusal is a page and never a
// redirect to it (authorizeError).
func amendAuthorizeRequest(ar fosite.AuthorizeRequester, err error) error {
	if a, ok := ar.(*fosite.AuthorizeRequest); ok && a.RedirectURI != nil && a.Client != nil {
		// An absent redirect_uri means the client's only registered one,
		// which fosite used.
		if raw := a.Form.Get("redirect_uri"); raw != "" && !redirectRegistered(raw, a.Client) {
			a.RedirectURI = nil
			return fosite.ErrInvalidRequest.WithHint("The 'redirect_uri' parameter does not match any of the OAuth 2.0 Client's pre-registered redirect urls.")
		}
	}
	if err != nil && errors.Is(err, fosite.ErrInvalidState) {
		return nil
	}
	return err
}

// redirectRegistered says whether raw is one of the client's registered
// redirect URIs: the same string, or, for a public client, the same
// loopback URI with another port.
func redirectRegistered(raw string, c fosite.Client) bool {
	for _, reg := range c.GetRedirectURIs() {
		if raw == reg || (c.IsPublic() && loopbackOtherPort(raw, reg)) {
			return true
		}
	}
	return false
}

// loopbackOtherPort: requested and registered are http URIs on the same
// loopback IP literal with the same path and query, whatever their ports
// (RFC 8252 §7.3: a native app listens on a port the system gives it).
func loopbackOtherPort(requested, registered string) bool {
	q, err1 := url.Parse(requested)
	g, err2 := url.Parse(registered)
	if err1 != nil || err2 != nil || q.Scheme != "http" || g.Scheme != "http" || q.User != nil || g.User != nil {
		return false
	}
	addr, err := netip.ParseAddr(q.Hostname())
	if err != nil || !addr.IsLoopback() || addr.Zone() != "" || q.Hostname() != g.Hostname() {
		return false
	}
	return q.EscapedPath() == g.EscapedPath() && q.RawQuery == g.RawQuery && q.Fragment == "" && g.Fragment == ""
}

var (
	_ fosite.OAuth2Provider = provider{}
	_ clientAuthenticator   = provider{} // the back-channel endpoints authenticate clients through it
)
