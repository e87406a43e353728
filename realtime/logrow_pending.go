package realtime

import "time"

// requestLogRow stands in for store.RequestLogRow until the store change lands.
type requestLogRow struct {
	CreatedAt time.Time
	RequestID string
	KeyID     int64
	UserID    int64
	Route     string
	Kind      string
	Adapter   string
	TokensIn  int
	TokensOut int
	TTFTms    float64
	LatencyMs float64
	Cached    bool
	Coalesced bool
	Status    int
	ErrorCode string
}
