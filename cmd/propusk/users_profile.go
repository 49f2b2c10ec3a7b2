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
	p               accounts.Profile
	citizenships    listFlag
	kind, assurance string
	emailVerified   bool
	fs              *flag.FlagSet
}

func (pf *profileFlags) register(fs *flag.FlagSet) {
	pf.fs = fs
	fs.StringVar(&pf.kind, "kind", "", "citizen, compatriot or foreign_national (required for create)")
	fs.StringVar(&pf.p.Email, "email", "", "e-mail address")
	fs.BoolVar(&pf.emailVerified, "email-verified", false, "the e-mail address was checked by an operator (records email_verified; audited); --email-verified=false withdraws it")
	fs.StringVar(&pf.p.Phone, "phone", "", "phone number in E.164 form (+7…)")
	fs.StringVar(&pf.p.GivenName, "given-name", "", "given name")
	fs.StringVar(&pf.p.FamilyName, "family-name", "", "family name")
	fs.StringVar(&pf.p.MiddleName, "middle-name", "", "middle name or patronymic")
	fs.StringVar(&pf.p.GivenNameLatin, "given-name-latin", "", "given name in Latin script")
	fs.StringVar(&pf.p.FamilyNameLatin, "family-name-latin", "", "family name in Latin script")
	fs.StringVar(&pf.p.MiddleNameLatin, "middle-name-latin", "", "middle name in Latin script")
	fs.StringVar(&pf.p.Birthdate, "birthdate", "", "birth date, YYYY-MM-DD")
	fs.Var(&pf.citizenships, "citizenship", "citizenships, ISO 3166-1 alpha-2 (repeatable, comma-separated: RU,KZ)")
	fs.StringVar(&pf.p.CountryOfResidence, "residence", "", "country of residence, ISO 3166-1 alpha-2")
	fs.StringVar(&pf.p.Locale, "locale", "", "preferred language (BCP 47: ru, en …)")
	fs.StringVar(&pf.assurance, "assurance", "simplified", "assurance level: simplified, standard or confirmed")
}

// profile is what create registers.
func (pf *profileFlags) profile() accounts.Profile {
	p := pf.p
	p.Kind, p.Assurance, p.Citizenships = accounts.Kind(pf.kind), accounts.Assurance(pf.assurance), pf.citizenships
	return p
}

// given lists the flags set on the command line, in flag-name order.
func (pf *profileFlags) given() []string {
	var names []string
	pf.fs.Visit(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

// over returns cur's profile with the given flags applied, and the names of
// the fields they change (as in the --json output).
func (pf *profileFlags) over(cur store.Account) (accounts.Profile, []string) {
	p := profileOf(cur)
	var fields []string
	set := func(field string, dst *string, v string) {
		if *dst != v {
			fields = append(fields, field)
		}
		*dst = v
	}
	for _, name := range pf.given() {
		switch name {
		case "kind":
			k := string(p.Kind)
			set("kind", &k, pf.kind)
			p.Kind = accounts.Kind(k)
		case "assurance":
			a := string(p.Assurance)
			set("assurance", &a, pf.assurance)
			p.Assurance = accounts.Assurance(a)
		case "email":
			set("email", &p.Email, pf.p.Email)
		case "phone":
			set("phone", &p.Phone, pf.p.Phone)
		case "given-name":
			set("given_name", &p.GivenName, pf.p.GivenName)
		case "family-name":
			set("family_name", &p.FamilyName, pf.p.FamilyName)
		case "middle-name":
			set("middle_name", &p.MiddleName, pf.p.MiddleName)
		case "given-name-latin":
			set("given_name_latin", &p.GivenNameLatin, pf.p.GivenNameLatin)
		case "family-name-latin":
			set("family_name_latin", &p.FamilyNameLatin, pf.p.FamilyNameLatin)
		case "middle-name-latin":
			set("middle_name_latin", &p.MiddleNameLatin, pf.p.MiddleNameLatin)
		case "birthdate":
			set("birthdate", &p.Birthdate, pf.p.Birthdate)
		case "residence":
			set("country_of_residence", &p.CountryOfResidence, pf.p.CountryOfResidence)
		case "locale":
			set("locale", &p.Locale, pf.p.Locale)
		case "citizenship":
			if !slices.Equal(p.Citizenships, pf.citizenships) {
				fields = append(fields, "citizenships")
			}
			p.Citizenships = slices.Clone(pf.citizenships)
		}
	}
	return p, fields
}

// profileOf is the person data of a stored account, as accounts.Profile
// holds it.
func profileOf(a store.Account) accounts.Profile {
	return accounts.Profile{
		Email: a.Email, Phone: a.Phone, Kind: accounts.Kind(a.Kind),
		GivenName: a.GivenName, FamilyName: a.FamilyName, MiddleName: a.MiddleName,
		GivenNameLatin: a.GivenNameLatin, FamilyNameLatin: a.FamilyNameLatin, MiddleNameLatin: a.MiddleNameLatin,
		Birthdate: a.Birthdate, Citizenships: slices.Clone(a.Citizenships), CountryOfResidence: a.CountryOfResidence,
		Locale: a.Locale, Assurance: accounts.Assurance(a.Assurance),
	}
}

// applyProfile copies a normalised profile onto a stored account.
func applyProfile(p accounts.Profile, a *store.Account) {
	a.Email, a.Phone, a.Kind = p.Email, p.Phone, string(p.Kind)
	a.GivenName, a.FamilyName, a.MiddleName = p.GivenName, p.FamilyName, p.MiddleName
	a.GivenNameLatin, a.FamilyNameLatin, a.MiddleNameLatin = p.GivenNameLatin, p.FamilyNameLatin, p.MiddleNameLatin
	a.Birthdate, a.Citizenships, a.CountryOfResidence = p.Birthdate, slices.Clone(p.Citizenships), p.CountryOfResidence
	a.Locale, a.Assurance = p.Locale, string(p.Assurance)
}

// cmdUsersUpdate runs "users update": it changes the named profile fields
// and records an e-mail address an operator checked elsewhere
// (--email-verified), in one transaction with its audit events. A new
// address is unverified unless --email-verified is given with it: the check
// was of the old one.
func (a *app) cmdUsersUpdate(ctx context.Context, fs *flag.FlagSet, c *Config, asJSON *bool, args []string) error {
	var pf profileFlags
	pf.register(fs)
	who, err := a.onePositional(fs, args, "username or account ID")
	if err != nil {
		return err
	}
	var profileGiven, verifiedGiven bool
	for _, name := range pf.given() {
		switch name {
		case "email-verified":
			verifiedGiven = true
		case "json", "database", "data-dir", "secrets-key-file", "log-level", "log-format":
		default:
			profileGiven = true
		}
	}
	if !profileGiven && !verifiedGiven {
		return usagef("nothing to update: give the fields to change (--email, --given-name …) or --email-verified")
	}
	return a.withDatabase(ctx, c, func(db database) error {
		cur, err := (&accounts.Service{Store: db}).Get(ctx, who)
		if err != nil {
			return err
		}
		p, fields := pf.over(cur)
		p, err = p.Normalize()
		if err != nil {
			return usageError{err}
		}
		verified := cur.EmailVerified
		switch {
		case verifiedGiven:
			verified = pf.emailVerified
		case p.Email != cur.Email:
			verified = false
		}
		if verified && p.Email == "" {
			return usagef("--email-verified: account %s has no e-mail address (give --email)", cur.Username)
		}
		var acc store.Account
		err = db.InTx(ctx, func(ctx context.Context) error {
			acc, err = db.UpdateAccount(ctx, cur.ID, func(acc store.Account) (store.Account, error) {
				applyProfile(p, &acc)
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
			if verified != cur.EmailVerified || verifiedGiven {
				acc, err = a.setEmailVerified(ctx, db, acc.ID, verified)
			}
			return err
		})
		if err != nil {
			return storeErr(err, "update account")
		}
		if *asJSON {
			return writeJSON(a.stdout, toAccountJSON(acc))
		}
		if verified != cur.EmailVerified {
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
