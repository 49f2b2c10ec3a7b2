package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/propusk/propusk/store"
)

// lockRecorder is a GrantLocker that records what happens, in order.
type lockRecorder struct {
	steps   []string
	lockErr error
}

func (l *lockRecorder) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	l.steps = append(l.steps, "begin:"+store.GrantSubject(ctx))
	err := fn(ctx)
	l.steps = append(l.steps, "end")
	return err
}

func (l *lockRecorder) LockGrants(ctx context.Context, subject string) error {
	l.steps = append(l.steps, "lock:"+subject)
	return l.lockErr
}

func TestInGrantTxLocksFirst(t *testing.T) {
	l := &lockRecorder{}
	err := store.InGrantTx(t.Context(), l, "anna", func(ctx context.Context) error {
		l.steps = append(l.steps, "work:"+store.GrantSubject(ctx))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The transaction is marked for the person's queue (WithGrantSubject)
	// and takes the lock before any work.
	if want := []string{"begin:anna", "lock:anna", "work:anna", "end"}; !slices.Equal(l.steps, want) {
		t.Fatalf("steps %v, want %v", l.steps, want)
	}
}

func TestInGrantTxLockFailureRunsNothing(t *testing.T) {
	boom := errors.New("lock timeout")
	l := &lockRecorder{lockErr: boom}
	ran := false
	err := store.InGrantTx(t.Context(), l, "anna", func(context.Context) error { ran = true; return nil })
	if !errors.Is(err, boom) || ran {
		t.Fatalf("err %v, work ran %t; want the lock's error and no work", err, ran)
	}
}
