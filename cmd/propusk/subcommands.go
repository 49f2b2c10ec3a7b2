package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/propusk/propusk/internal/seal"
)

// group is a command made of subcommands ("users create"). Its table is the
// one place a subcommand is declared: the dispatch, the usage lines, the
// messages naming the subcommands and whether Validate insists on a secrets
// key all come from it.
type group struct {
	name    string // as typed: "users"
	summary string // "manage accounts", followed in propusk help by the subcommands' names
	note    string // appended to that line
	// bare runs when no subcommand is given; nil when one is required.
	bare *subcommand
	subs []subcommand
}

// subcommand is one row of a group's table.
type subcommand struct {
	name string
	help string // one line, for propusk <group> -h
	// aside, when set, lists the subcommand apart in the missing-subcommand
	// message, under this heading ("second factor: reset-mfa").
	aside string
	opens opens
	run   func(a *app, ctx context.Context, x *invocation, args []string) error
}

// opens says what a subcommand opens.
type opens int

const (
	opensNothing  opens = iota // no flags of its own, no database
	opensDatabase              // the database, but no sealed value: no secrets key needed
	opensSealed                // sealed values too: PostgreSQL needs the secrets key
)

// invocation is what the dispatch hands a subcommand: its flag set, already
// holding the common flags and --json (for those that open the database),
// and the configuration those fill.
type invocation struct {
	sub    *subcommand
	fs     *flag.FlagSet
	c      Config
	asJSON *bool
}

// command makes the group an entry of the top-level table.
func (g *group) command() command {
	return command{g.line(), g.dispatch}
}

// line is the group's line in propusk help.
func (g *group) line() string {
	if g.bare != nil {
		parts := []string{g.bare.help}
		for _, s := range g.subs {
			parts = append(parts, s.name+": "+s.help)
		}
		return strings.Join(parts, "; ") + g.note
	}
	return g.summary + ": " + strings.Join(g.names(false), ", ") + g.note
}

// names lists the subcommands in table order; main leaves out the asides.
func (g *group) names(main bool) []string {
	var out []string
	for _, s := range g.subs {
		if !main || s.aside == "" {
			out = append(out, s.name)
		}
	}
	return out
}

func (g *group) find(name string) *subcommand {
	for i := range g.subs {
		if g.subs[i].name == name {
			return &g.subs[i]
		}
	}
	return nil
}

func (g *group) dispatch(a *app, ctx context.Context, args []string) error {
	if len(args) == 0 {
		if g.bare != nil {
			return a.invoke(ctx, g, g.bare, nil)
		}
		return usagef("missing subcommand: %s", g.missing())
	}
	switch args[0] {
	case "help", "-h", "--help":
		g.usage(a.stdout)
		return flag.ErrHelp
	}
	sub := g.find(args[0])
	switch {
	case sub != nil:
		return a.invoke(ctx, g, sub, args[1:])
	case g.bare != nil:
		return usagef("takes no arguments (or: %s)", orList(g.names(false)))
	default:
		return usagef("unknown subcommand %q: want %s", args[0], orList(g.names(false)))
	}
}

// missing names the subcommands for the missing-subcommand message:
// "create or list (second factor: reset-mfa)".
func (g *group) missing() string {
	s := orList(g.names(true))
	var asides []string
	for _, sub := range g.subs {
		if sub.aside != "" {
			asides = append(asides, sub.aside+": "+sub.name)
		}
	}
	if len(asides) > 0 {
		s += " (" + strings.Join(asides, "; ") + ")"
	}
	return s
}

func (g *group) usage(w io.Writer) {
	if g.bare != nil {
		fmt.Fprintf(w, "Usage: propusk %s [<subcommand>] [flags]\n\nWithout a subcommand: %s.\n", g.name, g.bare.help)
	} else {
		fmt.Fprintf(w, "Usage: propusk %s <subcommand> [flags]\n", g.name)
	}
	fmt.Fprintln(w, "\nSubcommands:")
	tw := newTable(w)
	for _, s := range g.subs {
		fmt.Fprintf(tw, "  %s\t%s\n", s.name, s.help)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nRun propusk %s <subcommand> -h for its flags.\n", g.name)
}

// invoke builds the subcommand's flag set and runs it.
func (a *app) invoke(ctx context.Context, g *group, sub *subcommand, args []string) error {
	x := &invocation{sub: sub}
	if sub.opens != opensNothing {
		x.fs = a.flagSet(g.name + " " + sub.name)
		x.c.registerCommon(x.fs, a.getenv)
		x.asJSON = x.fs.Bool("json", false, "print JSON (stable for scripts)")
	}
	return sub.run(a, ctx, x, args)
}

// orList joins names as "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// withDatabase validates the configuration, opens (and migrates) the
// database and runs fn with it: what every management subcommand does
// first. Validate insists on a secrets key if the table says the
// subcommand opens sealed values.
func (a *app) withDatabase(ctx context.Context, x *invocation, fn func(database) error) error {
	return a.open(ctx, &x.c, x.sub.opens == opensSealed, fn)
}

// withSealed is withDatabase with the secrets key ring too, for the
// subcommands whose table row says they open sealed values.
func (a *app) withSealed(ctx context.Context, x *invocation, fn func(database, *seal.Ring) error) error {
	if x.sub.opens != opensSealed {
		// Validate let the command through without a key: say so, rather
		// than generate one on SQLite or fail obscurely on PostgreSQL.
		return errors.New("internal error: " + x.sub.name + " opens sealed values but its table row does not say so")
	}
	return a.withDatabase(ctx, x, func(db database) error {
		ring, err := secretsRing(&x.c)
		if err != nil {
			return err
		}
		return fn(db, ring)
	})
}
