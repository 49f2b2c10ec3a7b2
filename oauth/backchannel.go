package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/ory/fosite"

	"github.com/propusk/propusk/clients"
)

// The back channel is what clients call directly: the token, PAR,
// introspection and revocation endpoints. They share the request checks
// fosite leaves out and one way of answering an error (RFC 6749 §5.2),
// in this file.

// checks runs the request checks in order and returns the first refusal.
func checks(r *http.Request, check ...func(*http.Request) error) error {
	for _, c := range check {
		if err := c(r); err != nil {
			return err
		}
	}
	return nil
}

// requires is the check that the named parameters are present.
func requires(names ...string) func(*http.Request) error {
	return func(r *http.Request) error { return checkRequired(r, names...) }
}

// checkForm refuses what RFC 6749 forbids in any back-channel request and
// fosite lets through. It parses the body the way fosite does.
//
//   - A parameter sent twice (§3.1, §3.2): fosite reads the first value,
//     while a proxy or WAF in front may have checked the second
//     (parameter pollution).
//   - Client credentials in the URL (§2.3.1): they end up in access logs.
//   - More than one way of authenticating (§2.3): fosite takes the
//     assertion and ignores Basic credentials beside it, so which
//     credential was checked depends on fosite's order, not the client's.
func checkForm(r *http.Request) error {
	if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return fosite.ErrInvalidRequest.WithHint("The request body could not be parsed as a form.").WithWrap(err)
	}
	for name, values := range r.Form {
		if len(values) > 1 {
			return fosite.ErrInvalidRequest.WithHintf("The parameter '%s' was sent more than once.", name)
		}
	}
	// No name is sent twice by now, so one in r.Form but not in the body
	// came in the URL (r.Form holds both; no second parse of the query).
	for _, name := range []string{"client_secret", "client_assertion"} {
		if r.Form.Has(name) && !r.PostForm.Has(name) {
			return fosite.ErrInvalidRequest.WithHintf("The parameter '%s' must not be sent in the URL.", name)
		}
	}
	mechanisms := 0
	if _, _, ok := r.BasicAuth(); ok {
		mechanisms++
	}
	if r.PostForm.Get("client_secret") != "" {
		mechanisms++
	}
	if r.PostForm.Get("client_assertion") != "" || r.PostForm.Get("client_assertion_type") != "" {
		mechanisms++
	}
	if mechanisms > 1 {
		return fosite.ErrInvalidRequest.WithHint("The client used more than one authentication method.")
	}
	return nil
}

// checkClientNamed refuses a request that names no client at all: no
// Authorization header, no client_id, no assertion. fosite answers that
// with invalid_request; RFC 6749 §5.2 makes "no client authentication
// included" invalid_client.
func checkClientNamed(r *http.Request) error {
	if r.Header.Get("Authorization") != "" || r.PostForm.Get("client_id") != "" || r.PostForm.Get("client_assertion") != "" {
		return nil
	}
	return fosite.ErrInvalidClient.WithHint("The client did not authenticate.")
}

// checkRequired refuses a request without one of the named parameters
// (RFC 6749 §5.2 invalid_request: "missing a required parameter").
// fosite would look the empty value up and answer invalid_grant, or, at
// revocation, succeed.
func checkRequired(r *http.Request, names ...string) error {
	for _, name := range names {
		if r.PostForm.Get(name) == "" {
			return fosite.ErrInvalidRequest.WithHintf("The parameter '%s' is missing.", name)
		}
	}
	return nil
}

// checkGrant answers unsupported_grant_type for a grant Propusk does not
// serve (password, device code, JWT bearer …), before any client
// authentication: some of those grants authenticate no client at all, and
// fosite would answer invalid_request. It also asks for the parameters
// each served grant requires: the code and its PKCE verifier (PKCE is
// mandatory here), or the refresh token.
func checkGrant(r *http.Request) error {
	gt := r.PostForm.Get("grant_type")
	switch {
	case gt == "":
		return fosite.ErrInvalidRequest.WithHint("The parameter 'grant_type' is missing.")
	case !slices.Contains(clients.SupportedGrantTypes, gt):
		return fosite.ErrUnsupportedGrantType.WithHintf("The grant type '%s' is not supported.", gt)
	case gt == clients.GrantAuthorizationCode:
		return checkRequired(r, "code", "code_verifier")
	case gt == clients.GrantRefreshToken:
		return checkRequired(r, "refresh_token")
	}
	return nil
}

// grantGuard is the first token-endpoint handler: it runs once fosite has
// authenticated the client and before the grant's own handler. fosite
// checks a client's grant registration in each handler, some after other
// checks (client_credentials looks at scopes and public clients first), so
// an unregistered grant could come back invalid_scope or invalid_grant;
// RFC 6749 §5.2 makes it unauthorized_client, always.
type grantGuard struct{}

func (grantGuard) HandleTokenEndpointRequest(_ context.Context, ar fosite.AccessRequester) error {
	c := ar.GetClient()
	gt := ar.GetGrantTypes()
	if len(gt) != 1 || !c.GetGrantTypes().Has(gt[0]) {
		return fosite.ErrUnauthorizedClient.WithHintf("The client is not registered for the grant type '%s'.", strings.Join(gt, " "))
	}
	if gt[0] == clients.GrantClientCredentials {
		if c.IsPublic() {
			return fosite.ErrUnauthorizedClient.WithHint("A public client cannot use the client_credentials grant.")
		}
		// The client acts for itself: no person signs in (openid) or
		// stays signed in (offline_access). Granting the rest silently
		// would hand out a token of another scope than asked for.
		for _, s := range ar.GetRequestedScopes() {
			if s == "openid" || s == "offline_access" {
				return fosite.ErrInvalidScope.WithHintf("The scope '%s' cannot be granted to a client acting for itself.", s)
			}
		}
	}
	return fosite.ErrUnknownRequest // the grant's own handler goes on
}

func (grantGuard) PopulateTokenEndpointResponse(context.Context, fosite.AccessRequester, fosite.AccessResponder) error {
	return fosite.ErrUnknownRequest
}

func (grantGuard) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool { return false }

func (grantGuard) CanHandleTokenEndpointRequest(context.Context, fosite.AccessRequester) bool {
	return true
}

var _ fosite.TokenEndpointHandler = grantGuard{}

// assertionAudiences is fosite's configuration with the audiences a
// private_key_jwt assertion may name (RFC 7523 §3; rfc7523bis asks for the
// issuer): the issuer and every endpoint that authenticates clients.
// fosite calls them token URLs.
type assertionAudiences struct {
	*fosite.Config
	audiences []string
	fosite    *fosite.Fosite // for its default client authentication
}

func (c *assertionAudiences) GetTokenURLs(context.Context) []string { return c.audiences }

// GetClientAuthenticationStrategy is fosite's client authentication with
// two of RFC 7523's rules it leaves out, for assertions:
//   - Every audience must be Propusk's. fosite takes an array that holds
//     one of ours beside anything else; a client that also talks to a
//     malicious server can be led to sign such an assertion, which that
//     server then replays here (the audience injection rfc7523bis closes).
//   - A bad assertion is invalid_client (§3.2), whatever the cause: fosite
//     answers an unknown key ID or an unparsable JWT with invalid_request.
func (c *assertionAudiences) GetClientAuthenticationStrategy(context.Context) fosite.ClientAuthenticationStrategy {
	return c.authenticate
}

func (c *assertionAudiences) authenticate(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	assertion := form.Get("client_assertion")
	if assertion != "" && !c.onlyOurAudiences(assertion) {
		return nil, fosite.ErrInvalidClient.WithHint("The client assertion must be a JWT in compact serialization whose audience is this provider's issuer (or one of its endpoints), and nothing else.")
	}
	client, err := c.fosite.DefaultClientAuthenticationStrategy(ctx, r, form)
	if err != nil && assertion != "" && errors.Is(err, fosite.ErrInvalidRequest) {
		rfc := fosite.ErrorToRFC6749Error(err)
		return nil, fosite.ErrInvalidClient.WithHint(rfc.HintField).WithDebug(rfc.DebugField).WithWrap(err)
	}
	return client, err
}

// onlyOurAudiences reads the assertion's aud without verifying it (the
// signature is fosite's to check next; this only refuses): a string or an
// array, every value one of c.audiences. What this parse cannot read is
// refused, never left to fosite: fosite's parser (go-jose v3) also takes
// the JSON serialization and strips white space, so an assertion for
// [attacker, us] re-encoded either way would skip this check and pass
// fosite's (a JWT is compact, RFC 7519 §1).
func (c *assertionAudiences) onlyOurAudiences(assertion string) bool {
	tok, err := josejwt.ParseSigned(assertion, assertionAlgs)
	if err != nil {
		return false
	}
	var claims josejwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&claims); err != nil {
		return false
	}
	for _, aud := range claims.Audience {
		if !slices.Contains(c.audiences, aud) {
			return false
		}
	}
	return true
}

// assertionAlgs are the algorithms a parse of an assertion's claims
// accepts; which one the client may use is fosite's check (clients.AssertionAlg).
var assertionAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.ES512, jose.PS256, jose.PS384, jose.PS512, jose.RS256, jose.RS384, jose.RS512}

// clientAuthenticator is the part of fosite that authenticates a client by
// the client's registered method; introspection needs it directly.
type clientAuthenticator interface {
	AuthenticateClient(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error)
}
