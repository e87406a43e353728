package main

import (
	"context"
	"errors"
	"io"
)

// cmdBench runs the load generator; see docs/performance.md.
func cmdBench(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return errors.New("bench: not built yet")
}
