package oauth

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/gorilla/mux"
	"github.com/ory/fosite"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/consent"
	"github.com/propusk/propusk/flow"
	"github.com/propusk/propusk/internal/clock"
	"github.com/propusk/propusk/internal/seal"
	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/web/page"
)

// Handler serves the provider's endpoints. Its fields are its dependencies,
// set once by cmd before Mount.
type Handler struct {
	Config   Config
	Storage  *Storage
	Keys     *KeySet
	Accounts store.Accounts
	Sessions *accounts.Sessions
	Flows    *flow.Service
	Consents *consent.Service
	Ring     *seal.Ring
	Pages    *page.Renderer
	Logger   *slog.Logger
	Clock    clock.Func

	provider fosite.OAuth2Provider
	fosite   *fosite.Config
}

// SessionCookie is the SSO session cookie's name over plain http (a
// loopback issuer, in development); SecureSessionCookie over https.
const (
	SessionCookie       = "propusk_session"
	SecureSessionCookie = "__Host-propusk_session"
)

// SessionCookieName is the SSO cookie's name for an issuer served over
// https or not. Over https the __Host- prefix makes browsers refuse the
// cookie unless it is Secure, host-only and for path /: a sibling subdomain
// (another service under the same parent domain) cannot plant a session
// of its choosing (login CSRF) or shadow the real one.
func SessionCookieName(secure bool) string {
	if secure {
		return SecureSessionCookie
	}
	return SessionCookie
}

// Init composes fosite; Mount calls it.
func (h *Handler) Init() error {
	if h.provider != nil {
		return nil
	}
	cfg := h.Config
	cfg.withDefaults()
	if cfg.SigningKey == nil {
		cfg.SigningKey = func(ctx context.Context) (any, error) {
			return h.Keys.FositeSigningKey(ctx, signingAlg(ctx))
		}
	}
	if cfg.VerifyJWT == nil {
		cfg.VerifyJWT = h.verifyJWT
	}
	p, fc, err := newFosite(cfg, h.Storage)
	if err != nil {
		return err
	}
	h.Config, h.provider, h.fosite = cfg, p, fc
	return nil
}

// Mount registers the endpoints on r.
func (h *Handler) Mount(r *mux.Router) error {
	if err := h.Init(); err != nil {
		return err
	}
	metadata := h.metadata()
	r.Handle(PathDiscovery, metadata).Methods(http.MethodGet, http.MethodHead)
	r.Handle(PathAuthorizationServerMetadata, metadata).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathJWKS, h.jwks).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathAuthorize, h.authorize).Methods(http.MethodGet, http.MethodPost)
	r.HandleFunc(PathPAR, h.par).Methods(http.MethodPost)
	r.HandleFunc(PathToken, h.token).Methods(http.MethodPost)
	r.HandleFunc(PathIntrospect, h.introspect).Methods(http.MethodPost)
	r.HandleFunc(PathRevoke, h.revoke).Methods(http.MethodPost)
	r.HandleFunc(PathUserinfo, h.userinfo).Methods(http.MethodGet, http.MethodPost)
	r.HandleFunc(PathEndSession, h.endSession).Methods(http.MethodGet, http.MethodPost)
	return nil
}

func (h *Handler) secureCookies() bool {
	u, err := url.Parse(h.Config.Issuer)
	return err == nil && u.Scheme == "https"
}

// signingAlgKey carries the ID-token algorithm a client registered for, so
// the key getter fosite calls picks the matching key.
type signingAlgKey struct{}

func withSigningAlg(ctx context.Context, alg string) context.Context {
	return context.WithValue(ctx, signingAlgKey{}, alg)
}

func signingAlg(ctx context.Context) string {
	if alg, _ := ctx.Value(signingAlgKey{}).(string); alg != "" {
		return alg
	}
	return AlgES256
}
