package realtime

import (
	"github.com/hapa-project/hapa/vllm"
	"github.com/prometheus/client_golang/prometheus"
)

// ReplicaSource lists the upstream replicas; *vllm.Pool implements it.
type ReplicaSource interface {
	Replicas() []vllm.ReplicaState
}

// LogQueueSource reports the request-log queue: rows waiting and rows dropped so far.
// The engine's Stats provides both (LogQueued+LogPending, LogDropped).
type LogQueueSource func() (depth int, dropped int64)

// scrapeCollector reads replica states and the request-log queue at scrape time, so
// the numbers are never stale and nothing runs between scrapes.
type scrapeCollector struct {
	replicas ReplicaSource
	logQueue LogQueueSource

	inFlight, healthy, depth, dropped *prometheus.Desc
}

// NewScrapeCollector returns the collector of hapa_upstream_in_flight{replica},
// hapa_upstream_healthy{replica}, hapa_request_log_queue_depth and
// hapa_request_log_dropped_total; either source may be nil. Register it on the same
// registry as Metrics.
func NewScrapeCollector(replicas ReplicaSource, logQueue LogQueueSource) prometheus.Collector {
	return &scrapeCollector{replicas: replicas, logQueue: logQueue,
		inFlight: prometheus.NewDesc("hapa_upstream_in_flight", "Requests in flight per vLLM replica.", []string{"replica"}, nil),
		healthy:  prometheus.NewDesc("hapa_upstream_healthy", "1 when the vLLM replica is healthy, else 0.", []string{"replica"}, nil),
		depth:    prometheus.NewDesc("hapa_request_log_queue_depth", "Request-log rows waiting to be written.", nil, nil),
		dropped:  prometheus.NewDesc("hapa_request_log_dropped_total", "Request-log rows lost (queue full, retry buffer full, shutdown).", nil, nil),
	}
}

func (c *scrapeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.inFlight
	ch <- c.healthy
	ch <- c.depth
	ch <- c.dropped
}

func (c *scrapeCollector) Collect(ch chan<- prometheus.Metric) {
	if c.replicas != nil {
		for _, r := range c.replicas.Replicas() {
			h := 0.0
			if r.Healthy {
				h = 1
			}
			ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(r.InFlight), r.URL)
			ch <- prometheus.MustNewConstMetric(c.healthy, prometheus.GaugeValue, h, r.URL)
		}
	}
	if c.logQueue != nil {
		d, n := c.logQueue()
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(d))
		ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(n))
	}
}

// SpoolSource is a spool's size and losses; *store.Spool implements it.
type SpoolSource interface {
	Len() (records, bytes int64)
	Dropped() int64
}

// spoolCollector reports the local spools at scrape time.
type spoolCollector struct {
	spools                  map[string]SpoolSource
	incidentsDropped        func() int64
	records, bytes, dropped *prometheus.Desc
	incidentDrops           *prometheus.Desc
}

// NewSpoolCollector returns the collector of hapa_spool_records{spool},
// hapa_spool_bytes{spool} and hapa_spool_dropped_total{spool} for the named spools
// (request_log, incidents; a nil source — no spool, as with SQLite — reports zeros), and
// of hapa_incidents_dropped_total: incidents neither stored nor spooled
// (docs/operations.md, "Failure modes"). incidentsDropped may be nil.
func NewSpoolCollector(spools map[string]SpoolSource, incidentsDropped func() int64) prometheus.Collector {
	return &spoolCollector{spools: spools, incidentsDropped: incidentsDropped,
		records:       prometheus.NewDesc("hapa_spool_records", "Records waiting in the local spool for the database.", []string{"spool"}, nil),
		bytes:         prometheus.NewDesc("hapa_spool_bytes", "Size of the local spool on disk.", []string{"spool"}, nil),
		dropped:       prometheus.NewDesc("hapa_spool_dropped_total", "Records not kept because the spool was full (SPOOL_MAX_MB).", []string{"spool"}, nil),
		incidentDrops: prometheus.NewDesc("hapa_incidents_dropped_total", "Incidents logged but neither stored nor spooled.", nil, nil),
	}
}

func (c *spoolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.records
	ch <- c.bytes
	ch <- c.dropped
	ch <- c.incidentDrops
}

func (c *spoolCollector) Collect(ch chan<- prometheus.Metric) {
	for name, s := range c.spools {
		var n, b, d int64
		if s != nil {
			n, b = s.Len()
			d = s.Dropped()
		}
		ch <- prometheus.MustNewConstMetric(c.records, prometheus.GaugeValue, float64(n), name)
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(b), name)
		ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(d), name)
	}
	if c.incidentsDropped != nil {
		ch <- prometheus.MustNewConstMetric(c.incidentDrops, prometheus.CounterValue, float64(c.incidentsDropped()))
	}
}
