package main

import (
	"context"
	"time"

	"github.com/propusk/propusk/internal/seal"
	"github.com/propusk/propusk/oauth"
)

var keysCommands = group{
	name:    "keys",
	summary: "manage token-signing keys",
	subs: []subcommand{
		{name: "list", help: "list the signing keys and their states", opens: opensSealed, run: (*app).keysList},
		{name: "rotate", help: "add a new signing key, published ahead of signing", opens: opensSealed, run: (*app).keysRotate},
	},
}

// keyFlags are rotate's flags. list takes and checks them too, as it
// always has, so a script passing one set of flags to both keeps working.
type keyFlags struct {
	alg   string
	ahead time.Duration
	force bool
}

func (a *app) keyFlags(x *invocation, args []string) (keyFlags, error) {
	var k keyFlags
	x.fs.StringVar(&k.alg, "alg", oauth.AlgES256, "rotate: algorithm of the new key, ES256 or RS256")
	x.fs.DurationVar(&k.ahead, "publish-ahead", oauth.DefaultPublishAhead, "rotate: how long the new key is published before it signs")
	x.fs.BoolVar(&k.force, "force", false, "rotate: allow a publish-ahead period shorter than relying parties cache the JWKS")
	if err := a.noPositional(x.fs, args); err != nil {
		return k, err
	}
	if k.alg != oauth.AlgES256 && k.alg != oauth.AlgRS256 {
		return k, usagef("--alg %q: want ES256 or RS256", k.alg)
	}
	if k.ahead < 0 {
		return k, usagef("--publish-ahead must not be negative")
	}
	if k.ahead < oauth.MinPublishAhead && !k.force {
		// Relying parties and other nodes would see tokens signed by a key
		// their cached JWKS does not have yet, and refuse them.
		return k, usagef("--publish-ahead %s is shorter than relying parties may cache the JWKS (%s); give --force to sign sooner anyway", k.ahead, oauth.MinPublishAhead)
	}
	return k, nil
}

// withKeySet opens the key set, making the first key on an empty database.
func (a *app) withKeySet(ctx context.Context, x *invocation, fn func(*oauth.KeySet) error) error {
	return a.withSealed(ctx, x, func(db database, ring *seal.Ring) error {
		ks := &oauth.KeySet{Store: db, Ring: ring}
		if err := ks.Ensure(ctx); err != nil {
			return err
		}
		return fn(ks)
	})
}

func (a *app) keysList(ctx context.Context, x *invocation, args []string) error {
	if _, err := a.keyFlags(x, args); err != nil {
		return err
	}
	return a.withKeySet(ctx, x, func(ks *oauth.KeySet) error {
		keys, err := ks.Describe(ctx)
		if err != nil {
			return err
		}
		return printList(a.stdout, *x.asJSON, keys, func(k oauth.KeyInfo) oauth.KeyInfo { return k },
			[]string{"KID", "ALG", "STATE", "SIGNS FROM"},
			func(k oauth.KeyInfo) []string {
				return []string{k.ID, k.Algorithm, k.State, k.SignFrom.Format(time.RFC3339)}
			})
	})
}

func (a *app) keysRotate(ctx context.Context, x *invocation, args []string) error {
	k, err := a.keyFlags(x, args)
	if err != nil {
		return err
	}
	return a.withKeySet(ctx, x, func(ks *oauth.KeySet) error {
		kid, err := ks.Rotate(ctx, k.alg, k.ahead)
		if err != nil {
			return err
		}
		from := time.Now().UTC().Add(k.ahead)
		return a.answer(x, map[string]any{"kid": kid, "alg": k.alg, "sign_from": from},
			"new %s key %s: published now, signs from %s", k.alg, kid, from.Format(time.RFC3339))
	})
}
