package realtime

// The ops types satisfy the interfaces of the engine.
var (
	_ Starter        = (*Engine)(nil)
	_ EngineObserver = (*Metrics)(nil)
	_ Incidents      = (*IncidentRecorder)(nil)
)
