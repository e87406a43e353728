package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat; 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// ProcStat is one reading of a local process.
type ProcStat struct {
	RSS  int64         // resident set, bytes (VmRSS)
	Anon int64         // its anonymous part (RssAnon: heap, stacks); the rest is mostly the binary's pages
	CPU  time.Duration // user + system time consumed so far
	When time.Time
}

// ReadProc reads /proc/<pid>/status and /proc/<pid>/stat.
func ReadProc(pid int) (ProcStat, error) {
	st := ProcStat{When: time.Now()}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, err
	}
	for line := range bytes.Lines(b) {
		for _, field := range []struct {
			name string
			dst  *int64
		}{{"VmRSS:", &st.RSS}, {"RssAnon:", &st.Anon}} {
			if v, ok := bytes.CutPrefix(line, []byte(field.name)); ok {
				if f := strings.Fields(string(v)); len(f) >= 1 {
					kb, _ := strconv.ParseInt(f[0], 10, 64)
					*field.dst = kb << 10
				}
			}
		}
	}
	b, err = os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return st, err
	}
	cpu, err := parseStatCPU(string(b))
	st.CPU = cpu
	return st, err
}

// parseStatCPU returns utime+stime of a /proc/<pid>/stat line. The command name (field
// 2) is in parentheses and may hold spaces, so fields are counted after the last ')'.
func parseStatCPU(s string) (time.Duration, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("bench: malformed stat line")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("bench: short stat line")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	stt, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bench: bad utime/stime")
	}
	return time.Duration(ut+stt) * time.Second / clockTicks, nil
}

// ProcUsage summarises a process over one run.
type ProcUsage struct {
	Before, After ProcStat
	PeakRSS       int64
}

// CPUPercent is the CPU used during the run as a percentage of one core.
func (u ProcUsage) CPUPercent() float64 {
	el := u.After.When.Sub(u.Before.When)
	if el <= 0 {
		return 0
	}
	return 100 * float64(u.After.CPU-u.Before.CPU) / float64(el)
}

// Watch samples pid every interval until the returned stop is called, which yields
// the usage. pid 0 watches nothing and yields a zero usage.
func Watch(ctx context.Context, pid int, interval time.Duration) (stop func() ProcUsage) {
	if pid == 0 {
		return func() ProcUsage { return ProcUsage{} }
	}
	var u ProcUsage
	u.Before, _ = ReadProc(pid)
	u.PeakRSS = u.Before.RSS
	ctx, cancel := context.WithCancel(ctx)
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(interval)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
				if st, err := ReadProc(pid); err == nil {
					mu.Lock()
					u.PeakRSS = max(u.PeakRSS, st.RSS)
					mu.Unlock()
				}
			}
		}
	}()
	return func() ProcUsage {
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		u.After, _ = ReadProc(pid)
		u.PeakRSS = max(u.PeakRSS, u.After.RSS)
		return u
	}
}
