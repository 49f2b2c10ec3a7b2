package main

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/propusk/propusk/internal/testdb"
	"github.com/propusk/propusk/store"
)

// otherNodeFirst is a store in which another node creates the server
// secret between this node's read and its create: the race two nodes
// starting on an empty database run.
type otherNodeFirst struct {
	store.ServerSecrets
	once  sync.Once
	other func() error
}

func (s *otherNodeFirst) GetServerSecret(ctx context.Context, name string) (store.ServerSecret, error) {
	var err error
	first := false
	s.once.Do(func() { first, err = true, s.other() })
	if first {
		if err != nil {
			return store.ServerSecret{}, err
		}
		return store.ServerSecret{}, store.ErrNotFound // read before the other node wrote
	}
	return s.ServerSecrets.GetServerSecret(ctx, name)
}

// A node that loses the race to create a server secret uses the winner's:
// it must start, with the same secret as the other node, never fail with
// "not found".
func TestServerSecretLostRace(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ring := newRing(t)
		var winner []byte
		st := &otherNodeFirst{ServerSecrets: db, other: func() error {
			var err error
			winner, err = serverSecret(t.Context(), db, ring, tokenKeyName, timeNow())
			return err
		}}
		got, err := serverSecret(t.Context(), st, ring, tokenKeyName, timeNow())
		if err != nil {
			t.Fatalf("the node that lost the race: %v", err)
		}
		if !bytes.Equal(got, winner) || len(got) != 32 {
			t.Fatalf("the node that lost the race has its own secret: %x, want the winner's %x", got, winner)
		}
	})
}

// Many nodes starting at once on an empty database end with one secret.
func TestServerSecretManyNodesAtOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ring := newRing(t)
		const nodes = 8
		got := make([][]byte, nodes)
		errs := make([]error, nodes)
		var wg sync.WaitGroup
		for i := range nodes {
			wg.Go(func() { got[i], errs[i] = serverSecret(t.Context(), db, ring, clientSecretKeyName, timeNow()) })
		}
		wg.Wait()
		for i := range nodes {
			if errs[i] != nil {
				t.Fatalf("node %d: %v", i, errs[i])
			}
			if !bytes.Equal(got[i], got[0]) {
				t.Fatalf("node %d has another secret than node 0", i)
			}
		}
	})
}
