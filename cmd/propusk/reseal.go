package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/propusk/propusk/internal/seal"
	"github.com/propusk/propusk/store"
)

// resealReport counts, per table, what a re-seal did.
type resealReport struct {
	Resealed   map[string]int `json:"resealed"`
	Unopenable map[string]int `json:"unopenable"` // sealed with a key not configured
}

// reseal seals every sealed value of the database that the primary secrets
// key did not seal with the primary key, so that the old keys can be
// dropped. Values that change meanwhile are left to the node that changed
// them (it seals with the primary key too).
func reseal(ctx context.Context, db store.SealedValues, ring *seal.Ring) (resealReport, error) {
	rep := resealReport{Resealed: map[string]int{}, Unopenable: map[string]int{}}
	tables := make([]string, 0, len(store.SealedColumns))
	for t := range store.SealedColumns {
		tables = append(tables, t)
	}
	slices.Sort(tables)
	for _, table := range tables {
		after := ""
		for {
			page, err := db.ListSealed(ctx, table, after, 500)
			if err != nil {
				return rep, err
			}
			for _, v := range page {
				after = v.Row
				if len(v.Sealed) == 0 || ring.SealedWithPrimary(v.Sealed) {
					continue // nothing sealed (a local flow's request), or done
				}
				ad := seal.AD{Table: v.Table, Column: v.Column, Row: v.Row}
				plain, err := ring.Open(v.Sealed, ad)
				if err != nil {
					rep.Unopenable[table]++
					continue
				}
				old := v.Sealed
				if v.Sealed, err = ring.Seal(plain, ad); err != nil {
					return rep, err
				}
				if err := db.ReplaceSealed(ctx, v, old); err != nil && !errors.Is(err, store.ErrNotFound) {
					return rep, err
				} else if err == nil {
					rep.Resealed[table]++
				}
			}
			if len(page) < 500 {
				break
			}
		}
	}
	return rep, nil
}

// secretsKeyReseal runs "secrets-key reseal".
func (a *app) secretsKeyReseal(ctx context.Context, x *invocation, args []string) error {
	if err := a.noPositional(x.fs, args); err != nil {
		return err
	}
	var rep resealReport
	err := a.withSealed(ctx, x, func(db database, ring *seal.Ring) (err error) {
		rep, err = reseal(ctx, db, ring)
		return err
	})
	if err != nil {
		return fmt.Errorf("re-seal: %w", err)
	}
	if *x.asJSON {
		if err := writeJSON(a.stdout, rep); err != nil {
			return err
		}
	} else {
		total := 0
		var parts []string
		for t, n := range rep.Resealed {
			total += n
			parts = append(parts, fmt.Sprintf("%s %d", t, n))
		}
		slices.Sort(parts)
		fmt.Fprintf(a.stdout, "re-sealed %d values with the first secrets key", total)
		if len(parts) > 0 {
			fmt.Fprintf(a.stdout, " (%s)", strings.Join(parts, ", "))
		}
		fmt.Fprintln(a.stdout)
	}
	if n := sum(rep.Unopenable); n > 0 {
		return fmt.Errorf("%d values are sealed with a key that is not configured (%v); keep that key until they are re-sealed or expired", n, rep.Unopenable)
	}
	return nil
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
