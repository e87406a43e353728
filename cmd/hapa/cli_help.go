package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// helpWidth is the column at which flag descriptions wrap.
const helpWidth = 100

// writeHelp is every command's --help and `hapa help COMMAND`: the description, usage
// lines, examples, subcommands, the command's own flags, then the configuration flags it
// reads. Configuration flags a command does not use are accepted but left out of its
// help; `hapa help config` lists them all.
func writeHelp(c *cobra.Command, _ []string) {
	w := c.OutOrStdout()
	if text := strings.TrimSpace(c.Long); text != "" {
		fmt.Fprintln(w, text)
	} else if c.Short != "" {
		fmt.Fprintln(w, c.Short)
	}
	if c.Annotations["topic"] == "config" {
		fmt.Fprintln(w)
		writeConfigFlags(w, c.Flags(), true)
		return
	}
	fmt.Fprintln(w)
	writeUsage(w, c)
}

// writeUsage is the part of the help below the description; cobra prints it alone for
// a command that is not runnable and got no subcommand.
func writeUsage(w io.Writer, c *cobra.Command) {
	fmt.Fprintln(w, "Usage:")
	if c.HasAvailableSubCommands() {
		fmt.Fprintln(w, "  "+c.CommandPath()+" COMMAND [flags]")
	} else if c.Runnable() {
		fmt.Fprintln(w, "  "+c.UseLine())
	}
	if c.Example != "" {
		fmt.Fprintln(w, "\nExamples:")
		fmt.Fprintln(w, strings.TrimRight(c.Example, "\n"))
	}
	var cmds, topics []*cobra.Command
	for _, sub := range c.Commands() {
		switch {
		case sub.Annotations["topic"] != "":
			topics = append(topics, sub)
		case sub.IsAvailableCommand():
			cmds = append(cmds, sub)
		}
	}
	if len(cmds) > 0 {
		fmt.Fprintln(w, "\nCommands:")
		for _, sub := range cmds {
			fmt.Fprintf(w, "  %-*s  %s\n", c.NamePadding(), sub.Name(), sub.Short)
		}
	}
	if len(topics) > 0 {
		fmt.Fprintln(w, "\nHelp topics:")
		for _, sub := range topics {
			fmt.Fprintf(w, "  %-*s  %s\n", c.NamePadding(), sub.Name(), sub.Short)
		}
	}
	own, config := pflag.NewFlagSet("own", pflag.ContinueOnError), pflag.NewFlagSet("config", pflag.ContinueOnError)
	hidden := 0
	c.LocalFlags().VisitAll(func(f *pflag.Flag) {
		switch {
		case f.Annotations[configAnnotation] == nil && f.Name != "env-file":
			own.AddFlag(f)
		case f.Hidden:
			hidden++
		default:
			config.AddFlag(f)
		}
	})
	if own.HasAvailableFlags() {
		fmt.Fprintln(w, "\nFlags:")
		fmt.Fprint(w, own.FlagUsagesWrapped(helpWidth))
	}
	if config.HasAvailableFlags() {
		fmt.Fprintln(w)
		writeConfigFlags(w, config, hidden == 0)
		if hidden > 0 {
			fmt.Fprintf(w, "  The %d other configuration flags are accepted too: hapa help config\n", hidden)
		}
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\nRun \"%s COMMAND --help\" for a command's flags and examples.\n", c.CommandPath())
	}
}

// writeConfigFlags prints configuration flags, in sections when grouped.
func writeConfigFlags(w io.Writer, fs *pflag.FlagSet, grouped bool) {
	fmt.Fprintln(w, "Configuration flags: each is also an environment variable (--database-url is")
	fmt.Fprintln(w, "DATABASE_URL), read from --env-file too; a flag wins over the environment, which")
	fmt.Fprintln(w, "wins over the file.")
	if !grouped {
		fmt.Fprint(w, fs.FlagUsagesWrapped(helpWidth))
		return
	}
	sets := map[string]*pflag.FlagSet{}
	fs.VisitAll(func(f *pflag.Flag) {
		g := "general"
		if env := f.Annotations[configAnnotation]; env != nil {
			g = settingGroup(env[0])
		}
		if sets[g] == nil {
			sets[g] = pflag.NewFlagSet(g, pflag.ContinueOnError)
		}
		f2 := *f
		f2.Hidden = false
		sets[g].AddFlag(&f2)
	})
	for _, g := range append([]string{"general"}, settingGroups()...) {
		if s := sets[g]; s != nil {
			fmt.Fprintf(w, "\n%s:\n", strings.ToUpper(g[:1])+g[1:])
			fmt.Fprint(w, s.FlagUsagesWrapped(helpWidth))
		}
	}
}
