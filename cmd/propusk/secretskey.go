package main

import (
	"fmt"
	"io"

	"github.com/propusk/propusk/internal/seal"
)

func printNewSecretsKey(w io.Writer) error {
	k, err := seal.GenerateKey()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, seal.EncodeKey(k))
	return err
}
