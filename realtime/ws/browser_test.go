package ws

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hapa-project/hapa/vllm/sim"
)

// TestBrowserClient runs static/js/hapa-realtime.js under Node (its WebSocket is the
// browser API) against the real hub, engine and simulator. Skipped without node ≥ 20.
func TestBrowserClient(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	if exec.Command(node, "--experimental-websocket", "-e", "if (typeof WebSocket !== 'function') process.exit(1)").Run() != nil {
		t.Skip("this node has no WebSocket")
	}
	w := newWSHarness(t, wsOpt{sim: sim.Config{ITL: 5 * time.Millisecond}})
	key := w.auth.key("browser-key")
	mod, _ := filepath.Abs("../../static/js/hapa-realtime.js")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, "--experimental-websocket", "--no-warnings", "testdata/browser_client.mjs",
		"file://"+mod, w.url, key).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got struct {
		Protocol   string
		MaxStreams int
		Workspace  string
		PingMs     string
		Generation struct {
			Finish  string
			TextLen int
			Deltas  int
			Gap     bool
		}
		Iterator    []string
		Replaced    string
		Replacing   string
		Cancelled   string
		BadCode     string
		UpdateError string
		Delay       bool
		CloseCode   int
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Protocol != "hapa.v1" || got.MaxStreams != 8 || got.Workspace != "/w" || got.PingMs != "number" ||
		got.Generation.Finish == "" || got.Generation.TextLen == 0 || got.Generation.Gap ||
		len(got.Iterator) != 2 || got.Iterator[0] != "stream.started" || got.Iterator[1] != "stream.done" ||
		got.Replaced != "cancelled" || got.Replacing == "cancelled" || got.Cancelled != "cancelled" ||
		got.BadCode != "E4009" || got.UpdateError != "E4008" || !got.Delay || got.CloseCode != 1000 {
		t.Fatalf("browser client results: %s", out)
	}
}
