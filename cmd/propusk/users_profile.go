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

// onto applies the given flags to p, a stored profile, and nothing else:
// fields not named on the command line keep what p holds.
func (pf *profileFlags) onto(p accounts.Profile) accounts.Profile {
	for _, name := range pf.given() {
		switch name {
		case "kind":
			p.Kind = accounts.Kind(pf.kind)
		case "assurance":
			p.Assurance = accounts.Assurance(pf.assurance)
		case "email":
			p.Email = pf.p.Email
		case "phone":
			p.Phone = pf.p.Phone
		case "given-name":
			p.GivenName = pf.p.GivenName
		case "family-name":
			p.FamilyName = pf.p.FamilyName
		case "middle-name":
			p.MiddleName = pf.p.MiddleName
		case "given-name-latin":
			p.GivenNameLatin = pf.p.GivenNameLatin
		case "family-name-latin":
			p.FamilyNameLatin = pf.p.FamilyNameLatin
		case "middle-name-latin":
			p.MiddleNameLatin = pf.p.MiddleNameLatin
		case "birthdate":
			p.Birthdate = pf.p.Birthdate
		case "residence":
			p.CountryOfResidence = pf.p.CountryOfResidence
		case "locale":
			p.Locale = pf.p.Locale
		case "citizenship":
			p.Citizenships = slices.Clone(pf.citizenships)
		}
	}
	return p
}

// changedFields names the fields (as in the --json output) in which two
// normalised profiles differ.
func changedFields(old, p accounts.Profile) []string {
	var fields []string
	diff := func(field string, changed bool) {
		if changed {
			fields = append(fields, field)
		}
	}
	diff("email", old.Email != p.Email)
	diff("phone", old.Phone != p.Phone)
	diff("kind", old.Kind != p.Kind)
	diff("given_name", old.GivenName != p.GivenName)
	diff("family_name", old.FamilyName != p.FamilyName)
	diff("middle_name", old.MiddleName != p.MiddleName)
	diff("given_name_latin", old.GivenNameLatin != p.GivenNameLatin)
	diff("family_name_latin", old.FamilyNameLatin != p.FamilyNameLatin)
	diff("middle_name_latin", old.MiddleNameLatin != p.MiddleNameLatin)
	diff("birthdate", old.Birthdate != p.Birthdate)
	diff("citizenships", !slices.Equal(old.Citizenships, p.Citizenships))
	diff("country_of_residence", old.CountryOfResidence != p.CountryOfResidence)
	diff("locale", old.Locale != p.Locale)
	diff("assurance", old.Assurance != p.Assurance)
	return fields
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
				p, err := pf.onto(profileOf(old)).Normalize()
				if err != nil {
					return old, usageError{err}
				}
				fields = changedFields(profileOf(old), p)
				acc := old
				applyProfile(p, &acc)
				emailChanged := acc.Email != old.Email
				switch {
				case verifiedGiven:
					acc.EmailVerified = pf.emailVerified
				case emailChanged:
					acc.EmailVerified = false
				}
				if acc.EmailVerified && acc.Email == "" {
					return old, usagef("--email-verified: account %s has no e-mail address (give --email)", old.Username)
				}
				if acc.Phone != old.Phone && old.PhoneVerified {
					// The check was of the old number.
					acc.PhoneVerified = false
					fields = append(fields, "phone_verified")
				}
				// A check recorded for a new address is a new check, even if
				// the old address was verified too.
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
