package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/store"
)

// profileFlags are the person-data flags users create and users update
// share, and --email-verified.
type profileFlags struct {
	p             accounts.Profile
	citizenships  listFlag
	emailVerified bool
	own           *flag.FlagSet // these flags alone, to tell them from the command's others
	fs            *flag.FlagSet // the command's flags, as parsed
}

// profileTextFlags are the flags that each set one text field of
// accounts.Profile.
var profileTextFlags = []struct {
	name, value, usage string
	field              func(*accounts.Profile) *string
}{
	{"kind", "", "citizen, compatriot or foreign_national (required for create)", func(p *accounts.Profile) *string { return (*string)(&p.Kind) }},
	{"email", "", "e-mail address", func(p *accounts.Profile) *string { return &p.Email }},
	{"phone", "", "phone number in E.164 form (+7…)", func(p *accounts.Profile) *string { return &p.Phone }},
	{"given-name", "", "given name", func(p *accounts.Profile) *string { return &p.GivenName }},
	{"family-name", "", "family name", func(p *accounts.Profile) *string { return &p.FamilyName }},
	{"middle-name", "", "middle name or patronymic", func(p *accounts.Profile) *string { return &p.MiddleName }},
	{"given-name-latin", "", "given name in Latin script", func(p *accounts.Profile) *string { return &p.GivenNameLatin }},
	{"family-name-latin", "", "family name in Latin script", func(p *accounts.Profile) *string { return &p.FamilyNameLatin }},
	{"middle-name-latin", "", "middle name in Latin script", func(p *accounts.Profile) *string { return &p.MiddleNameLatin }},
	{"birthdate", "", "birth date, YYYY-MM-DD", func(p *accounts.Profile) *string { return &p.Birthdate }},
	{"residence", "", "country of residence, ISO 3166-1 alpha-2", func(p *accounts.Profile) *string { return &p.CountryOfResidence }},
	{"locale", "", "preferred language (BCP 47: ru, en …)", func(p *accounts.Profile) *string { return &p.Locale }},
	{"assurance", "simplified", "assurance level: simplified, standard or confirmed", func(p *accounts.Profile) *string { return (*string)(&p.Assurance) }},
}

func (pf *profileFlags) register(fs *flag.FlagSet) {
	own := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	for _, f := range profileTextFlags {
		own.StringVar(f.field(&pf.p), f.name, f.value, f.usage)
	}
	own.BoolVar(&pf.emailVerified, "email-verified", false, "the e-mail address was checked by an operator (records email_verified; audited); --email-verified=false withdraws it")
	own.Var(&pf.citizenships, "citizenship", "citizenships, ISO 3166-1 alpha-2 (repeatable, comma-separated: RU,KZ)")
	own.VisitAll(func(f *flag.Flag) { fs.Var(f.Value, f.Name, f.Usage) })
	pf.own, pf.fs = own, fs
}

// profile is what create registers.
func (pf *profileFlags) profile() accounts.Profile {
	p := pf.p
	p.Citizenships = pf.citizenships
	return p
}

// given lists the profile flags set on the command line, in flag-name
// order.
func (pf *profileFlags) given() []string {
	var names []string
	pf.fs.Visit(func(f *flag.Flag) {
		if pf.own.Lookup(f.Name) != nil {
			names = append(names, f.Name)
		}
	})
	return names
}

// onto applies the given flags to p, a stored profile, and nothing else:
// fields not named on the command line keep what p holds.
func (pf *profileFlags) onto(p accounts.Profile) accounts.Profile {
	given := pf.given()
	for _, f := range profileTextFlags {
		if slices.Contains(given, f.name) {
			*f.field(&p) = *f.field(&pf.p)
		}
	}
	if slices.Contains(given, "citizenship") {
		p.Citizenships = slices.Clone(pf.citizenships)
	}
	return p
}

// usersUpdate runs "users update": it changes the named profile fields
// and records an e-mail address an operator checked elsewhere
// (--email-verified), in one transaction with its audit events. A new
// address is unverified unless --email-verified is given with it, and a new
// phone number is unverified: the check was of the old one.
//
// Everything is decided in the updater, from the row as locked there: a
// profile built from an earlier read would write back that read's values
// over a change made meanwhile (by the person on the account page, or
// another operator), unaudited, and would keep email_verified that was
// set meanwhile for the old address.
func (a *app) usersUpdate(ctx context.Context, x *invocation, args []string) error {
	var pf profileFlags
	pf.register(x.fs)
	who, err := a.onePositional(x.fs, args, "username or account ID")
	if err != nil {
		return err
	}
	given := pf.given()
	verifiedGiven := slices.Contains(given, "email-verified")
	if len(given) == 0 {
		return usagef("nothing to update: give the fields to change (--email, --given-name …) or --email-verified")
	}
	return a.withDatabase(ctx, x, func(db database) error {
		cur, err := (&accounts.Service{Store: db}).Get(ctx, who)
		if err != nil {
			return err
		}
		var (
			acc           store.Account
			fields        []string // changed profile fields
			emailVerified bool     // email_verified set or withdrawn
		)
		err = db.InTx(ctx, func(ctx context.Context) error {
			acc, err = db.UpdateAccount(ctx, cur.ID, func(old store.Account) (store.Account, error) {
				// The updater may run twice: nothing carries over.
				fields, emailVerified = nil, false
				acc, changed, err := accounts.WithProfile(old, pf.onto(accounts.ProfileOf(old)))
				if err != nil {
					return old, usageError{err}
				}
				fields = changed
				if verifiedGiven {
					acc.EmailVerified = pf.emailVerified
				}
				if acc.EmailVerified && acc.Email == "" {
					return old, usagef("--email-verified: account %s has no e-mail address (give --email)", old.Username)
				}
				if acc.PhoneVerified != old.PhoneVerified {
					// A new number: the check was of the old one.
					fields = append(fields, "phone_verified")
				}
				// A check recorded for a new address is a new check, even if
				// the old address was verified too.
				emailChanged := acc.Email != old.Email
				emailVerified = acc.EmailVerified != old.EmailVerified || acc.EmailVerified && emailChanged
				if len(fields) == 0 && !emailVerified {
					return old, nil
				}
				acc.UpdatedAt = timeNow()
				return acc, nil
			})
			if err != nil {
				return err
			}
			if len(fields) > 0 {
				// Field names only: the values are personal data.
				if err := a.audit(ctx, db, "account.updated", acc.ID, map[string]string{"fields": strings.Join(fields, ",")}); err != nil {
					return err
				}
			}
			if emailVerified {
				return a.audit(ctx, db, "account.email_verified", acc.ID, map[string]string{"email_verified": strconv.FormatBool(acc.EmailVerified)})
			}
			return nil
		})
		if err != nil {
			return storeErr(err, "update account")
		}
		if *x.asJSON {
			return writeJSON(a.stdout, toAccountJSON(acc))
		}
		if emailVerified {
			fields = append(fields, "email_verified")
		}
		if len(fields) == 0 {
			fmt.Fprintf(a.stdout, "account %s (%s) unchanged\n", acc.Username, acc.ID)
			return nil
		}
		fmt.Fprintf(a.stdout, "updated account %s (%s): %s\n", acc.Username, acc.ID, strings.Join(fields, ", "))
		return nil
	})
}

// errNoEmail: email_verified without an address to have checked.
var errNoEmail = errors.New("the account has no e-mail address")

// setEmailVerified records an operator's check of the account's e-mail
// address (or its withdrawal) with an audit event naming the operator:
// relying parties such as oauth2-proxy trust email_verified, so who set it
// must be on record.
func (a *app) setEmailVerified(ctx context.Context, db database, id string, verified bool) (store.Account, error) {
	acc, err := db.UpdateAccount(ctx, id, func(acc store.Account) (store.Account, error) {
		if verified && acc.Email == "" {
			return acc, errNoEmail
		}
		acc.EmailVerified = verified
		acc.UpdatedAt = timeNow()
		return acc, nil
	})
	if err != nil {
		return store.Account{}, fmt.Errorf("record email_verified: %w", err)
	}
	err = a.audit(ctx, db, "account.email_verified", id, map[string]string{"email_verified": strconv.FormatBool(verified)})
	return acc, err
}

// audit appends an administrator's act on an account to the audit log.
func (a *app) audit(ctx context.Context, db store.Audit, typ, accountID string, details map[string]string) error {
	_, err := db.AppendAudit(ctx, store.AuditEvent{
		At: timeNow(), Type: typ, AccountID: accountID, ActorID: a.adminActor(), Details: details,
	})
	if err != nil {
		return fmt.Errorf("write the audit log: %w", err)
	}
	return nil
}
