package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/propusk/propusk/internal/seal"
	"github.com/propusk/propusk/oauth"
)

func (a *app) cmdKeys(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: list or rotate")
	}
	sub, args := args[0], args[1:]
	var c Config
	fs := a.flagSet("keys " + sub)
	c.registerCommon(fs, a.getenv)
	asJSON := fs.Bool("json", false, "print JSON (stable for scripts)")
	alg := fs.String("alg", oauth.AlgES256, "rotate: algorithm of the new key, ES256 or RS256")
	ahead := fs.Duration("publish-ahead", oauth.DefaultPublishAhead, "rotate: how long the new key is published before it signs")
	force := fs.Bool("force", false, "rotate: allow a publish-ahead period shorter than relying parties cache the JWKS")
	if err := a.noPositional(fs, args); err != nil {
		return err
	}
	if sub != "list" && sub != "rotate" {
		return usagef("unknown subcommand %q: want list or rotate", sub)
	}
	if *alg != oauth.AlgES256 && *alg != oauth.AlgRS256 {
		return usagef("--alg %q: want ES256 or RS256", *alg)
	}
	if *ahead < 0 {
		return usagef("--publish-ahead must not be negative")
	}
	if *ahead < oauth.MinPublishAhead && !*force {
		// Relying parties and other nodes would see tokens signed by a key
		// their cached JWKS does not have yet, and refuse them.
		return usagef("--publish-ahead %s is shorter than relying parties may cache the JWKS (%s); give --force to sign sooner anyway", *ahead, oauth.MinPublishAhead)
	}
	return a.withSealed(ctx, &c, func(db database, ring *seal.Ring) error {
		ks := &oauth.KeySet{Store: db, Ring: ring}
		if err := ks.Ensure(ctx); err != nil {
			return err
		}
		if sub == "rotate" {
			kid, err := ks.Rotate(ctx, *alg, *ahead)
			if err != nil {
				return err
			}
			if *asJSON {
				return writeJSON(a.stdout, map[string]any{"kid": kid, "alg": *alg, "sign_from": time.Now().UTC().Add(*ahead)})
			}
			fmt.Fprintf(a.stdout, "new %s key %s: published now, signs from %s\n", *alg, kid, time.Now().UTC().Add(*ahead).Format(time.RFC3339))
			return nil
		}
		keys, err := ks.Describe(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(a.stdout, keys)
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KID\tALG\tSTATE\tSIGNS FROM")
		for _, k := range keys {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, k.State, k.SignFrom.Format(time.RFC3339))
		}
		return tw.Flush()
	})
}
