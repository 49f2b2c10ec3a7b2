package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/mfa"
	"github.com/propusk/propusk/store"
)

// accountJSON is the stable --json shape of an account. It never carries
// the password hash.
type accountJSON struct {
	ID                 string     `json:"id"`
	Username           string     `json:"username"`
	Email              string     `json:"email,omitempty"`
	EmailVerified      bool       `json:"email_verified"`
	Phone              string     `json:"phone,omitempty"`
	PhoneVerified      bool       `json:"phone_verified"`
	Kind               string     `json:"kind"`
	GivenName          string     `json:"given_name,omitempty"`
	FamilyName         string     `json:"family_name,omitempty"`
	MiddleName         string     `json:"middle_name,omitempty"`
	GivenNameLatin     string     `json:"given_name_latin,omitempty"`
	FamilyNameLatin    string     `json:"family_name_latin,omitempty"`
	MiddleNameLatin    string     `json:"middle_name_latin,omitempty"`
	Birthdate          string     `json:"birthdate,omitempty"`
	Citizenships       []string   `json:"citizenships"`
	CountryOfResidence string     `json:"country_of_residence,omitempty"`
	Locale             string     `json:"locale,omitempty"`
	Assurance          string     `json:"assurance"`
	HasPassword        bool       `json:"has_password"`
	CreatedAt          time.Time  `json:"created_at"`
	Disabled           bool       `json:"disabled"`
	DisabledAt         *time.Time `json:"disabled_at,omitempty"`
}

func toAccountJSON(a store.Account) accountJSON {
	j := accountJSON{
		ID: a.ID, Username: a.Username, Email: a.Email, EmailVerified: a.EmailVerified,
		Phone: a.Phone, PhoneVerified: a.PhoneVerified, Kind: a.Kind,
		GivenName: a.GivenName, FamilyName: a.FamilyName, MiddleName: a.MiddleName,
		GivenNameLatin: a.GivenNameLatin, FamilyNameLatin: a.FamilyNameLatin, MiddleNameLatin: a.MiddleNameLatin,
		Birthdate: a.Birthdate, Citizenships: a.Citizenships, CountryOfResidence: a.CountryOfResidence,
		Locale: a.Locale, Assurance: a.Assurance, HasPassword: a.PasswordHash != "",
		CreatedAt: a.CreatedAt, Disabled: a.Disabled(),
	}
	if j.Citizenships == nil {
		j.Citizenships = []string{}
	}
	if a.Disabled() {
		t := a.DisabledAt
		j.DisabledAt = &t
	}
	return j
}

var usersCommands = group{
	name:    "users",
	summary: "manage accounts",
	note:    " (password and second-factor lock-outs)",
	subs: []subcommand{
		{name: "create", help: "create an account; the password comes on standard input", opens: opensDatabase, run: (*app).usersCreate},
		{name: "list", help: "list the accounts", opens: opensDatabase, run: (*app).usersList},
		{name: "show", help: "show one account", opens: opensDatabase, run: (*app).usersShow},
		{name: "update", help: "change profile fields; record a checked e-mail address", opens: opensDatabase, run: (*app).usersUpdate},
		{name: "disable", help: "disable an account, ending its sessions and grants", opens: opensDatabase, run: (*app).usersDisable},
		{name: "set-password", help: "set a new password from standard input, signing the person out everywhere", opens: opensDatabase, run: (*app).usersSetPassword},
		{name: "reset-mfa", aside: "second factor", help: "remove the second factor, to be enrolled again at next sign-in", opens: opensDatabase, run: (*app).usersResetMFA},
		{name: "unlock", aside: "lock-outs of password and second factor", help: "lift the password and second-factor lock-outs", opens: opensDatabase, run: (*app).usersUnlock},
	},
}

// withAccounts opens the database and runs fn with an accounts service.
func (a *app) withAccounts(ctx context.Context, x *invocation, fn func(*accounts.Service) error) error {
	return a.withDatabase(ctx, x, func(db database) error { return fn(&accounts.Service{Store: db, Access: db}) })
}

func (a *app) usersCreate(ctx context.Context, x *invocation, args []string) error {
	fs := x.fs
	var pf profileFlags
	pf.register(fs)
	passwordStdin := fs.Bool("password-stdin", false, "read the password from standard input (required)")
	var username string
	fs.StringVar(&username, "username", "", "login name or e-mail address (required)")
	if err := a.noPositional(fs, args); err != nil {
		return err
	}
	if !*passwordStdin {
		return usagef("--password-stdin is required: passwords are never taken on the command line")
	}
	var missing []string
	if username == "" {
		missing = append(missing, "--username")
	}
	if pf.p.Kind == "" {
		missing = append(missing, "--kind")
	}
	if len(missing) > 0 {
		return usagef("missing %s", strings.Join(missing, " and "))
	}
	if pf.emailVerified && strings.TrimSpace(pf.p.Email) == "" {
		return usagef("--email-verified needs --email")
	}
	p := pf.profile()
	password, err := readPassword(a.stdin)
	if err != nil {
		return err
	}
	// Validate here as well as in the service, so that bad input is told
	// apart (exit status 2) from a failing database.
	var problems []error
	normalized, err := accounts.NormalizeUsername(username)
	if err != nil {
		problems = append(problems, err)
	}
	if _, err := p.Normalize(); err != nil {
		problems = append(problems, err)
	}
	if err := accounts.CheckPassword(password, normalized); err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		return usageError{errors.Join(problems...)}
	}
	return a.withDatabase(ctx, x, func(db database) error {
		s := &accounts.Service{Store: db, Access: db}
		var acc store.Account
		err := db.InTx(ctx, func(ctx context.Context) error {
			var err error
			if acc, err = s.Create(ctx, username, p, password); err != nil || !pf.emailVerified {
				return err
			}
			acc, err = a.setEmailVerified(ctx, db, acc.ID, true)
			return err
		})
		if err != nil {
			return storeErr(err, "create account")
		}
		return a.answer(x, toAccountJSON(acc), "created account %s (%s)", acc.Username, acc.ID)
	})
}

func (a *app) usersList(ctx context.Context, x *invocation, args []string) error {
	if err := a.noPositional(x.fs, args); err != nil {
		return err
	}
	return a.withAccounts(ctx, x, func(s *accounts.Service) error {
		list, err := s.List(ctx)
		if err != nil {
			return err
		}
		return printList(a.stdout, *x.asJSON, list, toAccountJSON,
			[]string{"USERNAME", "ID", "KIND", "ASSURANCE", "STATUS"},
			func(acc store.Account) []string {
				return []string{acc.Username, acc.ID, acc.Kind, acc.Assurance, status(acc)}
			})
	})
}

// withAccount runs fn with the account named on the command line.
func (a *app) withAccount(ctx context.Context, x *invocation, who string, fn func(*accounts.Service, store.Account) error) error {
	return a.withAccounts(ctx, x, func(s *accounts.Service) error {
		acc, err := s.Get(ctx, who)
		if err != nil {
			return err
		}
		return fn(s, acc)
	})
}

func (a *app) usersShow(ctx context.Context, x *invocation, args []string) error {
	who, err := a.onePositional(x.fs, args, "username or account ID")
	if err != nil {
		return err
	}
	return a.withAccount(ctx, x, who, func(s *accounts.Service, acc store.Account) error {
		if *x.asJSON {
			return writeJSON(a.stdout, toAccountJSON(acc))
		}
		return printAccount(a.stdout, acc)
	})
}

func (a *app) usersDisable(ctx context.Context, x *invocation, args []string) error {
	who, err := a.onePositional(x.fs, args, "username or account ID")
	if err != nil {
		return err
	}
	return a.withAccount(ctx, x, who, func(s *accounts.Service, acc store.Account) error {
		ended, err := s.Disable(ctx, acc.ID)
		if err != nil {
			if errors.Is(err, accounts.ErrAlreadyDisabled) {
				if ended.Sessions+ended.Grants > 0 {
					fmt.Fprintf(a.stdout, "ended %d sign-in sessions and %d grants left over\n", ended.Sessions, ended.Grants)
				}
				return fmt.Errorf("account %s is already disabled", acc.Username)
			}
			return storeErr(err, "disable account")
		}
		fmt.Fprintf(a.stdout, "disabled account %s (%s); ended %d sign-in sessions and %d grants\n", acc.Username, acc.ID, ended.Sessions, ended.Grants)
		return nil
	})
}

func (a *app) usersSetPassword(ctx context.Context, x *invocation, args []string) error {
	passwordStdin := x.fs.Bool("password-stdin", false, "read the new password from standard input (required)")
	who, err := a.onePositional(x.fs, args, "username or account ID")
	if err != nil {
		return err
	}
	if !*passwordStdin {
		return usagef("--password-stdin is required: passwords are never taken on the command line")
	}
	password, err := readPassword(a.stdin)
	if err != nil {
		return err
	}
	return a.withDatabase(ctx, x, func(db database) error {
		acc, err := (&accounts.Service{Store: db}).Get(ctx, who)
		if err != nil {
			return err
		}
		if err := accounts.CheckPassword(password, acc.Username); err != nil {
			return usageError{err}
		}
		ended, err := a.resetPassword(ctx, db, acc, password)
		if err != nil {
			return storeErr(err, "set password")
		}
		fmt.Fprintf(a.stdout, "password changed for %s; ended %d sign-in sessions\n", acc.Username, ended)
		return nil
	})
}

// resetPassword gives acc a new password, lifts both lock-outs and ends
// every sign-in session, in one transaction, and says how many sessions it
// ended. Stopping half-way would leave a changed password with whoever
// signed in with the old one still signed in.
func (a *app) resetPassword(ctx context.Context, db database, acc store.Account, password string) (ended int, err error) {
	err = db.InTx(ctx, func(ctx context.Context) error {
		if err := (&accounts.Service{Store: db}).SetPassword(ctx, acc.ID, password); err != nil {
			return err
		}
		// A password reset lifts a second-factor lock-out, the hard one
		// too (the lock-out message promises it).
		if err := (&mfa.Service{Store: db}).Unlock(ctx, acc.ID, "password reset", mfa.Meta{ActorID: a.adminActor()}); err != nil {
			return fmt.Errorf("lift the second-factor lock-out: %w", err)
		}
		// And the password's: the new password ends every browser's
		// device cookie, the owner's way past that lock-out.
		if err := (&accounts.LoginThrottle{Store: db}).Unlock(ctx, acc.Username); err != nil {
			return fmt.Errorf("forget the wrong passwords: %w", err)
		}
		// Whoever signed in with the old password is signed out.
		var err error
		if ended, err = db.DeleteBrowserSessionsOfAccount(ctx, acc.ID); err != nil {
			return fmt.Errorf("end the sign-in sessions: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return ended, nil
}

func status(a store.Account) string {
	if a.Disabled() {
		return "disabled"
	}
	return "active"
}

func printAccount(w io.Writer, acc store.Account) error {
	tw := newTable(w)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	verified := func(v string, ok bool) string {
		if v != "" && ok {
			return v + " (verified)"
		}
		return v
	}
	row("id", acc.ID)
	row("username", acc.Username)
	row("status", status(acc))
	row("kind", acc.Kind)
	row("assurance", acc.Assurance)
	row("email", verified(acc.Email, acc.EmailVerified))
	row("phone", verified(acc.Phone, acc.PhoneVerified))
	row("name", accounts.FullName(acc.GivenName, acc.MiddleName, acc.FamilyName))
	row("name (Latin)", accounts.FullName(acc.GivenNameLatin, acc.MiddleNameLatin, acc.FamilyNameLatin))
	row("birthdate", acc.Birthdate)
	row("citizenships", strings.Join(acc.Citizenships, ", "))
	row("residence", acc.CountryOfResidence)
	row("locale", acc.Locale)
	row("created", acc.CreatedAt.Format(time.RFC3339))
	if acc.Disabled() {
		row("disabled", acc.DisabledAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

func (a *app) noPositional(fs *flag.FlagSet, args []string) error {
	rest, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	return nil
}

func (a *app) onePositional(fs *flag.FlagSet, args []string, what string) (string, error) {
	rest, err := a.parse(fs, args)
	if err != nil {
		return "", err
	}
	switch len(rest) {
	case 0:
		return "", usagef("missing %s", what)
	case 1:
		return rest[0], nil
	default:
		return "", usagef("unexpected argument %q", rest[1])
	}
}
