package accounts

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/propusk/propusk/store"
)

// memAccounts is an in-memory store.Accounts honouring the store contract,
// for Service tests.
type memAccounts struct {
	mu   sync.Mutex
	byID map[string]store.Account

	// failUpdate, when set, is returned by UpdateAccount (after fn ran).
	failUpdate error
}

var _ store.Accounts = (*memAccounts)(nil)

func newMemAccounts() *memAccounts { return &memAccounts{byID: map[string]store.Account{}} }

// clone keeps callers from sharing the stored slice.
func clone(a store.Account) store.Account {
	a.Citizenships = slices.Clone(a.Citizenships)
	return a
}

func (m *memAccounts) usernameTaken(username, exceptID string) bool {
	for id, a := range m.byID {
		if id != exceptID && a.Username == username {
			return true
		}
	}
	return false
}

func (m *memAccounts) CreateAccount(_ context.Context, a store.Account) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byID[a.ID]; ok || m.usernameTaken(a.Username, "") {
		return store.ErrAlreadyExists
	}
	m.byID[a.ID] = clone(a)
	return nil
}

func (m *memAccounts) GetAccount(_ context.Context, id string) (store.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.byID[id]
	if !ok {
		return store.Account{}, store.ErrNotFound
	}
	return clone(a), nil
}

func (m *memAccounts) GetAccountByUsername(_ context.Context, username string) (store.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range m.byID {
		if a.Username == username {
			return clone(a), nil
		}
	}
	return store.Account{}, store.ErrNotFound
}

func (m *memAccounts) ListAccounts(_ context.Context, after string, limit int) ([]store.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Account
	for _, a := range m.byID {
		if a.Username > after {
			out = append(out, clone(a))
		}
	}
	slices.SortFunc(out, func(a, b store.Account) int { return strings.Compare(a.Username, b.Username) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (m *memAccounts) UpdateAccount(_ context.Context, id string, fn func(store.Account) (store.Account, error)) (store.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.byID[id]
	if !ok {
		return store.Account{}, store.ErrNotFound
	}
	a, err := fn(clone(old))
	if err != nil {
		return store.Account{}, err
	}
	if m.failUpdate != nil {
		return store.Account{}, m.failUpdate
	}
	a.ID, a.CreatedAt = old.ID, old.CreatedAt
	if m.usernameTaken(a.Username, id) {
		return store.Account{}, store.ErrAlreadyExists
	}
	m.byID[id] = clone(a)
	return clone(a), nil
}
