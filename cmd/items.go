package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/batchimport/batchimport/store"
)

func newItemsCmd(g *globalOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "items",
		Short: "Correct inventory items",
	}
	var f correctionFlags
	merge := &cobra.Command{
		Use:   "merge FROM INTO",
		Short: "Merge a duplicate item into the one to keep",
		Long: `Merge moves FROM's transactions and their stock to INTO, converted into
INTO's base unit (refused when there is no conversion: set one with
"batchimport units set"), points FROM's mappings at INTO, and keeps FROM's
name as an alias of INTO for every vendor: a line of any vendor naming it
resolves to INTO from then on. FROM is then deleted. An item is given by its
id or its name.`,
		Example: `  batchimport items merge "Cherry Tomato Red" "Tomatoes, Cherry, Red" --dry-run
  batchimport items merge 118 42`,
		Args: minArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			if len(args) != 2 {
				return usagef("items merge takes two items, FROM and INTO, got %d arguments", len(args))
			}
			return runMerge(c.Context(), g, &f, f.correction(c, args), args[0], args[1])
		},
	}
	f.add(merge, true, true)
	c.AddCommand(merge)
	return c
}

func runMerge(ctx context.Context, g *globalOptions, f *correctionFlags, corr store.Correction, fromRef, intoRef string) error {
	db, err := openChecked(ctx, g)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	from, err := findItem(ctx, db, f.account, fromRef)
	if err != nil {
		return err
	}
	into, err := findItem(ctx, db, f.account, intoRef)
	if err != nil {
		return err
	}
	if from.ID == into.ID {
		return usagef("%q and %q are the same item, %d %q (a merged name is an alias of the item kept)", fromRef, intoRef, from.ID, from.Name)
	}
	m, id, err := db.MergeItems(ctx, corr, f.account, from.ID, into.ID, convert)
	if err != nil {
		return err
	}
	return f.report(g, id, m,
		fmt.Sprintf("item %d %q merged into item %d %q:", m.From.ID, printable(m.From.Name), m.Into.ID, printable(m.Into.Name)),
		fmt.Sprintf("  %d transactions moved: %s %s became %s %s (1 %s = %s %s)", m.Moved.Transactions,
			m.Moved.Removed, printable(m.From.Unit), m.Moved.Added, printable(m.Into.Unit), printable(m.From.Unit), m.Moved.Factor, printable(m.Into.Unit)),
		fmt.Sprintf("  mappings moved: %d; names now aliases of item %d: %d; unit conversions moved: %d", m.Mappings, m.Into.ID, m.Aliases, m.Units))
}
