package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// help runs hapa with args and returns what it printed; help must never be an error.
func help(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), args, env(nil), &out); err != nil {
		t.Fatalf("%v: %v (help must exit 0)", args, err)
	}
	return out.String()
}

// TestHelpEveryCommand: every command answers -h, --help and `hapa help …` with its
// usage line and, where it has them, examples, and exits 0.
func TestHelpEveryCommand(t *testing.T) {
	cmds := [][]string{{}, {"serve"}, {"migrate"}, {"health"}, {"keys"}, {"keys", "create"}, {"keys", "list"},
		{"keys", "revoke"}, {"admin"}, {"admin", "create-user"}, {"sim"}, {"bench"}, {"bench", "run"},
		{"bench", "suite"}, {"bench", "refproxy"}}
	for _, c := range cmds {
		name := strings.Join(append([]string{"hapa"}, c...), " ")
		t.Run(name, func(t *testing.T) {
			long := help(t, append(c, "--help")...)
			if short := help(t, append(c, "-h")...); short != long {
				t.Error("-h and --help differ")
			}
			if via := help(t, append([]string{"help"}, c...)...); via != long {
				t.Errorf("hapa help %s differs from --help", strings.Join(c, " "))
			}
			if !strings.Contains(long, "Usage:\n  "+name) {
				t.Errorf("no usage line for %q:\n%s", name, long)
			}
			if len(c) > 0 && !strings.Contains(long, "Examples:\n") && !strings.Contains(long, "Commands:\n") {
				t.Errorf("neither examples nor subcommands:\n%s", long)
			}
		})
	}
	if out := help(t, "--help"); strings.Contains(out, "Usage of") || !strings.Contains(out, "keys") || !strings.Contains(out, "config") {
		t.Errorf("hapa --help:\n%s", out)
	}
}

// TestHelpShowsOnlyTheCommandsFlags: `hapa keys create --help` lists its own flags and
// the configuration it reads, not the other 50 settings (which are still accepted).
func TestHelpShowsOnlyTheCommandsFlags(t *testing.T) {
	out := help(t, "keys", "create", "--help")
	for _, want := range []string{"--scopes strings", "--expires-in string", "--tokens-per-day int", `(default "cli")`,
		"--database-url url", "--revocation-check-interval duration", "(default 5s)", "hapa help config"} {
		if !strings.Contains(out, want) {
			t.Errorf("keys create --help lacks %q", want)
		}
	}
	for _, not := range []string{"--port", "--ws-max-streams", "--cache-ttl", "--status"} {
		if strings.Contains(out, not) {
			t.Errorf("keys create --help shows %s, which is not its flag", not)
		}
	}
	if n := strings.Count(out, "\n"); n > 60 {
		t.Errorf("keys create --help is %d lines", n)
	}
}

// TestServeHelpTypedFlags: every setting is a typed flag with its default and variable,
// in sections; `hapa help config` lists the same.
func TestServeHelpTypedFlags(t *testing.T) {
	flat := func(s string) string { return strings.Join(strings.Fields(s), " ") } // descriptions wrap
	out := flat(help(t, "serve", "--help"))
	cfg := flat(help(t, "help", "config"))
	for _, s := range settings() {
		line := "--" + flagName(s.env) + " "
		if s.set.kind == "bool" {
			line = "--" + flagName(s.env)
		} else {
			line += s.set.kind
		}
		for name, text := range map[string]string{"serve --help": out, "help config": cfg} {
			if !strings.Contains(text, line) || !strings.Contains(text, "env "+s.env+")") {
				t.Errorf("%s lacks %q (env %s)", name, line, s.env)
			}
		}
	}
	for _, want := range []string{"--port int", "(default 8000)", "--shutdown-timeout duration", "(default 15s)",
		"--cache-scope global|key", "--cache-ttl seconds", "--rate-limit-enabled ", "Storage:", "Websocket:"} {
		if !strings.Contains(out, want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
}

// TestTypedFlags: booleans need no value, durations and integers are checked on parse.
func TestTypedFlags(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"serve", "--env-file", "", "--print-config", "--debug", "--ws-ping-interval", "45s"}, env(nil), &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DEBUG                      = true", "WS_PING_INTERVAL           = 45s"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("print-config lacks %q:\n%s", want, out.String())
		}
	}
	err = run(context.Background(), []string{"sim", "--ttft", "fast"}, env(nil), &out)
	if err == nil || !strings.Contains(err.Error(), `invalid argument "fast" for "--ttft"`) {
		t.Errorf("sim --ttft fast: %v", err)
	}
}

func TestCompletionScripts(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		if out := help(t, "completion", sh); !strings.Contains(out, "hapa") || len(out) < 500 {
			t.Errorf("completion %s: %.200s", sh, out)
		}
	}
}
