package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/shopspring/decimal"
	"github.com/spf13/cobra"

	"github.com/batchimport/batchimport/mapping"
	"github.com/batchimport/batchimport/store"
	"github.com/batchimport/batchimport/units"
)

func newUnitsCmd(g *globalOptions) *cobra.Command {
	var account, output string
	c := &cobra.Command{
		Use:   "units",
		Short: "Set and list the unit conversions of items",
		Long: `Stock is kept in each item's base unit. Lines in another unit are
converted: by the standard conversions within mass, volume and count, by a
pack size (4/1GAL), or by a conversion set here for one item, such as how
many pounds a case of it holds. A line whose unit cannot be converted is
rejected, naming the command that fixes it; once it is set, import the
rejects again.`,
		Example: `  batchimport units set 12 cs 4        # a case of item 12 holds 4 of its base unit
  batchimport units list
  batchimport units list 12 --output json`,
	}
	c.PersistentFlags().StringVar(&account, "account", "default", "account (tenant) of the items")
	c.PersistentFlags().StringVar(&output, "output", "text", "text or json")
	var f correctionFlags
	set := &cobra.Command{
		Use:   "set ITEM UNIT FACTOR",
		Short: "Set how many of an item's base unit one UNIT holds (ITEM: an id or a name)",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 3 {
				return usagef("units set takes ITEM UNIT FACTOR")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			factor, err := parseFactor(args[2])
			if err != nil {
				return err
			}
			f.account, f.output = account, output
			if err := f.check(); err != nil {
				return err
			}
			return runUnitsSet(c.Context(), g, &f, f.correction(c, args), args[0], args[1], factor)
		},
	}
	f.add(set, false, false)
	list := &cobra.Command{
		Use:   "list [ITEM]",
		Short: "List the conversions set for items",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("units list takes at most one item id")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return usagef("--output %q: want text or json", output)
			}
			return runUnitsList(c.Context(), g, account, args, output)
		},
	}
	c.AddCommand(set, list)
	return c
}

// unitJSON is a conversion as `units --output json` prints it.
type unitJSON struct {
	ItemID   int64  `json:"item_id"`
	ItemName string `json:"item_name"`
	BaseUnit string `json:"base_unit"`
	Unit     string `json:"unit"`
	Factor   string `json:"factor"`
}

func runUnitsSet(ctx context.Context, g *globalOptions, f *correctionFlags, corr store.Correction, ref, unit string, factor decimal.Decimal) error {
	account := f.account
	db, err := openChecked(ctx, g)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	it, err := findItem(ctx, db, account, ref)
	if err != nil {
		return err
	}
	id := it.ID
	u, base := units.Normalize(unit), units.Normalize(it.Unit)
	switch {
	case u == "":
		return usagef("unit %q: want a unit, such as cs or bag", unit)
	case base == "":
		return fmt.Errorf("item %d %q has no base unit: every quantity of it is counted as read", id, it.Name)
	case u == base:
		return fmt.Errorf("%q is the base unit of item %d %q", u, id, it.Name)
	case units.DimensionOf(u) != units.None && units.DimensionOf(u) == units.DimensionOf(base):
		return fmt.Errorf("%q converts into %q by definition; a conversion is for a unit of another kind, such as a case", u, base)
	}
	cid, err := db.SetUnit(ctx, corr, account, id, u, factor)
	if err != nil {
		return err
	}
	set := store.ItemUnit{ItemID: id, ItemName: it.Name, Base: it.Unit, Unit: u, Factor: factor}
	return f.report(g, cid, toUnitJSON(set), fmt.Sprintf("item %d %q: 1 %s = %s %s", id, printable(it.Name), u, factor, base))
}

func runUnitsList(ctx context.Context, g *globalOptions, account string, refs []string, output string) error {
	db, err := openChecked(ctx, g)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	var id int64
	if len(refs) == 1 {
		it, err := findItem(ctx, db, account, refs[0])
		if err != nil {
			return err
		}
		id = it.ID
	}
	list, err := db.ListUnits(ctx, account, id)
	if err != nil {
		return err
	}
	if output == "json" {
		enc := json.NewEncoder(g.io.Out)
		for _, u := range list {
			if err := enc.Encode(toUnitJSON(u)); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(g.io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ITEM\tNAME\tUNIT\tHOLDS\tBASE UNIT")
	for _, u := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", u.ItemID, printable(u.ItemName), printable(u.Unit), u.Factor, printable(u.Base))
	}
	return tw.Flush()
}

// findItem finds an item by its id, or else by its name, normalized as
// item names are.
func findItem(ctx context.Context, db *store.Store, account, ref string) (store.Item, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil && id > 0 {
		return db.ItemOf(ctx, account, id)
	}
	if mapping.Normalize(ref) == "" {
		return store.Item{}, usagef("item %q: want an item id or name", ref)
	}
	var err error
	for _, key := range mapping.Keys(ref) {
		var it store.Item
		it, err = db.ItemNamed(ctx, account, key)
		switch {
		case errors.Is(err, store.ErrNoItem):
		case err == nil && mapping.Conflict(ref, it.Name):
			// The key without sizes named an item of another size.
			err = fmt.Errorf("no item of account %q is named %q (item %d %q is of another size): %w", account, ref, it.ID, it.Name, store.ErrNoItem)
		default:
			return it, err
		}
	}
	return store.Item{}, err
}

func toUnitJSON(u store.ItemUnit) unitJSON {
	return unitJSON{ItemID: u.ItemID, ItemName: u.ItemName, BaseUnit: u.Base, Unit: u.Unit, Factor: u.Factor.String()}
}

// openChecked opens the database, on a connection that keeps its session
// (store.OpenSession), and checks its schema is batchimport's, up to
// date.
func openChecked(ctx context.Context, g *globalOptions) (*store.Store, error) {
	db, err := store.OpenSession(ctx, g.dbConfig())
	if err != nil {
		return nil, err
	}
	if err := db.CheckSchema(ctx); err != nil {
		db.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return db, nil
}

// maxFactor bounds a conversion: one unit of more than 10^15 base units
// fits in no base quantity (numeric(18,3)), and every line would be
// refused by the database.
var maxFactor = decimal.New(1, 15)

// parseFactor reads a conversion factor: a positive decimal written out,
// at most 40 digits (as in an input file), below maxFactor.
func parseFactor(s string) (decimal.Decimal, error) {
	plain := len(s) <= 41 && strings.Trim(s, "0123456789.") == "" && strings.Count(s, ".") <= 1 && strings.Trim(s, ".") != ""
	f, err := decimal.NewFromString(s)
	if !plain || err != nil || !f.IsPositive() || f.GreaterThanOrEqual(maxFactor) {
		return f, usagef("factor %q: want a positive decimal number below 10^15, written out (4, 0.25)", s)
	}
	return f, nil
}
