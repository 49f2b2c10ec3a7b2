package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// How the management commands answer: JSON for scripts (--json), aligned
// columns for people.

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// answer is a command's answer: v as JSON with --json, else the line
// format makes of args.
func (a *app) answer(x *invocation, v any, format string, args ...any) error {
	if *x.asJSON {
		return writeJSON(a.stdout, v)
	}
	fmt.Fprintf(a.stdout, format+"\n", args...)
	return nil
}

// accountRef names the account a command acted on in its --json answer.
type accountRef struct {
	AccountID string `json:"account_id"`
	Username  string `json:"username"`
}

// newTable is the column layout of every answer meant for people.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
}

// printList is a list command's answer: with --json an array of each
// item's toJSON (empty, not null, when there are none), else a table of
// header and one row per item.
func printList[T, J any](w io.Writer, asJSON bool, list []T, toJSON func(T) J, header []string, row func(T) []string) error {
	if asJSON {
		out := make([]J, 0, len(list))
		for _, v := range list {
			out = append(out, toJSON(v))
		}
		return writeJSON(w, out)
	}
	tw := newTable(w)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, v := range list {
		fmt.Fprintln(tw, strings.Join(row(v), "\t"))
	}
	return tw.Flush()
}
