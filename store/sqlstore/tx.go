package sqlstore

import (
	"context"
	"errors"
	"fmt"
)

// Tx is one open transaction of a backend, as Conn.Begin returns it.
type Tx interface {
	Commit(ctx context.Context) error
	// Rollback ends the transaction; rolling back a finished one is not an
	// error, and it runs even when ctx is cancelled (the connection must
	// go back clean).
	Rollback(ctx context.Context) error
}

type txKey struct{}

// txState is the transaction a context carries. joined marks a context that
// entered an already open transaction (BeginTx inside a transaction):
// committing or rolling back through it is left to the owner.
type txState struct {
	tx     Tx
	joined bool
}

// TxFrom returns the transaction ctx carries, for a backend's Conn to run
// statements in.
func TxFrom(ctx context.Context) (Tx, bool) {
	st, ok := ctx.Value(txKey{}).(*txState)
	if !ok {
		return nil, false
	}
	return st.tx, true
}

// InTx implements store.Transactor.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if _, ok := TxFrom(ctx); ok {
		return fn(ctx)
	}
	ctx, err = s.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			s.RollbackTx(ctx)
			panic(p)
		}
	}()
	if err := fn(ctx); err != nil {
		s.RollbackTx(ctx)
		return err
	}
	return s.CommitTx(ctx)
}

// BeginTx implements store.TxController.
func (s *Store) BeginTx(ctx context.Context) (context.Context, error) {
	if tx, ok := TxFrom(ctx); ok {
		return context.WithValue(ctx, txKey{}, &txState{tx: tx, joined: true}), nil
	}
	tx, err := s.conn.Begin(ctx)
	if err != nil {
		return ctx, fmt.Errorf("begin transaction: %w", s.d.MapErr(err))
	}
	return context.WithValue(ctx, txKey{}, &txState{tx: tx}), nil
}

// CommitTx implements store.TxController.
func (s *Store) CommitTx(ctx context.Context) error {
	return s.endTx(ctx, "commit", Tx.Commit)
}

// RollbackTx implements store.TxController. Rolling back a finished
// transaction is not an error, so a deferred rollback after a commit is safe.
func (s *Store) RollbackTx(ctx context.Context) error {
	return s.endTx(ctx, "rollback", Tx.Rollback)
}

func (s *Store) endTx(ctx context.Context, what string, end func(Tx, context.Context) error) error {
	st, ok := ctx.Value(txKey{}).(*txState)
	if !ok {
		return errors.New(what + ": no transaction in context")
	}
	if st.joined {
		return nil
	}
	if err := end(st.tx, ctx); err != nil {
		return fmt.Errorf("%s: %w", what, s.d.MapErr(err))
	}
	return nil
}

// ExecScript runs SQL text (several statements) in one transaction. Tests use
// it to seed rows. (pgx sends a statement without arguments with the simple
// protocol, which takes several.)
func (s *Store) ExecScript(ctx context.Context, script string) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		_, err := s.conn.Exec(ctx, script)
		return s.d.MapErr(err)
	})
}
