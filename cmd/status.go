package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/batchimport/batchimport/store"
)

func newStatusCmd(g *globalOptions) *cobra.Command {
	var limit int
	var output, status string
	var since time.Duration
	c := &cobra.Command{
		Use:   "status [RUN]",
		Short: "List recent import runs, or show one",
		Long: `List the most recent import runs, newest first, one line each: status,
counts, times, file, source key and error. With a run id, show that run in
full.`,
		Example: `  batchimport status
  batchimport status --status failed --since 24h
  batchimport status 42
  batchimport status --limit 100 --output json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return usagef("--output %q: want text or json", output)
			}
			if limit < 1 {
				return usagef("--limit must be at least 1")
			}
			if since < 0 {
				return usagef("--since must not be negative")
			}
			f := store.RunFilter{Status: store.Status(status), Limit: limit}
			if status != "" && !slices.Contains(recordedStatuses, f.Status) {
				return usagef("--status %q: want one of %s", status, joinStatuses(recordedStatuses))
			}
			if since > 0 {
				f.Since = time.Now().Add(-since)
			}
			if len(args) == 1 {
				id, err := strconv.ParseInt(args[0], 10, 64)
				if err != nil || id < 1 {
					return usagef("status %q: want a run id (a number, as the first column of batchimport status shows)", args[0])
				}
				if c.Flags().Changed("status") || c.Flags().Changed("since") || c.Flags().Changed("limit") {
					return usagef("a run id shows that run: --status, --since and --limit list runs")
				}
				return showRun(c.Context(), g, id, output)
			}
			return runStatus(c.Context(), g, f, output)
		},
	}
	c.Flags().IntVar(&limit, "limit", 20, "number of runs to list")
	c.Flags().StringVar(&status, "status", "", "list only runs of this status: "+joinStatuses(recordedStatuses))
	c.Flags().Var(durationFlag{&since}, "since", "list only runs started within this long, e.g. 24h or 7d")
	c.Flags().StringVar(&output, "output", "text", "text or json (one object per run, one per line)")
	return c
}

// recordedStatuses are the statuses a run is recorded with.
var recordedStatuses = []store.Status{store.StatusRunning, store.StatusSuccess, store.StatusPartialSuccess,
	store.StatusFailed, store.StatusInterrupted, store.StatusRejected, store.StatusReverted}

func joinStatuses(ss []store.Status) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
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
	RowsSkipped    int64      `json:"rows_skipped"`
	Unresolved     int64      `json:"rejects_unresolved"`
	ItemsCreated   int64      `json:"items_created"`
	FuzzyMatches   int64      `json:"fuzzy_matches"`
	RejectsFile    *string    `json:"rejects_file"`
	Error          *string    `json:"error"`
}

func toJSON(r store.Run) runJSON {
	j := runJSON{RunID: r.ID, Source: r.SourceName, SourceKey: r.SourceKey, Account: r.Account, Status: string(r.Status),
		StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, CheckpointLine: r.Progress.Line,
		RowsRead: r.Progress.RowsRead, RowsImported: r.Progress.RowsImported, RowsRejected: r.Progress.RowsRejected,
		RowsSkipped: r.Progress.RowsSkipped, Unresolved: r.Unresolved,
		ItemsCreated: r.Progress.ItemsCreated, FuzzyMatches: r.Progress.FuzzyMatches}
	if r.Progress.RowsRejected > 0 && r.RejectsFile != "" {
		j.RejectsFile = &r.RejectsFile
	}
	if r.Error != "" {
		j.Error = &r.Error
	}
	return j
}

func runStatus(ctx context.Context, g *globalOptions, f store.RunFilter, output string) error {
	db, err := openChecked(ctx, g)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	runs, err := db.Runs(ctx, f)
	if err != nil {
		return err
	}
	if output == "json" {
		enc := json.NewEncoder(g.io.Out)
		for _, r := range runs {
			if err := enc.Encode(toJSON(r)); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(g.io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTATUS\tREAD\tIMPORTED\tREJECTED\tSTARTED\tDURATION\tSOURCE\tKEY\tERROR")
	for _, r := range runs {
		key := r.SourceKey
		if len(key) > 19 {
			key = key[:19] + "…"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Status, r.Progress.RowsRead, r.Progress.RowsImported,
			r.Progress.RowsRejected, r.StartedAt.Local().Format("2006-01-02 15:04:05"), duration(r), printable(r.SourceName),
			printable(key), shortened(printable(r.Error), 80))
	}
	return tw.Flush()
}

// showRun prints one run in full.
func showRun(ctx context.Context, g *globalOptions, id int64, output string) error {
	db, err := openChecked(ctx, g)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	r, err := db.GetRun(ctx, id)
	if err != nil {
		return err
	}
	if output == "json" {
		return json.NewEncoder(g.io.Out).Encode(toJSON(r))
	}
	finished := "-"
	if r.FinishedAt != nil {
		finished = r.FinishedAt.Local().Format("2006-01-02 15:04:05") + " (" + duration(r) + ")"
	}
	p := r.Progress
	imported := strconv.FormatInt(p.RowsImported, 10)
	if r.Status == store.StatusReverted {
		imported += ", then reverted: none of them stays"
	}
	tw := tabwriter.NewWriter(g.io.Out, 0, 4, 2, ' ', 0)
	for _, kv := range [][2]string{
		{"run", strconv.FormatInt(r.ID, 10)},
		{"status", string(r.Status)},
		{"source", printable(r.SourceName)},
		{"source key", printable(r.SourceKey)},
		{"account", printable(r.Account)},
		{"started", r.StartedAt.Local().Format("2006-01-02 15:04:05")},
		{"finished", finished},
		{"read", fmt.Sprintf("%d records, through line %d", p.RowsRead, p.Line)},
		{"imported", imported},
		{"rejected", fmt.Sprintf("%d (%d not taken back by a later import; one taken back is imported, or a reject of that import)", p.RowsRejected, r.Unresolved)},
		{"skipped", strconv.FormatInt(p.RowsSkipped, 10)},
		{"items created", strconv.FormatInt(p.ItemsCreated, 10)},
		{"fuzzy matches", strconv.FormatInt(p.FuzzyMatches, 10)},
		{"rejects file", printable(r.RejectsFile)},
		{"error", printable(r.Error)},
	} {
		if kv[1] == "" {
			kv[1] = "-"
		}
		fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
	}
	return tw.Flush()
}

func duration(r store.Run) string {
	if r.FinishedAt == nil {
		return "-"
	}
	return r.FinishedAt.Sub(r.StartedAt).Round(10 * time.Millisecond).String()
}

// shortened cuts s to n characters, saying so.
func shortened(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// unprintable is a control character, or one that reorders the text
// around it (a right-to-left override).
func unprintable(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}

// printable escapes control characters, so that a file name or an error
// with a newline or a terminal escape cannot break the table or the
// terminal.
func printable(s string) string {
	if !strings.ContainsFunc(s, unprintable) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if !unprintable(r) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r) // '\n', '\x1b', ...
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}
