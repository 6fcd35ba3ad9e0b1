package cmd

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/spf13/cobra"

	"github.com/batchimport/batchimport/internal/fixed"
	"github.com/batchimport/batchimport/store"
	"github.com/batchimport/batchimport/units"
)

// correctionFlags are the flags every correction takes.
type correctionFlags struct {
	account string
	output  string
	dryRun  bool
	wait    time.Duration
}

// add adds the flags to c; account and output too unless a parent command
// has them.
func (f *correctionFlags) add(c *cobra.Command, account, output bool) {
	if account {
		c.Flags().StringVar(&f.account, "account", "default", "account (tenant) to correct")
	}
	if output {
		c.Flags().StringVar(&f.output, "output", "text", "text or json")
	}
	c.Flags().BoolVar(&f.dryRun, "dry-run", false, "do it all in a transaction, say what it did, and roll it back (ids it shows are not kept)")
	c.Flags().DurationVar(&f.wait, "wait", 0, "how long to wait for imports of the account to end (0: refuse at once)")
}

func (f *correctionFlags) check() error {
	if f.output != "text" && f.output != "json" {
		return usagef("--output %q: want text or json", f.output)
	}
	if f.wait < 0 {
		return usagef("--wait %s: want a duration of 0 or more", f.wait)
	}
	return nil
}

// correction describes the command c, run with args, for the audit.
func (f *correctionFlags) correction(c *cobra.Command, args []string) store.Correction {
	command := strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" ")
	return store.Correction{Command: command, Args: args, DryRun: f.dryRun, Wait: f.wait}
}

// report prints what a correction did: its JSON, or the lines of text.
func (f *correctionFlags) report(g *globalOptions, id int64, what any, text ...string) error {
	if f.output == "json" {
		return json.NewEncoder(g.io.Out).Encode(map[string]any{"correction_id": id, "dry_run": f.dryRun, "result": what})
	}
	for _, t := range text {
		fmt.Fprintln(g.io.Out, t)
	}
	switch {
	case f.dryRun:
		fmt.Fprintln(g.io.Out, "dry run: nothing was changed")
	case id > 0:
		fmt.Fprintf(g.io.Out, "recorded as correction %d\n", id)
	}
	return nil
}

// convert is how many of into's base unit one unit holds: the same rules
// as an import's, without a pack size.
func convert(unit string, into store.Item) (decimal.Decimal, error) {
	if err := unitless(unit, into); err != nil {
		return decimal.Decimal{}, err
	}
	f, _, err := units.Factor(unit, nil, units.Item{ID: into.ID, Name: into.Name, Base: into.Unit, Units: into.Units, NamePacks: units.Packs("", into.Name)})
	if err != nil {
		return f, noConversion(unit, into)
	}
	return f, nil
}

// unitless refuses to convert between no unit and a unit: an import
// counts a line without a unit as read; a correction must not guess that
// one item's count is another's weight.
func unitless(unit string, into store.Item) error {
	if from, to := units.Normalize(unit), units.Normalize(into.Unit); (from == "") != (to == "") {
		if _, set := into.Units[from]; !set {
			return fmt.Errorf("one item has no unit and the other counts in %q: no conversion; give both a unit, or set one with batchimport units set %d", from+to, into.ID)
		}
	}
	return nil
}

func noConversion(unit string, into store.Item) error {
	return fmt.Errorf("no conversion of %q into %q; set one first: batchimport units set %d %s FACTOR", units.Normalize(unit), into.Unit, into.ID, units.Normalize(unit))
}

// reconvert is a line's quantity in into's base unit, converted again as
// an import would convert it (units.LineFactor).
func reconvert(l store.Line, into store.Item) (decimal.Decimal, error) {
	if err := unitless(l.Unit, into); err != nil {
		return decimal.Decimal{}, err
	}
	it := units.Item{ID: into.ID, Name: into.Name, Base: into.Unit, Units: into.Units}
	f, err := units.LineFactor(l.Unit, l.Pack != "", func() []units.Pack { return units.Packs(l.Pack, l.Description) },
		func() []units.Pack { return units.Packs("", into.Name) }, it)
	if err != nil {
		return f, noConversion(l.Unit, into)
	}
	q, ok := fixed.FromDecimal(l.Quantity) // a numeric(18,3): it fits
	if !ok {
		return f, fmt.Errorf("quantity %s: more than %d decimals", l.Quantity, fixed.MaxDigits)
	}
	return units.Convert(q, units.RateOf(f)).Decimal(), nil
}
