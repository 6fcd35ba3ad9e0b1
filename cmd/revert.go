package cmd

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/batchimport/batchimport/importer"
	"github.com/batchimport/batchimport/store"
)

func newRevertCmd(g *globalOptions) *cobra.Command {
	var f correctionFlags
	c := &cobra.Command{
		Use:   "revert RUN",
		Short: "Undo an import run: its rows, their stock, and what it created",
		Long: `Revert removes a run's transactions and the stock they added, frees its
invoices (so that they can be imported again), and removes the items and
mappings it created that nothing else uses: a mapping that lines of a later
run resolved through stays, and passes to the first such run. Its rejects
stay, with the run marked reverted. The source can then be imported again,
as a new run.

Reverting a run that is already reverted does nothing. A run that a process
is importing cannot be reverted; an import of the same account makes it wait
(--wait) or refuse.`,
		Example: `  batchimport status
  batchimport revert 42 --dry-run
  batchimport revert 42`,
		Args: minArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			if len(args) != 1 {
				return usagef("revert takes one run id, got %d arguments", len(args))
			}
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usagef("run %q: want a run id (a positive number, see batchimport status)", args[0])
			}
			return runRevert(c.Context(), g, &f, f.correction(c, args), id)
		},
	}
	f.add(c, false, true)
	return c
}

func runRevert(ctx context.Context, g *globalOptions, f *correctionFlags, corr store.Correction, id int64) error {
	db, err := openChecked(ctx, g)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	r, cid, err := db.Revert(ctx, id, corr, importer.LineKeys)
	if err != nil {
		return err
	}
	if r.Already {
		return f.report(g, 0, r, fmt.Sprintf("run %d (%s) is already reverted; nothing to do", id, printable(r.Source)))
	}
	return f.report(g, cid, r,
		fmt.Sprintf("run %d (%s, was %s) reverted:", id, printable(r.Source), r.WasStatus),
		fmt.Sprintf("  %d transactions removed, the stock of %d items taken back", r.Transactions, r.ItemsRestocked),
		fmt.Sprintf("  %d invoices freed, %d mappings and %d items it created removed", r.InvoicesFreed, r.MappingsRemoved, r.ItemsRemoved),
		fmt.Sprintf("  %d fixed rejects it had taken back are rejects again", r.RejectsReopened))
}
