package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/propusk/propusk/store"
)

// holdTx begins a transaction that runs fn and then stays open until
// release is called; it returns once fn has returned. done receives the
// transaction's result.
func holdTx(t *testing.T, s store.Store, fn func(ctx context.Context) error) (release func(), done <-chan error) {
	t.Helper()
	held, rel, d := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	var once sync.Once
	release = func() { once.Do(func() { close(rel) }) }
	t.Cleanup(release)
	go func() {
		d <- s.InTx(ctx(t), func(ctx context.Context) error {
			if err := fn(ctx); err != nil {
				return err
			}
			close(held)
			<-rel
			return nil
		})
	}()
	select {
	case <-held:
	case err := <-d:
		t.Fatalf("first transaction: %v", err)
	}
	return release, d
}

// overlaps reports whether a second transaction running second finishes,
// within wait, while a first one that ran first is still open.
func overlaps(t *testing.T, s store.Store, first, second func(ctx context.Context) error, wait time.Duration) bool {
	t.Helper()
	release, firstDone := holdTx(t, s, first)
	secondDone := make(chan error, 1)
	go func() { secondDone <- s.InTx(ctx(t), second) }()
	finished := false
	select {
	case err := <-secondDone:
		must(t, err, "second transaction")
		finished = true
	case <-time.After(wait):
	}
	release()
	must(t, <-firstDone, "first transaction")
	if !finished {
		must(t, <-secondDone, "second transaction, after the first")
	}
	return finished
}

func lockGrants(s store.Store, subject string) func(ctx context.Context) error {
	return func(ctx context.Context) error { return s.LockGrants(ctx, subject) }
}

func testGrantLock(t *testing.T, newStore NewStore) {
	t.Run("LockGrantsOutsideTransaction", func(t *testing.T) {
		s := newStore(t)
		if err := s.LockGrants(ctx(t), "a1"); err == nil {
			t.Fatal("LockGrants outside a transaction succeeded; the lock would end with the statement")
		}
	})
	t.Run("LockGrantsTwiceInOneTransaction", func(t *testing.T) {
		s := newStore(t)
		must(t, s.InTx(ctx(t), func(ctx context.Context) error {
			if err := s.LockGrants(ctx, "a1"); err != nil {
				return err
			}
			return s.LockGrants(ctx, "a1")
		}), "lock twice")
	})
}

func testGrantLockConcurrency(t *testing.T, newStore NewStore) {
	t.Run("GrantLockSameSubjectWaits", func(t *testing.T) {
		s := newStore(t)
		release, first := holdTx(t, s, lockGrants(s, "a1"))
		var released atomic.Bool
		second := make(chan error, 1)
		go func() {
			second <- s.InTx(ctx(t), func(ctx context.Context) error {
				if err := s.LockGrants(ctx, "a1"); err != nil {
					return err
				}
				if !released.Load() {
					return errors.New("took a1's grant lock while another transaction held it")
				}
				return nil
			})
		}()
		select {
		case err := <-second:
			t.Fatalf("second transaction finished while the first held the lock: %v", err)
		case <-time.After(300 * time.Millisecond): // room for a broken lock to show
		}
		released.Store(true)
		release()
		must(t, <-first, "first transaction")
		must(t, <-second, "second transaction, after the first committed")
	})
	t.Run("GrantLockDeactivationSeesWhatTheHolderInserted", func(t *testing.T) {
		// A token request holds the lock and inserts a token; a withdrawal
		// waiting on the lock must end that token too, not only the rows
		// committed when it started.
		s := withClient(t, newStore)
		release, first := holdTx(t, s, func(ctx context.Context) error {
			if err := s.LockGrants(ctx, "a1"); err != nil {
				return err
			}
			return s.CreateOAuthRecord(ctx, sampleRecord(store.OAuthRefresh, "issued-in-flight", "req-1"))
		})
		type result struct {
			n   int
			err error
		}
		ended := make(chan result, 1)
		go func() {
			var n int
			err := s.InTx(ctx(t), func(ctx context.Context) error {
				if err := s.LockGrants(ctx, "a1"); err != nil {
					return err
				}
				var err error
				n, err = s.DeactivateOAuthRecordsBySubject(ctx, "a1")
				return err
			})
			ended <- result{n, err}
		}()
		time.Sleep(300 * time.Millisecond) // the deactivation reaches the lock and waits
		release()
		must(t, <-first, "token transaction")
		r := <-ended
		must(t, r.err, "deactivation")
		equal(t, r.n, 1, "tokens ended")
		got, err := s.GetOAuthRecord(ctx(t), store.OAuthRefresh, "issued-in-flight")
		must(t, err, "get")
		if got.Active {
			t.Fatal("a token inserted under the lock is still active after the deactivation that waited for it")
		}
	})
	t.Run("GrantLockOtherSubjectDoesNotWait", func(t *testing.T) {
		s := newStore(t)
		noop := func(context.Context) error { return nil }
		if !overlaps(t, s, noop, noop, 2*time.Second) {
			// SQLite: one writer, every transaction waits for the one
			// before; the lock has nothing to add.
			t.Log("the backend runs one transaction at a time; nothing to compare")
			return
		}
		if !overlaps(t, s, lockGrants(s, "a1"), lockGrants(s, "a2"), 10*time.Second) {
			t.Fatal("a2's grant lock waited for a1's")
		}
	})
}
