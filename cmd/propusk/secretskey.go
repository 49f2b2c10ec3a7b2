package main

import (
	"context"
	"fmt"
	"io"

	"github.com/propusk/propusk/internal/seal"
)

var secretsKeyCommands = group{
	name: "secrets-key",
	bare: &subcommand{help: "print a new random secrets key (for PROPUSK_SECRETS_KEY)", opens: opensNothing, run: (*app).secretsKeyNew},
	subs: []subcommand{
		{name: "reseal", help: "re-seal everything with the first key", opens: opensSealed, run: (*app).secretsKeyReseal},
	},
}

func (a *app) secretsKeyNew(ctx context.Context, x *invocation, args []string) error {
	return printNewSecretsKey(a.stdout)
}

func printNewSecretsKey(w io.Writer) error {
	k, err := seal.GenerateKey()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, seal.EncodeKey(k))
	return err
}
