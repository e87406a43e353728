package web

// Response bodies that have no other home: the handlers encode these types, and the
// OpenAPI document (openapi.go) describes them by reflection.

// readyBody is GET /readyz.
type readyBody struct {
	Status   string `json:"status"`             // ready, degraded or draining
	Database string `json:"database,omitempty"` // connected or error
}

// liveBody is GET /livez.
type liveBody struct {
	Status string `json:"status"` // always "alive"
}

// backendStatusBody is GET /api/v1/code/backend/status.
type backendStatusBody struct {
	BackendType       string   `json:"backend_type"`
	AvailableBackends []string `json:"available_backends"`
	Status            string   `json:"status"`
	Switchable        bool     `json:"switchable"`
	Timestamp         string   `json:"timestamp"`
}

// backendSwitchBody is POST /api/v1/code/backend/switch.
type backendSwitchBody struct {
	Success     bool   `json:"success"`
	BackendType string `json:"backend_type"`
	Message     string `json:"message"`
	Timestamp   string `json:"timestamp"`
}

// cacheClearRequest is the body of DELETE /api/v1/cache/clear; pointers tell absent
// from empty.
type cacheClearRequest struct {
	CacheType *string `json:"cache_type"`
	Confirm   *bool   `json:"confirm"`
}

// cacheClearBody is the answer of DELETE /api/v1/cache/clear.
type cacheClearBody struct {
	Status         string  `json:"status"`
	Cleared        int     `json:"cleared"`
	CacheType      string  `json:"cache_type"`
	Broadcast      bool    `json:"broadcast"`
	Message        string  `json:"message"`
	ResponseTimeMs float64 `json:"response_time_ms"`
}

// configStatusBody is GET /api/v1/config/status.
type configStatusBody struct {
	Status      string            `json:"status"`
	Version     string            `json:"version"`
	Environment string            `json:"environment"`
	Config      map[string]any    `json:"config"`
	RateLimits  map[string]string `json:"rate_limits"`
	LastCleanup *string           `json:"last_cleanup"`
}

// messageBody is an answer that is one message.
type messageBody struct {
	Message string `json:"message"`
}

// historyHealthBody is GET /history/health.
type historyHealthBody struct {
	Status    string `json:"status"`
	Service   string `json:"service"`
	Version   string `json:"version"`
	Database  string `json:"database"`
	Timestamp string `json:"timestamp"`
}
