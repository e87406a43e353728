package bench

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
)

// SimCounters are the simulator's request counters from its /metrics (vLLM's names).
type SimCounters struct {
	Finished int64 // vllm:request_success_total, all finished_reason values
	Aborted  int64 // finished_reason="abort"
	Running  int64 // vllm:num_requests_running
}

// ReadSimCounters scrapes GET base/metrics.
func ReadSimCounters(ctx context.Context, hc *http.Client, base string) (SimCounters, error) {
	var c SimCounters
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/metrics", nil)
	if err != nil {
		return c, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return c, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		parseSimLine(sc.Text(), &c)
	}
	return c, sc.Err()
}

func parseSimLine(line string, c *SimCounters) {
	name, rest, ok := strings.Cut(line, "{")
	if !ok || strings.HasPrefix(line, "#") {
		return
	}
	i := strings.LastIndexByte(rest, ' ')
	if i < 0 {
		return
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(rest[i+1:]), 64)
	if err != nil {
		return
	}
	switch name {
	case "vllm:request_success_total":
		c.Finished += int64(v)
		if strings.Contains(rest, `finished_reason="abort"`) {
			c.Aborted += int64(v)
		}
	case "vllm:num_requests_running":
		c.Running = int64(v)
	}
}
