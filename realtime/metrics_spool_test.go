package realtime

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hapa-project/hapa/store"
)

// TestSpoolMetrics: a full spool shows its records, bytes and the records it refused;
// incidents neither stored nor spooled are counted.
func TestSpoolMetrics(t *testing.T) {
	sp, err := store.OpenSpool(t.TempDir(), 64)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	if err := sp.Append([]byte(`{"row":1}`), []byte(`{"row":2}`)); err != nil {
		t.Fatal(err)
	}
	for sp.Append([]byte(`{"row":"past the bound"}`)) == nil {
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewSpoolCollector(map[string]SpoolSource{"request_log": sp}, func() int64 { return 3 }))
	records, _ := sp.Len()
	if got := gathered(t, reg, "hapa_spool_records")["request_log"]; got != float64(records) || got < 2 {
		t.Errorf("hapa_spool_records = %v, spool holds %d", got, records)
	}
	if got := gathered(t, reg, "hapa_spool_bytes")["request_log"]; got <= 0 || got > 64 {
		t.Errorf("hapa_spool_bytes = %v, bound 64", got)
	}
	if got := gathered(t, reg, "hapa_spool_dropped_total")["request_log"]; got != 1 || sp.Dropped() != 1 {
		t.Errorf("hapa_spool_dropped_total = %v, spool dropped %d; want 1", got, sp.Dropped())
	}
	if got := gathered(t, reg, "hapa_incidents_dropped_total")[""]; got != 3 {
		t.Errorf("hapa_incidents_dropped_total = %v, want 3", got)
	}
}
