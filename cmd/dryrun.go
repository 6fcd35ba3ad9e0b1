package cmd

import (
	"github.com/spf13/cobra"

	"github.com/batchimport/batchimport/importer"
)

func newDryrunCmd(g *globalOptions) *cobra.Command {
	o := &importOptions{}
	var offline, rollback bool
	c := &cobra.Command{
		Use:   "dryrun FILE...",
		Short: "Show what import would do, without writing anything",
		Long: `Decode, validate and resolve each FILE exactly as import would, inside a
READ ONLY transaction, and print the same summary with what would happen:
rows that would be imported and rejected, items that would be created, fuzzy
matches, and whether the file was already imported. Nothing is written: the
rejects file and the mapping report only when --rejects / --mapping-report
name them.

With --offline, or when no database can be reached, the file is validated
alone (no item resolution) and the summary says so (dry_run: offline).
With --rollback, the whole import runs in one transaction that is rolled
back, so database constraints and triggers are checked too.`,
		Example: `  batchimport dryrun invoices.csv
  batchimport dryrun --rejects /tmp/check.rejects.csv --output json may.csv.gz
  batchimport dryrun --offline new-supplier.csv
  batchimport dryrun --rollback may.csv`,
		Args: minArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if offline && rollback {
				return usagef("--offline and --rollback exclude each other")
			}
			return runImport(c, g, o, args, func(opts *importer.Options) error {
				switch {
				case offline:
					opts.DryRun = importer.Offline
				case rollback:
					opts.DryRun = importer.Rollback
				default:
					opts.DryRun = importer.ReadOnly
				}
				return nil
			})
		},
	}
	o.addFlags(c)
	c.Flags().BoolVar(&offline, "offline", false, "validate the file alone, without a database")
	c.Flags().BoolVar(&rollback, "rollback", false, "run the real import in one transaction and roll it back")
	return c
}
