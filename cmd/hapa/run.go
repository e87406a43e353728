package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hapa-project/hapa/web"
)

// version is stamped by the Makefile (-ldflags "-X main.version=…").
var version = "dev"

// run is the whole program; main only wires signals and the exit code. Tests call it.
// With no command, or flags only, it serves (`hapa --port 9000` = `hapa serve --port
// 9000`). Help (-h, --help, `hapa help …`) and --version print to stdout and return nil.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && !isRootFlag(args[0]) {
		args = append([]string{"serve"}, args...)
	}
	root := newRootCmd(getenv, stdout)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil && strings.HasPrefix(err.Error(), "unknown command") {
		err = fmt.Errorf("%w (see hapa --help)", err)
	}
	return err
}

// isRootFlag reports whether arg is one of the flags the root command answers itself.
func isRootFlag(arg string) bool {
	switch arg {
	case "-h", "--help", "-v", "--version", "-version":
		return true
	}
	return false
}

// newRootCmd builds the command tree; each run gets its own, so nothing is shared
// between calls (tests run several at once).
func newRootCmd(getenv func(string) string, stdout io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "hapa",
		Short: "HAPA: a gateway for AI coding assistants in front of vLLM",
		Long: `HAPA is a gateway for AI coding assistants in front of vLLM: editors stream completions
over a WebSocket (hapa.v1) or HTTP/SSE, OpenAI clients use /v1, operators use /admin/.
One binary: the server, its database migrations, API keys, a health probe, a vLLM
simulator and a load generator. Without a command it serves.`,
		Example: `  hapa serve                                  # :8000, SQLite in ./data, the built-in vLLM simulator
  hapa serve --print-config                   # every setting, its value and where it came from
  DATABASE_URL=postgres://… hapa migrate      # apply the PostgreSQL migrations
  hapa keys create --user dev@example.com     # an API key for an editor
  hapa help config                            # every configuration variable`,
		Version:           version,
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
	}
	root.SetVersionTemplate("hapa {{.Version}}\n")
	root.SetOut(stdout)
	root.SetErr(stdout)
	root.SetHelpFunc(writeHelp)
	root.SetUsageFunc(func(c *cobra.Command) error { writeUsage(c.OutOrStderr(), c); return nil })
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%s: %w (see %s --help)", c.CommandPath(), err, c.CommandPath())
	})
	root.AddCommand(
		serveCmd(getenv),
		migrateCmd(getenv),
		healthCmd(getenv),
		keysCmd(getenv),
		adminCmd(getenv),
		simCmd(getenv),
		benchCmd(getenv),
		&cobra.Command{
			Use: "version", Short: "Print the version", Args: cobra.NoArgs,
			RunE: func(c *cobra.Command, _ []string) error {
				fmt.Fprintln(c.OutOrStdout(), "hapa", version)
				return nil
			},
		},
		&cobra.Command{
			Use: "openapi", Short: "Print the OpenAPI 3.1 document (what /openapi.json serves)", Args: cobra.NoArgs,
			Example: "  hapa openapi > openapi.json",
			RunE: func(c *cobra.Command, _ []string) error {
				b, err := web.OpenAPIDocument(version)
				if err == nil {
					_, err = fmt.Fprintf(c.OutOrStdout(), "%s\n", b)
				}
				return err
			},
		},
		configTopic(),
	)
	return root
}

// configTopic is `hapa help config`: every configuration variable, grouped.
func configTopic() *cobra.Command {
	c := &cobra.Command{
		Use:   "config",
		Short: "Every configuration variable: environment, flag, type, default",
		Long: `Configuration. Every setting is an environment variable, also read from a .env file
(--env-file, default ./.env), and a flag of the same name in lower case with dashes on
every command that reads the configuration (serve, migrate, keys, admin). Invalid
values stop the start with one message listing every problem. "hapa serve
--print-config" shows each effective value and where it came from.`,
		Annotations: map[string]string{"topic": "config"},
	}
	configFlags(c)
	return c
}

// groupCmd is a command whose subcommands do the work: alone it prints its help; an
// unknown subcommand is an error that names the known ones.
func groupCmd(use, short, long string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use: use + " COMMAND", Short: short, Long: long, Args: cobra.ArbitraryArgs,
		// Flags meant for a subcommand must not hide that the subcommand is unknown.
		FParseErrWhitelist: cobra.FParseErrWhitelist{UnknownFlags: true},
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return c.Help()
			}
			var names []string
			for _, s := range c.Commands() {
				names = append(names, s.Name())
			}
			return fmt.Errorf("unknown %s command %q (%s; see hapa %s --help)", use, args[0], strings.Join(names, ", "), use)
		},
	}
	c.AddCommand(subs...)
	return c
}

// errUsage is returned for a wrong number of positional arguments.
func errUsage(c *cobra.Command) error {
	return errors.New("usage: " + c.UseLine() + " (see " + c.CommandPath() + " --help)")
}
