package ws

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test of the package leaks a goroutine. The read poller's
// loop is process-wide by design: it starts with the first socket and never ends.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/hapa-project/hapa/realtime/ws.(*readPoller).loop"))
}
