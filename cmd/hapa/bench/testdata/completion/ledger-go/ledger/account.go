package ledger

import (
	"errors"
	"fmt"
	"time"
)

// Cents is an amount of money in the smallest unit of its currency.
type Cents int64

// ErrInsufficientFunds is returned when a debit would take an account below its limit.
var ErrInsufficientFunds = errors.New("ledger: insufficient funds")

// ErrFrozen is returned for any movement on a frozen account.
var ErrFrozen = errors.New("ledger: account frozen")

// Account is one customer's balance.
type Account struct {
	ID        string
	Currency  string
	Balance   Cents
	Overdraft Cents // how far below zero the balance may go
	Frozen    bool
	UpdatedAt time.Time
}

// Debit takes amount from the account.
func (a *Account) Debit(amount Cents, now time.Time) error {
	if a.Frozen {
		return ErrFrozen
	}
	if a.Balance-amount < -a.Overdraft {
		return fmt.Errorf("debit %d from %s: %w", amount, a.ID, ErrInsufficientFunds)
	}
	a.Balance -= amount
	a.UpdatedAt = now
	return nil
}

// Credit adds amount to the account.
func (a *Account) Credit(amount Cents, now time.Time) error {
	if a.Frozen {
		return ErrFrozen
	}
	a.Balance += amount
	a.UpdatedAt = now
	return nil
}
