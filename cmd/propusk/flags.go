package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// listFlag collects a list-valued flag: repeatable, and each value may hold
// several comma-separated items (--scope openid,profile --scope email).
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

// An empty item is an error, not skipped: --scope "$SCOPES" with the
// variable unset must not quietly fall back to the defaults.
func (l *listFlag) Set(v string) error {
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return fmt.Errorf("empty item in %q", v)
		}
		*l = append(*l, item)
	}
	return nil
}

// maxPassword bounds what is read from stdin: the password rules stop at 128
// characters, and an unbounded read would let a mistaken pipe fill memory.
const maxPassword = 4096

// readPassword reads one password from r: the first line, without its line
// ending. Passwords never come from the command line, where other users of
// the machine can read them in the process list.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReaderSize(io.LimitReader(r, maxPassword+2), maxPassword+2).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", usagef("no password on standard input (pipe it in: printf '%%s' \"$PASSWORD\" | propusk …)")
	}
	if len(line) > maxPassword {
		return "", usagef("password on standard input is too long")
	}
	return line, nil
}
