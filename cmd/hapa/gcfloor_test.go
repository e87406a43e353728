package main

import (
	"os"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercentFor(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		name               string
		live, roots, floor uint64
		base               int
		want               int64
	}{
		// 16 MiB over 1.5 MiB scanned would be GOGC 1000, but 4 MiB·1000/100 = 40 MiB:
		// the runtime's minimum decides, so 400 (4 MiB·4 = 16 MiB).
		{"small heap: the minimum decides", 1 * mib, mib / 2, 16 * mib, 100, 400},
		{"no heap yet", 0, mib / 4, 16 * mib, 100, 400},
		// 10 MiB live: (16−10)·100/10.5 = 57 < 100, plain GOGC already reaches 20 MiB.
		{"heap above floor/2: plain GOGC", 10 * mib, mib / 2, 16 * mib, 100, 100},
		{"live above the floor", 40 * mib, mib, 16 * mib, 100, 100},
		{"a larger user GOGC is kept", 1 * mib, mib / 2, 16 * mib, 800, 800},
		// 6 MiB live, 2 MiB roots: (16−6)·100/8 = 125 < 400.
		{"between: the live heap decides", 6 * mib, 2 * mib, 16 * mib, 100, 125},
		{"larger floor", 1 * mib, mib / 2, 64 * mib, 100, 1600},
	} {
		if got := percentFor(c.live, c.roots, c.floor, c.base); got != c.want {
			t.Errorf("%s: percentFor(%d, %d, %d, %d) = %d, want %d", c.name, c.live, c.roots, c.floor, c.base, got, c.want)
		}
	}
}

// readGC returns the runtime's current heap goal and GOGC.
func readGC() (goal, gogc uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}, {Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

// TestGCFloorKeepsTheGoal: with the floor running the runtime's own heap goal is the
// floor across cycles; stop restores GOGC and the small goal.
func TestGCFloorKeepsTheGoal(t *testing.T) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOGC or GOMEMLIMIT is set: the goals asserted here are those of Go's defaults")
	}
	if gcFloorActive.Load() {
		t.Fatal("a gcFloor is running already (a serve test left running?)")
	}
	runtime.GC()
	_, before := readGC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	// Well above what this test binary holds live, so the floor decides the goal.
	floor := s[0].Value.Uint64() + 48<<20
	stop := startGCFloor(floor)
	if again := startGCFloor(64 << 20); again == nil {
		t.Fatal("a second start returned no stop")
	} else {
		again() // a no-op: one floor at a time
	}
	goal, gogc := readGC()
	if goal < floor*9/10 || goal > floor*3/2 {
		t.Errorf("heap goal with a %d MiB floor = %.1f MiB (GOGC %d)", floor>>20, float64(goal)/(1<<20), gogc)
	}
	if gogc <= before {
		t.Errorf("GOGC = %d, want above the process's %d", gogc, before)
	}
	// A live heap above the floor: after a cycle the finalizer puts GOGC back.
	live := make([][]byte, floor>>20)
	for i := range live {
		live[i] = make([]byte, 1<<20)
	}
	if gogc := waitGOGC(t, func(p uint64) bool { return p == before }); gogc != before {
		t.Errorf("GOGC with the floor's worth live = %d, want the process's %d", gogc, before)
	}
	runtime.KeepAlive(live)
	live = nil
	if gogc := waitGOGC(t, func(p uint64) bool { return p > before }); gogc <= before {
		t.Errorf("GOGC after the heap shrank = %d, want raised again", gogc)
	}
	stop()
	stop() // idempotent
	runtime.GC()
	goal, gogc = readGC()
	if gogc != before {
		t.Errorf("GOGC after stop = %d, want %d", gogc, before)
	}
	if goal >= floor*9/10 {
		t.Errorf("heap goal after stop = %.1f MiB, want Go's own", float64(goal)/(1<<20))
	}
	if !gcFloorActive.CompareAndSwap(false, false) {
		t.Error("still marked active after stop")
	}
}

// waitGOGC collects until ok(GOGC) or 2 s pass: the finalizer that re-tunes runs
// on its own goroutine after a cycle.
func waitGOGC(t *testing.T, ok func(uint64) bool) uint64 {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
		if _, p := readGC(); ok(p) || time.Now().After(deadline) {
			return p
		}
	}
}

func TestGCFloorOff(t *testing.T) {
	_, before := readGC()
	startGCFloor(0)()
	runtime.GC()
	if _, gogc := readGC(); gogc != before {
		t.Errorf("GC_MIN_HEAP_MB=0 changed GOGC to %d", gogc)
	}
}
