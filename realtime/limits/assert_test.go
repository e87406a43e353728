package limits

import "github.com/hapa-project/hapa/realtime"

// The limiter's collaborators and products satisfy the interfaces around it.
var (
	_ Observer          = (*realtime.Metrics)(nil)
	_ realtime.LogStore = (*chargingLog)(nil)
)
