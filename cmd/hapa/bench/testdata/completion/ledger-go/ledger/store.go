package ledger

import (
	"context"
	"errors"
	"sync"
)

// ErrNotFound is returned for an unknown account id.
var ErrNotFound = errors.New("ledger: account not found")

// Store keeps accounts and the journal of movements.
type Store interface {
	Get(ctx context.Context, id string) (Account, error)
	Put(ctx context.Context, a Account) error
	Append(ctx context.Context, e Entry) error
	// Atomically runs fn; what fn writes is kept only when it returns nil.
	Atomically(ctx context.Context, fn func(tx Store) error) error
}

// Entry is one line of the journal.
type Entry struct {
	From, To string
	Amount   Cents
	Memo     string
}

// MemStore is a Store in memory, for tests.
type MemStore struct {
	mu       sync.Mutex
	accounts map[string]Account
	journal  []Entry
}

// NewMemStore returns a store holding accounts.
func NewMemStore(accounts ...Account) *MemStore {
	m := &MemStore{accounts: map[string]Account{}}
	for _, a := range accounts {
		m.accounts[a.ID] = a
	}
	return m
}

func (m *MemStore) Get(_ context.Context, id string) (Account, error) {
	a, ok := m.accounts[id]
	if !ok {
		return Account{}, ErrNotFound
	}
	return a, nil
}

func (m *MemStore) Put(_ context.Context, a Account) error {
	m.accounts[a.ID] = a
	return nil
}

func (m *MemStore) Append(_ context.Context, e Entry) error {
	m.journal = append(m.journal, e)
	return nil
}

func (m *MemStore) Atomically(ctx context.Context, fn func(tx Store) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	saved, n := make(map[string]Account, len(m.accounts)), len(m.journal)
	for k, v := range m.accounts {
		saved[k] = v
	}
	if err := fn(m); err != nil {
		m.accounts, m.journal = saved, m.journal[:n]
		return err
	}
	return nil
}
