package realtime

// The ops types satisfy the interfaces of the engine, the hub and web.
var (
	_ EngineObserver = (*Metrics)(nil)
	_ HubObserver    = (*Metrics)(nil)
	_ LimitObserver  = (*Metrics)(nil)
	_ Admitter       = (*Limiter)(nil)
	_ Incidents      = (*IncidentRecorder)(nil)
	_ LogStore       = (*chargingLog)(nil)
)
