// Command propusk is the Propusk identity provider: one binary that serves,
// migrates, and manages accounts and relying parties from the command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"

	"github.com/propusk/propusk/internal/reqlog"
	"github.com/propusk/propusk/store"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise
// it comes from the module's build information.
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	os.Exit(a.run(ctx, os.Args[1:]))
}

// Exit statuses, stable for scripts.
const (
	exitOK      = 0
	exitFailure = 1 // the command was valid but failed (database, conflict …)
	exitUsage   = 2 // the command line or its input is invalid; nothing was changed
	exitExists  = 3 // what was to be created exists already (username, client ID)
	exitMissing = 4 // what was named does not exist (account, client)
)

// app is one invocation: its streams and environment, injectable for tests.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	logger         *slog.Logger
	// listening, when set, learns the address serve bound (tests listen on :0).
	listening func(addr string)
}

// usageError marks input problems (exit status 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

type command struct {
	summary string
	run     func(a *app, ctx context.Context, args []string) error
}

var commands = map[string]command{
	"serve":       {"run the identity provider", (*app).cmdServe},
	"migrate":     {"apply database migrations", (*app).cmdMigrate},
	"users":       usersCommands.command(),
	"clients":     clientsCommands.command(),
	"keys":        keysCommands.command(),
	"secrets-key": secretsKeyCommands.command(),
	"version":     {"print the version", (*app).cmdVersion},
}

func (a *app) run(ctx context.Context, args []string) int {
	if a.logger == nil {
		a.logger = slog.New(reqlog.Handler{Handler: slog.NewTextHandler(a.stderr, nil)})
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		a.usage(a.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(a.stderr, "propusk: unknown command %q (run propusk help)\n", args[0])
		return exitUsage
	}
	err := cmd.run(a, ctx, args[1:])
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	// One line: joined problems are listed with "; ".
	fmt.Fprintf(a.stderr, "propusk %s: %s\n", args[0], strings.ReplaceAll(err.Error(), "\n", "; "))
	var ue usageError
	switch {
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, store.ErrAlreadyExists):
		return exitExists
	case errors.Is(err, store.ErrNotFound):
		return exitMissing
	}
	return exitFailure
}

func (a *app) usage(w io.Writer) {
	fmt.Fprintln(w, "Propusk — single sign-on for people abroad.")
	fmt.Fprintln(w, "\nUsage: propusk <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun propusk <command> -h for its flags.")
}

// flagSet builds a flag set whose errors are returned, not printed and
// exited on, so run can report them on one line.
func (a *app) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("propusk "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parse parses flags anywhere among the arguments (flag alone stops at the
// first positional one, which would make "users show anna --json" ignore
// --json) and returns the positional arguments.
func (a *app) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(a.stdout)
				fs.PrintDefaults()
				return nil, flag.ErrHelp
			}
			return nil, usageError{err}
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// setup validates the configuration, then builds the logger.
func (a *app) setup(c *Config, serving, sealed bool) error {
	if err := c.Validate(serving, sealed); err != nil {
		return usageError{err}
	}
	level, _ := c.level()
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(a.stderr, opts)
	if c.LogFormat == "json" {
		h = slog.NewJSONHandler(a.stderr, opts)
	}
	a.logger = slog.New(reqlog.Handler{Handler: h})
	return nil
}

func (a *app) cmdServe(ctx context.Context, args []string) error {
	var c Config
	fs := a.flagSet("serve")
	c.registerCommon(fs, a.getenv)
	c.registerServe(fs, a.getenv)
	if err := a.noPositional(fs, args); err != nil {
		return err
	}
	if err := a.setup(&c, true, true); err != nil {
		return err
	}
	return a.serve(ctx, &c)
}

func (a *app) cmdMigrate(ctx context.Context, args []string) error {
	var c Config
	fs := a.flagSet("migrate")
	c.registerCommon(fs, a.getenv)
	if err := a.noPositional(fs, args); err != nil {
		return err
	}
	if err := a.setup(&c, false, false); err != nil {
		return err
	}
	db, err := openDatabase(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	before, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	after, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if before == after {
		fmt.Fprintf(a.stdout, "schema is up to date at version %d\n", after)
	} else {
		fmt.Fprintf(a.stdout, "migrated schema from version %d to %d\n", before, after)
	}
	return nil
}

func (a *app) cmdVersion(ctx context.Context, args []string) error {
	fmt.Fprintf(a.stdout, "propusk %s\n", versionString())
	return nil
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// storeErr words store sentinels for a person at a terminal.
func storeErr(err error, what string) error {
	switch {
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%s: the database is busy with another writer; try again (%w)", what, err)
	default:
		return err
	}
}
