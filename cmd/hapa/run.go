package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// version is stamped by the Makefile (-ldflags "-X main.version=…").
var version = "dev"

const usage = `usage: hapa <command> [flags]

commands:
  serve            run the gateway (default)
  migrate          apply database migrations
  health           probe a running gateway (/readyz): exit 0 ready, 1 not
  keys create      create an API key (printed once)
  keys list        list API keys
  keys revoke ID   revoke an API key (id or display prefix)
  admin create-user  create an admin account
  sim              run the vLLM simulator
  bench            run the load generator
  version          print the version

Every configuration variable is also a flag: DATABASE_URL → --database-url.
Run "hapa serve --print-config" to see the effective configuration.
`

// run is the whole program; main only wires signals and the exit code. Tests call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return cmdServe(ctx, args, getenv, stdout)
	case "migrate":
		return cmdMigrate(ctx, args, getenv, stdout)
	case "health":
		return cmdHealth(ctx, args, getenv, stdout)
	case "keys":
		return cmdKeys(ctx, args, getenv, stdout)
	case "admin":
		return cmdAdmin(ctx, args, getenv, stdout)
	case "sim":
		return cmdSim(ctx, args, getenv, stdout)
	case "bench":
		return cmdBench(ctx, args, getenv, stdout)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "hapa", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

// commonFlags registers every configuration setting as a flag plus --env-file, and
// returns a function that yields the explicitly set flags after Parse.
func commonFlags(fs *flag.FlagSet) (envFile *string, setFlags func() map[string]string) {
	envFile = fs.String("env-file", ".env", "read settings from this file when it exists")
	vals := map[string]*string{}
	for _, s := range settings() {
		vals[flagName(s.env)] = fs.String(flagName(s.env), "", s.help+" (env "+s.env+")")
	}
	return envFile, func() map[string]string {
		out := map[string]string{}
		fs.Visit(func(f *flag.Flag) {
			if p, ok := vals[f.Name]; ok {
				out[f.Name] = *p
			}
		})
		return out
	}
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

// parseConfig parses the flags of a subcommand, flags and positional arguments in any
// order, and loads the configuration. It returns the positional arguments.
func parseConfig(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, []string, error) {
	envFile, setFlags := commonFlags(fs)
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return Config{}, nil, err
	}
	dotenv, err := readDotenv(*envFile)
	if err != nil {
		return Config{}, nil, err
	}
	cfg, err := loadConfig(getenv, dotenv, setFlags())
	cfg.Version = version
	return cfg, positional, err
}

// parseInterspersed parses flags that may follow positional arguments
// (`hapa keys revoke 3 --database-url …`); "--" ends flag parsing.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > 0 && len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
