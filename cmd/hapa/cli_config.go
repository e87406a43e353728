package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// configAnnotation marks a flag that is a configuration setting; its value is the
// environment variable's name.
const configAnnotation = "hapa-config-env"

// settingValue is one configuration setting as a typed flag: Set checks the value with
// the setting's own parser, so `--port eighty` fails at once, naming the flag, and the
// help shows the kind of value and the default (`--port int … (default 8000)`).
type settingValue struct {
	s   setting
	val string
}

func (v *settingValue) String() string { return v.val }
func (v *settingValue) Type() string   { return v.s.set.kind }
func (v *settingValue) Set(x string) error {
	var scratch Config
	if err := v.s.set.set(&scratch, strings.TrimSpace(x)); err != nil {
		return fmt.Errorf("%s: %w", v.s.env, err)
	}
	v.val = x
	return nil
}

// configFlags registers every configuration setting as a flag of cmd, plus --env-file.
// Settings named in shown appear in the command's help; the others are accepted but
// hidden there (`hapa help config` lists them all). A nil shown shows every setting.
func configFlags(cmd *cobra.Command, shown ...string) {
	fs := cmd.Flags()
	fs.String("env-file", ".env", "read settings from this `file` when it exists")
	show := map[string]bool{}
	for _, e := range shown {
		show[e] = true
	}
	for _, s := range settings() {
		f := fs.VarPF(&settingValue{s: s, val: s.def}, flagName(s.env), "", s.help+" (env "+s.env+")")
		f.DefValue = s.def
		if s.set.kind == "bool" {
			f.NoOptDefVal = "true"
		}
		f.Annotations = map[string][]string{configAnnotation: {s.env}}
		f.Hidden = len(shown) > 0 && !show[s.env]
	}
}

// cmdConfig loads the configuration of cmd: defaults, then the --env-file file, then
// the environment, then the configuration flags given on the command line.
func cmdConfig(cmd *cobra.Command, getenv func(string) string) (Config, error) {
	envFile, _ := cmd.Flags().GetString("env-file")
	dotenv, err := readDotenv(envFile)
	if err != nil {
		return Config{}, err
	}
	cfg, err := loadConfig(getenv, dotenv, setConfigFlags(cmd))
	cfg.Version = version
	return cfg, err
}

// setConfigFlags returns the configuration flags given on the command line, by flag name.
func setConfigFlags(cmd *cobra.Command) map[string]string {
	out := map[string]string{}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if _, ok := f.Annotations[configAnnotation]; ok {
			out[f.Name] = f.Value.String()
		}
	})
	return out
}

// readDotenv loads the .env file; a missing file is not an error.
func readDotenv(path string) (map[string]string, error) {
	if path == "" {
		return map[string]string{}, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseDotenv(f)
}

// settingGroup is the section of `hapa serve --help` and `hapa help config` that env
// belongs to, from its name; a new setting lands in "server" until a prefix claims it.
func settingGroup(env string) string {
	has := func(prefixes ...string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(env, p) {
				return true
			}
		}
		return false
	}
	switch {
	case has("DATABASE_", "AUTO_MIGRATE", "REDIS_", "REVOCATION_"):
		return "storage"
	case has("CACHE_", "MAX_CACHE_"):
		return "response cache"
	case has("VLLM_", "AI_MODEL_", "REQUEST_TIMEOUT", "SIM_"):
		return "upstream (vLLM)"
	case has("RATE_LIMIT_", "DEFAULT_RATE_LIMIT"):
		return "rate limits"
	case has("ERROR_", "REQUEST_LOG_", "INCIDENT_"):
		return "monitoring"
	case has("LOG_", "STRUCTURED_LOGGING"):
		return "logging"
	case has("WS_"):
		return "websocket"
	case has("API_KEY_", "DEMO_API_KEY", "SELF_SIGNUP", "MAX_KEYS_", "ADMIN_", "SECRET_KEY", "ALLOWED_ORIGINS", "TRUSTED_PROXIES"):
		return "security"
	}
	return "server"
}

// settingGroups is the order of the sections in help texts.
func settingGroups() []string {
	return []string{"server", "security", "storage", "response cache", "upstream (vLLM)",
		"rate limits", "monitoring", "logging", "websocket"}
}
