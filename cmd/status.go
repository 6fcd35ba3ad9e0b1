package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/batchimport/batchimport/store"
)

func newStatusCmd(g *globalOptions) *cobra.Command {
	var limit int
	var output string
	c := &cobra.Command{
		Use:   "status",
		Short: "List recent import runs",
		Long: `List the most recent import runs, newest first: file, source key, status,
counts and times.`,
		Example: `  batchimport status
  batchimport status --limit 100 --output json`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return usagef("--output %q: want text or json", output)
			}
			if limit < 1 {
				return usagef("--limit must be at least 1")
			}
			return runStatus(c.Context(), g, limit, output)
		},
	}
	c.Flags().IntVar(&limit, "limit", 20, "number of runs to list")
	c.Flags().StringVar(&output, "output", "text", "text or json (one object per run, one per line)")
	return c
}

// runJSON is a run as `status --output json` prints it.
type runJSON struct {
	RunID          int64      `json:"run_id"`
	Source         string     `json:"source"`
	SourceKey      string     `json:"source_key"`
	Account        string     `json:"account"`
	Status         string     `json:"status"`
	StartedAt      time.Time  `json:"started_at"`
	FinishedAt     *time.Time `json:"finished_at"`
	CheckpointLine int64      `json:"checkpoint_line"`
	RowsRead       int64      `json:"rows_read"`
	RowsImported   int64      `json:"rows_imported"`
	RowsRejected   int64      `json:"rows_rejected"`
	Unresolved     int64      `json:"rejects_unresolved"`
	ItemsCreated   int64      `json:"items_created"`
	FuzzyMatches   int64      `json:"fuzzy_matches"`
	RejectsFile    *string    `json:"rejects_file"`
	Error          *string    `json:"error"`
}

func runStatus(ctx context.Context, g *globalOptions, limit int, output string) error {
	db, err := store.Open(ctx, g.dbConfig())
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	if err := db.CheckSchema(ctx); err != nil {
		return err
	}
	runs, err := db.RecentRuns(ctx, limit)
	if err != nil {
		return err
	}
	if output == "json" {
		enc := json.NewEncoder(g.io.Out)
		for _, r := range runs {
			j := runJSON{RunID: r.ID, Source: r.SourceName, SourceKey: r.SourceKey, Account: r.Account, Status: string(r.Status),
				StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, CheckpointLine: r.Progress.Line,
				RowsRead: r.Progress.RowsRead, RowsImported: r.Progress.RowsImported, RowsRejected: r.Progress.RowsRejected, Unresolved: r.Unresolved,
				ItemsCreated: r.Progress.ItemsCreated, FuzzyMatches: r.Progress.FuzzyMatches}
			if r.Progress.RowsRejected > 0 && r.RejectsFile != "" {
				j.RejectsFile = &r.RejectsFile
			}
			if r.Error != "" {
				j.Error = &r.Error
			}
			if err := enc.Encode(j); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(g.io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTATUS\tREAD\tIMPORTED\tREJECTED\tSTARTED\tDURATION\tSOURCE\tKEY")
	for _, r := range runs {
		dur := "-"
		if r.FinishedAt != nil {
			dur = r.FinishedAt.Sub(r.StartedAt).Round(10 * time.Millisecond).String()
		}
		key := r.SourceKey
		if len(key) > 19 {
			key = key[:19] + "…"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", r.ID, r.Status, r.Progress.RowsRead, r.Progress.RowsImported,
			r.Progress.RowsRejected, r.StartedAt.Local().Format("2006-01-02 15:04:05"), dur, printable(r.SourceName), printable(key))
		if r.Error != "" {
			fmt.Fprintf(tw, "\t  error: %s\t\t\t\t\t\t\t\n", printable(r.Error))
		}
	}
	return tw.Flush()
}

// printable escapes control characters, so that a file name or an error
// with a newline or a terminal escape cannot break the table or the
// terminal.
func printable(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if !unicode.IsControl(r) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r) // '\n', '\x1b', ...
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}
