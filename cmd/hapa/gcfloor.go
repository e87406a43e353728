package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// gcFloor keeps the collector's heap goal at or above a floor. Go's goal is the
// live heap times (1 + GOGC/100), but never under 4 MiB·GOGC/100; a gateway
// serving REST has a live heap of 1–2 MiB, so at GOGC=100 it collects every 3 MiB
// of garbage — 20 times a second at 4,000 cache hits/s — and on a 2-core machine
// each cycle's mark worker takes one of the cores for 1–3 ms. After every cycle
// gcFloor sets GOGC so that the next goal is the floor, or what the user's GOGC
// gives if that is larger: with a live heap above floor/(1 + GOGC/100) it is plain
// GOGC. The heap (and so RSS) may grow to the floor while the gateway is idle.
type gcFloor struct {
	floor  uint64
	base   int // the user's GOGC
	sample []metrics.Sample

	mu      sync.Mutex // tune (the finalizer goroutine) against stop
	current int64      // the GOGC last set
	stopped bool
}

// goMinHeap is the runtime's smallest heap goal at GOGC=100 (defaultHeapMinimum).
const goMinHeap = 4 << 20

// gcFloorActive is set while a gcFloor runs: GOGC is the process's, so one at a time.
var gcFloorActive atomic.Bool

// startGCFloor starts keeping the heap goal at floor bytes or more, on top of the
// GOGC the process started with; it does nothing when that is off or 0 (collect
// continuously: a deliberate setting), floor is 0 or one is running already. stop
// ends it and restores that GOGC.
func startGCFloor(floor uint64) (stop func()) {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	base := s[0].Value.Uint64()
	if floor == 0 || base == 0 || base > 1<<20 || !gcFloorActive.CompareAndSwap(false, true) { // GOGC=off reads as -1
		return func() {}
	}
	t := &gcFloor{floor: floor, base: int(base), sample: []metrics.Sample{
		{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"}}}
	t.current = int64(base)
	t.tune() // the goal of the first cycle too
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		if !t.stopped {
			t.stopped = true
			debug.SetGCPercent(t.base)
			gcFloorActive.Store(false)
		}
	}
}

// tune sets GOGC for the current live heap and arms itself for the end of the next
// cycle: a finalizer runs once its object is found unreachable, in the cycle after
// the object was allocated.
func (t *gcFloor) tune() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	defer runtime.SetFinalizer(new([16]byte), func(*[16]byte) { t.tune() })
	metrics.Read(t.sample)
	var v [3]uint64
	for i, s := range t.sample {
		if s.Value.Kind() != metrics.KindUint64 {
			return
		}
		v[i] = s.Value.Uint64()
	}
	p := percentFor(v[0], v[1]+v[2], t.floor, t.base)
	// Small changes are not worth the heap lock: within an eighth, keep the old one.
	if old := t.current; p != old && (p == int64(t.base) || p > old+old/8 || p < old-old/8) {
		t.current = p
		debug.SetGCPercent(int(p))
	}
}

// percentFor is the GOGC that puts the heap goal at floor, or base if that is larger.
// The runtime's goal is the larger of live + (live + roots)·GOGC/100, roots being the
// scannable stacks and globals, and goMinHeap·GOGC/100.
func percentFor(live, roots, floor uint64, base int) int64 {
	if live >= floor {
		return int64(base)
	}
	p := min((floor-live)*100/max(live+roots, 1), floor*100/goMinHeap)
	return int64(max(p, uint64(base)))
}
