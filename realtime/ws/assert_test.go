package ws

import (
	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/realtime/limits"
)

// The production types satisfy the interfaces the socket transport consumes.
var (
	_ Admitter   = (*limits.Limiter)(nil)
	_ ConnLeases = (*limits.Sockets)(nil)
	_ Observer   = (*realtime.Metrics)(nil)
)
