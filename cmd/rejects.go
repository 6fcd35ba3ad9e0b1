package cmd

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/batchimport/batchimport/importer"
)

func newRejectsCmd(g *globalOptions) *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:   "rejects RUN",
		Short: "Write the rejected records of a run, ready to fix and import again",
		Long: `Write every record that run RUN did not import, from the database where
the run stored them, in the format of its input: for CSV input the input's
columns plus _line and _error, for JSON input NDJSON objects with _line and
_error added. The file can be fixed by hand and imported again as it is.
This rebuilds a run's rejects file at any time, even one lost or never
written.`,
		Example: `  batchimport rejects 12 -o may.rejects.csv
  batchimport rejects 12 | less`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("rejects takes one run id")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usagef("run id %q: want a positive number", args[0])
			}
			return runRejects(c.Context(), g, id, output)
		},
	}
	c.Flags().StringVarP(&output, "output-file", "o", "", "write to this file instead of standard output (-: standard output)")
	return c
}

func runRejects(ctx context.Context, g *globalOptions, runID int64, path string) error {
	if path == "-" {
		path = "" // standard output, as - means for inputs
	}
	n, err := importer.WriteRejects(ctx, g.dbConfig(), runID, path, g.io.Out)
	if err != nil {
		return err
	}
	if path != "" {
		fmt.Fprintf(g.io.ErrOut, "%d rejected records of run %d written to %s\n", n, runID, path)
	}
	return nil
}
