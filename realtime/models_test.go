package realtime

import (
	"slices"
	"testing"

	"github.com/hapa-project/hapa/vllm"
)

func TestEngineModels(t *testing.T) {
	client, err := vllm.NewClient(vllm.ClientConfig{BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(EngineConfig{BaseModel: "base-x", Adapters: map[string]string{"code_review": "reviewer"}},
		EngineDeps{Upstream: client})
	if err != nil {
		t.Fatal(err)
	}
	m := e.Models()
	if m.BaseModel != "base-x" {
		t.Errorf("BaseModel = %q", m.BaseModel)
	}
	if m.Tasks["code_review"] != "reviewer" || m.Tasks["bug_fix"] != vllm.AdapterErrorFix {
		t.Errorf("Tasks = %v", m.Tasks)
	}
	want := []string{"autocomplete", "comment", "error_fix", "prompt", "reviewer"}
	if got := m.Adapters(); !slices.Equal(got, want) {
		t.Errorf("Adapters() = %v, want %v", got, want)
	}
	m.Tasks["bug_fix"] = "changed" // a copy: the engine's table stays
	if e.Models().Tasks["bug_fix"] != vllm.AdapterErrorFix {
		t.Error("Models shares the engine's table")
	}
}
