package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrSameAccount is returned for a transfer from an account to itself.
var ErrSameAccount = errors.New("ledger: transfer to the same account")

// ErrCurrencyMismatch is returned when the two accounts hold different currencies.
var ErrCurrencyMismatch = errors.New("ledger: currencies differ")

// Transfer moves amount from one account to another and journals it, all or nothing.
func Transfer(ctx context.Context, s Store, from, to string, amount Cents, memo string) error {
	if from == to {
		return ErrSameAccount
	}
	if amount <= 0 {
		return fmt.Errorf("ledger: transfer amount %d must be positive", amount)
	}
	now := time.Now()
	return s.Atomically(ctx, func(tx Store) error {
		src, err := tx.Get(ctx, from)
		if err != nil {
			return fmt.Errorf("source %s: %w", from, err)
		}
		dst, err := tx.Get(ctx, to)
		if err != nil {
			return fmt.Errorf("destination %s: %w", to, err)
		}
		if src.Currency != dst.Currency {
			return ErrCurrencyMismatch
		}
		if err := src.Debit(amount, now); err != nil {
			return err
		}
		if err := dst.Credit(amount, now); err != nil {
			return err
		}
		if err := tx.Put(ctx, src); err != nil {
			return err
		}
		if err := tx.Put(ctx, dst); err != nil {
			return err
		}
		return tx.Append(ctx, Entry{From: from, To: to, Amount: amount, Memo: memo})
	})
}

// Freeze stops every movement on an account.
func Freeze(ctx context.Context, s Store, id string) error {
	return s.Atomically(ctx, func(tx Store) error {
		a, err := tx.Get(ctx, id)
		if err != nil {
			return err
		}
		a.Frozen = true
		return tx.Put(ctx, a)
	})
}

// IsRetryable reports whether a failed transfer may succeed when tried again later.
func IsRetryable(err error) bool {
	return !errors.Is(err, ErrInsufficientFunds) && !errors.Is(err, ErrFrozen) && !errors.Is(err, ErrNotFound)
}
