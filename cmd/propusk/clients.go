package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/internal/seal"
	"github.com/propusk/propusk/store"
)

// clientJSON is the stable --json shape of a client. It never carries a
// secret hash; ClientSecret is set only right after creation or rotation.
type clientJSON struct {
	ClientID                string     `json:"client_id"`
	ClientSecret            string     `json:"client_secret,omitempty"`
	Name                    string     `json:"name"`
	RedirectURIs            []string   `json:"redirect_uris"`
	PostLogoutRedirectURIs  []string   `json:"post_logout_redirect_uris"`
	GrantTypes              []string   `json:"grant_types"`
	Scopes                  []string   `json:"scopes"`
	Public                  bool       `json:"public"`
	TokenEndpointAuthMethod string     `json:"token_endpoint_auth_method"`
	JWKS                    jsonRaw    `json:"jwks,omitempty"`
	FirstParty              bool       `json:"first_party"`
	BackchannelLogoutURI    string     `json:"backchannel_logout_uri,omitempty"`
	MinimumACR              string     `json:"minimum_acr,omitempty"`
	IDTokenSigningAlg       string     `json:"id_token_signed_response_alg"`
	RequirePAR              bool       `json:"require_pushed_authorization_requests"`
	AccessTokenFormat       string     `json:"access_token_format"`
	HasSecret               bool       `json:"has_secret"`
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`
	CreatedAt               time.Time  `json:"created_at"`
}

// jsonRaw embeds a stored JWKS as JSON, not as a base64 string.
type jsonRaw []byte

func (j jsonRaw) MarshalJSON() ([]byte, error) {
	if len(j) == 0 {
		return []byte("null"), nil
	}
	return j, nil
}

func toClientJSON(c store.Client, secret string, now time.Time) clientJSON {
	j := clientJSON{
		ClientID: c.ID, ClientSecret: secret, Name: c.Name,
		RedirectURIs: orEmpty(c.RedirectURIs), PostLogoutRedirectURIs: orEmpty(c.PostLogoutRedirectURIs),
		GrantTypes: orEmpty(c.GrantTypes), Scopes: orEmpty(c.Scopes),
		Public: c.Public, TokenEndpointAuthMethod: c.TokenEndpointAuthMethod, JWKS: c.JWKS,
		FirstParty: c.FirstParty, BackchannelLogoutURI: c.BackchannelLogoutURI, MinimumACR: c.MinimumACR,
		IDTokenSigningAlg: c.IDTokenSigningAlg, RequirePAR: c.RequirePAR, AccessTokenFormat: c.AccessTokenFormat,
		HasSecret: len(c.SecretHash) > 0, CreatedAt: c.CreatedAt,
	}
	if len(c.PreviousSecretHash) > 0 && now.Before(c.PreviousSecretExpiresAt) {
		t := c.PreviousSecretExpiresAt
		j.PreviousSecretExpiresAt = &t
	}
	return j
}

func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

var clientsCommands = group{
	name:    "clients",
	summary: "manage relying parties",
	subs: []subcommand{
		{name: "create", help: "register a relying party; a confidential one's secret is printed once", opens: opensSealed, run: (*app).clientsCreate},
		{name: "list", help: "list the relying parties", opens: opensDatabase, run: (*app).clientsList},
		{name: "show", help: "show one relying party's registration", opens: opensDatabase, run: (*app).clientsShow},
		{name: "delete", help: "delete a relying party", opens: opensDatabase, run: (*app).clientsDelete},
		{name: "rotate-secret", help: "give a confidential client a new secret; the old one stays valid for --grace", opens: opensSealed, run: (*app).clientsRotateSecret},
	},
}

// withClients opens the database and runs fn with a clients service. A
// subcommand that makes a secret (its table row opens sealed values) gets
// a secret hasher keyed by the server key shared through the database; the
// others read and delete registrations, open nothing sealed, and so need
// no secrets key (nor create one on SQLite).
func (a *app) withClients(ctx context.Context, x *invocation, fn func(*clients.Service) error) error {
	if x.sub.opens != opensSealed {
		return a.withDatabase(ctx, x, func(db database) error { return fn(&clients.Service{Store: db}) })
	}
	return a.withSealed(ctx, x, func(db database, ring *seal.Ring) error {
		key, err := serverSecret(ctx, db, ring, clientSecretKeyName, time.Now().UTC())
		if err != nil {
			return err
		}
		hasher, err := clients.NewSecretHasher(key)
		if err != nil {
			return err
		}
		return fn(&clients.Service{Store: db, Secrets: hasher})
	})
}

func (a *app) clientsCreate(ctx context.Context, x *invocation, args []string) error {
	fs := x.fs
	var r clients.Registration
	var redirects, postLogout, grants, scopes listFlag
	var jwksFile string
	fs.StringVar(&r.ID, "id", "", "client ID (default: generated)")
	fs.StringVar(&r.Name, "name", "", "name shown to people on the consent page (required)")
	fs.Var(&redirects, "redirect-uri", "redirect URI (repeatable, comma-separated)")
	fs.Var(&postLogout, "post-logout-redirect-uri", "post-logout redirect URI (repeatable, comma-separated)")
	fs.Var(&grants, "grant-type", "authorization_code, refresh_token, client_credentials (default authorization_code)")
	fs.Var(&scopes, "scope", "allowed scopes (default openid,profile,email)")
	fs.BoolVar(&r.Public, "public", false, "public client (native or browser app without a secret; PKCE only)")
	fs.BoolVar(&r.FirstParty, "first-party", false, "first-party client: consent may be skipped (confidential clients only)")
	fs.StringVar(&r.AuthMethod, "auth-method", "", "client_secret_basic (default), client_secret_post, private_key_jwt, none (public)")
	fs.StringVar(&jwksFile, "jwks-file", "", "JSON Web Key Set with the client's public keys (private_key_jwt)")
	fs.StringVar(&r.BackchannelLogoutURI, "backchannel-logout-uri", "", "back-channel logout URI, stored for when back-channel logout exists: Propusk does not call it yet")
	fs.StringVar(&r.MinimumACR, "minimum-acr", "", "minimum assurance: simplified, standard or confirmed")
	fs.StringVar(&r.IDTokenSigningAlg, "id-token-alg", "", "ID-token signing algorithm: ES256 (default) or RS256")
	fs.BoolVar(&r.RequirePAR, "require-par", false, "the client must use pushed authorization requests")
	fs.StringVar(&r.AccessTokenFormat, "access-token-format", "", "opaque (default) or jwt (RFC 9068)")
	if err := a.noPositional(fs, args); err != nil {
		return err
	}
	r.RedirectURIs, r.PostLogoutRedirectURIs, r.GrantTypes, r.Scopes = redirects, postLogout, grants, scopes
	if jwksFile != "" {
		b, err := os.ReadFile(jwksFile)
		if err != nil {
			return usagef("--jwks-file: %v", err)
		}
		r.JWKS = b
	}
	if _, err := r.Validate(); err != nil {
		return usageError{err}
	}
	return a.withClients(ctx, x, func(s *clients.Service) error {
		cl, secret, err := s.Create(ctx, r)
		if err != nil {
			return storeErr(err, "create client")
		}
		if *x.asJSON {
			return writeJSON(a.stdout, toClientJSON(cl, secret, time.Now()))
		}
		fmt.Fprintf(a.stdout, "client_id: %s\n", cl.ID)
		if secret != "" {
			fmt.Fprintf(a.stdout, "client_secret: %s\n", secret)
			fmt.Fprintln(a.stderr, "Store the client secret now: Propusk keeps only a hash and cannot show it again.")
		}
		return nil
	})
}

func (a *app) clientsList(ctx context.Context, x *invocation, args []string) error {
	if err := a.noPositional(x.fs, args); err != nil {
		return err
	}
	return a.withClients(ctx, x, func(s *clients.Service) error {
		list, err := s.List(ctx)
		if err != nil {
			return err
		}
		now := time.Now()
		return printList(a.stdout, *x.asJSON, list, func(cl store.Client) clientJSON { return toClientJSON(cl, "", now) },
			[]string{"CLIENT ID", "NAME", "TYPE", "AUTH METHOD"},
			func(cl store.Client) []string {
				return []string{cl.ID, cl.Name, clientType(cl), cl.TokenEndpointAuthMethod}
			})
	})
}

// clientArgs reads the client ID and --grace. --grace is rotate-secret's;
// show and delete take and check it too, as they always have, so a script
// passing one set of flags to all three keeps working.
func (a *app) clientArgs(x *invocation, args []string) (id string, grace time.Duration, err error) {
	x.fs.DurationVar(&grace, "grace", clients.DefaultSecretGrace, "rotate-secret: how long the previous secret stays valid")
	if id, err = a.onePositional(x.fs, args, "client ID"); err != nil {
		return "", 0, err
	}
	if grace < 0 {
		return "", 0, usagef("--grace must not be negative")
	}
	return id, grace, nil
}

func (a *app) clientsShow(ctx context.Context, x *invocation, args []string) error {
	id, _, err := a.clientArgs(x, args)
	if err != nil {
		return err
	}
	return a.withClients(ctx, x, func(s *clients.Service) error {
		cl, err := s.Get(ctx, id)
		if err != nil {
			return err
		}
		if *x.asJSON {
			return writeJSON(a.stdout, toClientJSON(cl, "", time.Now()))
		}
		return printClient(a.stdout, cl, time.Now())
	})
}

func (a *app) clientsDelete(ctx context.Context, x *invocation, args []string) error {
	id, _, err := a.clientArgs(x, args)
	if err != nil {
		return err
	}
	return a.withClients(ctx, x, func(s *clients.Service) error {
		if err := s.Delete(ctx, id); err != nil {
			return storeErr(err, "delete client")
		}
		fmt.Fprintf(a.stdout, "deleted client %s\n", id)
		return nil
	})
}

func (a *app) clientsRotateSecret(ctx context.Context, x *invocation, args []string) error {
	id, grace, err := a.clientArgs(x, args)
	if err != nil {
		return err
	}
	return a.withClients(ctx, x, func(s *clients.Service) error {
		secret, err := s.RotateSecret(ctx, id, grace)
		if err != nil {
			return storeErr(err, "rotate secret")
		}
		if *x.asJSON {
			return writeJSON(a.stdout, struct {
				ClientID         string `json:"client_id"`
				ClientSecret     string `json:"client_secret"`
				PreviousValidFor string `json:"previous_secret_valid_for"`
			}{id, secret, grace.String()})
		}
		fmt.Fprintf(a.stdout, "client_id: %s\nclient_secret: %s\n", id, secret)
		fmt.Fprintf(a.stderr, "Store the new secret now. The previous one stays valid for %s.\n", grace)
		return nil
	})
}

func clientType(c store.Client) string {
	if c.Public {
		return "public"
	}
	return "confidential"
}

func printClient(w io.Writer, c store.Client, now time.Time) error {
	tw := newTable(w)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	row("client_id", c.ID)
	row("name", c.Name)
	row("type", clientType(c))
	row("auth method", c.TokenEndpointAuthMethod)
	row("redirect URIs", strings.Join(c.RedirectURIs, " "))
	if len(c.PostLogoutRedirectURIs) > 0 {
		row("post-logout redirect URIs", strings.Join(c.PostLogoutRedirectURIs, " "))
	}
	row("grant types", strings.Join(c.GrantTypes, " "))
	row("scopes", strings.Join(c.Scopes, " "))
	row("first party", fmt.Sprint(c.FirstParty))
	if c.BackchannelLogoutURI != "" {
		row("back-channel logout URI", c.BackchannelLogoutURI)
	}
	if c.MinimumACR != "" {
		row("minimum acr", c.MinimumACR)
	}
	row("id token alg", c.IDTokenSigningAlg)
	row("access tokens", c.AccessTokenFormat)
	if c.RequirePAR {
		row("pushed requests", "required")
	}
	if len(c.PreviousSecretHash) > 0 && now.Before(c.PreviousSecretExpiresAt) {
		row("previous secret valid until", c.PreviousSecretExpiresAt.Format(time.RFC3339))
	}
	row("created", c.CreatedAt.Format(time.RFC3339))
	return tw.Flush()
}
