package clients

import (
	"context"
	"slices"
	"sync"

	"github.com/propusk/propusk/store"
)

// fakeClients is an in-memory store.Clients that honours the contract:
// copies in and out, sentinel errors, ordered listing, and an UpdateClient
// that may run fn more than once.
type fakeClients struct {
	mu      sync.Mutex
	clients map[string]store.Client
	// updateRuns is how many times UpdateClient calls fn (default 1), to
	// check that callers' update functions have no side effects.
	updateRuns int
}

var _ store.Clients = (*fakeClients)(nil)

func newFakeClients() *fakeClients {
	return &fakeClients{clients: map[string]store.Client{}}
}

func cloneClient(c store.Client) store.Client {
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	c.PostLogoutRedirectURIs = slices.Clone(c.PostLogoutRedirectURIs)
	c.GrantTypes = slices.Clone(c.GrantTypes)
	c.Scopes = slices.Clone(c.Scopes)
	c.JWKS = slices.Clone(c.JWKS)
	c.SecretHash = slices.Clone(c.SecretHash)
	c.PreviousSecretHash = slices.Clone(c.PreviousSecretHash)
	return c
}

func (f *fakeClients) CreateClient(_ context.Context, c store.Client) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.clients[c.ID]; ok {
		return store.ErrAlreadyExists
	}
	f.clients[c.ID] = cloneClient(c)
	return nil
}

func (f *fakeClients) GetClient(_ context.Context, id string) (store.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.clients[id]
	if !ok {
		return store.Client{}, store.ErrNotFound
	}
	return cloneClient(c), nil
}

func (f *fakeClients) ListClients(context.Context) ([]store.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]string, 0, len(f.clients))
	for id := range f.clients {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]store.Client, 0, len(ids))
	for _, id := range ids {
		out = append(out, cloneClient(f.clients[id]))
	}
	return out, nil
}

func (f *fakeClients) UpdateClient(_ context.Context, id string, fn func(store.Client) (store.Client, error)) (store.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	old, ok := f.clients[id]
	if !ok {
		return store.Client{}, store.ErrNotFound
	}
	runs := max(f.updateRuns, 1)
	var c store.Client
	for range runs {
		var err error
		c, err = fn(cloneClient(old))
		if err != nil {
			return store.Client{}, err
		}
	}
	c.ID, c.CreatedAt = old.ID, old.CreatedAt
	f.clients[id] = cloneClient(c)
	return cloneClient(c), nil
}

func (f *fakeClients) DeleteClient(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.clients[id]; !ok {
		return store.ErrNotFound
	}
	delete(f.clients, id)
	return nil
}
