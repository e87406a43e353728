package bench

import (
	"os"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// Fields after the command: state ppid pgrp session tty tpgid flags minflt cminflt
	// majflt cmajflt utime stime …; the command holds a space and a ')'.
	line := "1234 (hapa (x) y) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 50 0 0 20 0 8 0"
	got, err := parseStatCPU(line)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 * time.Second; got != want {
		t.Fatalf("cpu %v, want %v", got, want)
	}
	if _, err := parseStatCPU("garbage"); err == nil {
		t.Fatal("no error for a malformed line")
	}
}

func TestReadProcSelf(t *testing.T) {
	st, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.RSS <= 0 || st.Anon <= 0 || st.Anon > st.RSS {
		t.Fatalf("RSS %d, anonymous %d", st.RSS, st.Anon)
	}
}

func TestParseSimLine(t *testing.T) {
	var c SimCounters
	for _, l := range []string{
		`# HELP vllm:request_success_total Count`,
		`vllm:num_requests_running{model_name="m"} 3`,
		`vllm:request_success_total{finished_reason="stop",model_name="m"} 10`,
		`vllm:request_success_total{finished_reason="length",model_name="m"} 5`,
		`vllm:request_success_total{finished_reason="abort",model_name="m"} 2`,
		`vllm:prompt_tokens_total{model_name="m"} 99`,
	} {
		parseSimLine(l, &c)
	}
	if want := (SimCounters{Finished: 17, Aborted: 2, Running: 3}); c != want {
		t.Fatalf("got %+v, want %+v", c, want)
	}
}

func TestRedisAddr(t *testing.T) {
	for in, want := range map[string]string{
		"redis://127.0.0.1:6379/14":   "127.0.0.1:6379",
		"redis://:pw@localhost/0":     "localhost:6379",
		"rediss://example.com:6380/0": "",
		"redis://user:p@h:7000":       "h:7000",
	} {
		if got := redisAddr(in); got != want {
			t.Errorf("redisAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
