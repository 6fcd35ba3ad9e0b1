// Package cmd is batchimport's command line: flags and environment, streams,
// the signal-aware context, opening the database, the progress bar, the
// summaries, and the exit code.
package cmd

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/batchimport/batchimport/store"
)

// Build identifies the binary; goreleaser stamps it.
type Build struct {
	Version, Commit, Date string
}

// globalOptions are the flags every command shares.
type globalOptions struct {
	io          IOStreams
	build       Build
	databaseURL string
	schema      string
	logFormat   string
	log         *slog.Logger
	cpuProfile  string
	memProfile  string
	profileFile *os.File
}

// Main runs the command line with args and returns the exit code.
func Main(args []string, streams IOStreams, build Build) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal asks for a clean stop (finish the chunk in flight,
	// record the checkpoint); a second one kills the process as usual.
	go func() {
		<-ctx.Done()
		stop()
	}()
	return run(ctx, args, streams, build)
}

// run is Main without the process's signals, for tests.
func run(ctx context.Context, args []string, streams IOStreams, build Build) int {
	if streams.Getenv == nil {
		streams.Getenv = func(string) string { return "" }
	}
	g := &globalOptions{io: streams, build: build}
	root := newRootCmd(g)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if perr := g.stopProfiles(); perr != nil && err == nil {
		err = perr
	}
	code := exitCode(err)
	if err != nil {
		if _, reported := err.(*exitError); !reported {
			fmt.Fprintf(streams.ErrOut, "batchimport: %v\n", err)
		}
		if code == ExitUsage {
			fmt.Fprintln(streams.ErrOut, "Run 'batchimport --help' for usage.")
		}
	}
	return code
}

func newRootCmd(g *globalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:   "batchimport",
		Short: "Load supplier invoice files into PostgreSQL",
		Long: `batchimport streams supplier invoice files (CSV, JSON, NDJSON, optionally
gzip-compressed) into PostgreSQL. Each line is resolved to an inventory item,
rows are written in COPY chunks with their inventory changes, bad rows go to
a rejects file, and interrupted imports resume where they stopped.

Connection: --database-url, else BATCHIMPORT_DATABASE_URL, else DATABASE_URL,
else libpq's PG* variables and defaults.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(c *cobra.Command, _ []string) error {
			return g.setUp()
		},
	}
	root.SetHelpTemplate(root.HelpTemplate() + exitStatusHelp)
	root.SetIn(g.io.In)
	root.SetOut(g.io.Out)
	root.SetErr(g.io.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err: err} })
	pf := root.PersistentFlags()
	pf.StringVar(&g.databaseURL, "database-url", "", "PostgreSQL connection string (env BATCHIMPORT_DATABASE_URL, DATABASE_URL, PG*)")
	pf.StringVar(&g.schema, "schema", store.DefaultSchema, "PostgreSQL schema holding batchimport's tables")
	pf.StringVar(&g.logFormat, "log-format", "text", "log format on stderr: text or json")
	// Profiles for performance work; not part of the operator's interface.
	pf.StringVar(&g.cpuProfile, "cpuprofile", "", "write a CPU profile to this file")
	pf.StringVar(&g.memProfile, "memprofile", "", "write an allocation profile to this file at exit")
	_ = pf.MarkHidden("cpuprofile")
	_ = pf.MarkHidden("memprofile")
	root.AddCommand(
		newImportCmd(g),
		newDryrunCmd(g),
		newMigrateCmd(g),
		newStatusCmd(g),
		newRejectsCmd(g),
		newUnitsCmd(g),
		newMappingsCmd(g),
		newItemsCmd(g),
		newRevertCmd(g),
		newVersionCmd(g),
	)
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Example = "  batchimport completion bash > /etc/bash_completion.d/batchimport\n  batchimport completion zsh > \"${fpath[1]}/_batchimport\""
		}
	}
	refuseUnknownCommands(root)
	return root
}

// refuseUnknownCommands makes a command that only groups others (the
// root, items, mappings, units) refuse a command it does not have, as a
// usage error (exit 2). Cobra shows such a group's help and exits 0, so
// a cron line with "items merg" would seem to have worked; alone, the
// group still shows its help.
func refuseUnknownCommands(c *cobra.Command) {
	for _, sub := range c.Commands() {
		refuseUnknownCommands(sub)
	}
	if !c.HasSubCommands() || c.Runnable() {
		return
	}
	c.Args = cobra.ArbitraryArgs
	c.SuggestionsMinimumDistance = 2 // what cobra takes when it suggests itself
	c.DisableFlagsInUseLine = true   // alone, it takes no flags: it shows its help
	c.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return c.Help()
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return usagef("%s", msg)
	}
}

// setUp checks the shared flags and builds the logger.
func (g *globalOptions) setUp() error {
	var h slog.Handler
	switch g.logFormat {
	case "text":
		h = slog.NewTextHandler(g.io.ErrOut, nil)
	case "json":
		h = slog.NewJSONHandler(g.io.ErrOut, nil)
	default:
		return usagef("--log-format %q: want text or json", g.logFormat)
	}
	g.log = slog.New(h)
	if err := g.startProfiles(); err != nil {
		return err
	}
	if strings.TrimSpace(g.schema) == "" {
		return usagef("--schema must not be empty")
	}
	return nil
}

// dbConfig resolves the connection: flag, then BATCHIMPORT_DATABASE_URL,
// then DATABASE_URL, then libpq's environment and defaults (empty URL).
func (g *globalOptions) dbConfig() store.Config {
	url := g.databaseURL
	for _, env := range []string{"BATCHIMPORT_DATABASE_URL", "DATABASE_URL"} {
		if url == "" {
			url = g.io.Getenv(env)
		}
	}
	return store.Config{URL: url, Schema: g.schema}
}

// exactArgs and minArgs turn cobra's argument checks into usage errors.
func minArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := cobra.MinimumNArgs(n)(c, args); err != nil {
			return &usageError{err: err}
		}
		return nil
	}
}

func noArgs(c *cobra.Command, args []string) error {
	if err := cobra.NoArgs(c, args); err != nil {
		return &usageError{err: err}
	}
	return nil
}

// levelHandler drops records below a level (for --quiet).
type levelHandler struct {
	min slog.Level
	slog.Handler
}

func (h levelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}
