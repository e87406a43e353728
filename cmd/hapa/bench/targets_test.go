package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/coder/websocket"
)

func TestBodies(t *testing.T) {
	tests := []struct {
		name string
		body Body
		i    int
		want string
	}{
		{"gen unique", GenBody(`say "hi"`, 0.7, 16, true), 42,
			`{"max_tokens":16,"model_type":"code_generation","prompt":"say \"hi\" #42","temperature":0.7}`},
		{"gen fixed", GenBody("p", 0, 8, false), 42,
			`{"max_tokens":8,"model_type":"code_generation","prompt":"p","temperature":0}`},
		{"vllm unique", VLLMBody("p", 0.7, 16, true), 7,
			`{"max_tokens":16,"model":"prompt","prompt":"p #7","stream":true,"stream_options":{"include_usage":true},"temperature":0.7}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(tt.body(tt.i)); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// A socket the server closed is reported with its close code, not as "conn error".
func TestErrClassWebSocketClose(t *testing.T) {
	ctx := context.Background()
	closed := fmt.Errorf("failed to get reader: %w", websocket.CloseError{Code: websocket.StatusPolicyViolation, Reason: "frame rate exceeded"})
	for err, want := range map[error]string{
		closed: "ws closed 1008",
		fmt.Errorf("failed to write msg: %w", net.ErrClosed): "ws closed",
		errors.New("something else"):                         "conn error",
	} {
		if got := errClass(ctx, err); got != want {
			t.Errorf("errClass(%v) = %q, want %q", err, got, want)
		}
	}
}
