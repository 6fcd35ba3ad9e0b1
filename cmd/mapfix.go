package cmd

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/gocarina/gocsv"
	"github.com/spf13/cobra"

	"github.com/batchimport/batchimport/internal/regular"
	"github.com/batchimport/batchimport/mapping"
	"github.com/batchimport/batchimport/store"
)

// mappingFixCmds are the mappings subcommands that read and correct the
// stored mappings: list, set, export and apply. account and output are
// the parent's flags.
func mappingFixCmds(g *globalOptions, account, output *string) []*cobra.Command {
	var method, vendor string
	var run int64
	list := &cobra.Command{
		Use:   "list",
		Short: "List the stored mappings, by vendor and key",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			f := correctionFlags{account: *account, output: *output}
			if err := f.check(); err != nil {
				return err
			}
			filter := store.MappingFilter{Account: *account, Method: method, RunID: run}
			if vendor != "" {
				filter.Vendor = mapping.NormalizeVendor(vendor)
			}
			return runMappingsList(c.Context(), g, filter, *output)
		},
	}
	list.Flags().StringVar(&method, "method", "", "only mappings made so: exact, fuzzy, created or manual")
	list.Flags().StringVar(&vendor, "vendor", "", "only this vendor's mappings (case and punctuation ignored)")
	list.Flags().Int64Var(&run, "run", 0, "only the mappings this run stored")

	var set setFlags
	setCmd := &cobra.Command{
		Use:   "set VENDOR (--sku SKU | --description DESCRIPTION) ITEM",
		Short: "Map a vendor's SKU or description to an item, and move its history with --move-history",
		Long: `Set maps a vendor's SKU, or description, to ITEM (an id or a name) as a
person's mapping: later lines resolve to it. With --move-history, the
transactions of the item the key mapped to that came from that vendor with
that SKU (or a description of that key) move to ITEM, with their stock,
converted into ITEM's base unit. With --create, an ITEM that does not exist
is created, counting in the unit of the item the key mapped to.`,
		Example: `  batchimport mappings set "Sysco" --description "Cherry Tomato Red" "Tomatoes, Cherry, Red" --move-history --dry-run
  batchimport mappings set "US Foods" --sku 4471 118 --move-history`,
		Args: minArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			set.account, set.output = *account, *output
			if err := set.check(); err != nil {
				return err
			}
			if len(args) != 2 {
				return usagef("mappings set takes VENDOR and ITEM, got %d arguments", len(args))
			}
			if (set.sku == "") == (set.description == "") {
				return usagef("give one of --sku and --description")
			}
			return runMappingsSet(c.Context(), g, &set, set.correction(c, args), args[0], args[1])
		},
	}
	setCmd.Flags().StringVar(&set.sku, "sku", "", "the vendor's SKU to map")
	setCmd.Flags().StringVar(&set.description, "description", "", "the description to map (as on the invoice; it is normalized)")
	setCmd.Flags().BoolVar(&set.history, "move-history", false, "move the transactions resolved through the key, with their stock")
	setCmd.Flags().BoolVar(&set.create, "create", false, "create ITEM when no item has that name")
	set.add(setCmd, false, false)

	var exportTo string
	export := &cobra.Command{
		Use:   "export [-o FILE]",
		Short: "Write the stored mappings as CSV, to review and change with mappings apply",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runMappingsExport(c.Context(), g, *account, exportTo)
		},
	}
	export.Flags().StringVarP(&exportTo, "out", "o", "", "write to FILE (default: standard output); the file must not exist")

	var apply setFlags
	applyCmd := &cobra.Command{
		Use:   "apply FILE",
		Short: "Apply a CSV of mappings (as mappings export writes it) whose item was changed",
		Long: `Apply reads a CSV with the columns of "mappings export" and sets every
mapping whose item_id (or, when item_id is empty, item_name) names another
item than the one it maps to now, all in one transaction: if one row cannot
be applied, none is. Rows that name the item they map to are left alone.`,
		Example: `  batchimport mappings export -o mappings.csv
  # change item_id (or clear it and change item_name) where a mapping is wrong
  batchimport mappings apply mappings.csv --move-history --dry-run`,
		Args: minArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			apply.account, apply.output = *account, *output
			if err := apply.check(); err != nil {
				return err
			}
			if len(args) != 1 {
				return usagef("mappings apply takes one file, got %d arguments", len(args))
			}
			return runMappingsApply(c.Context(), g, &apply, apply.correction(c, args), args[0])
		},
	}
	applyCmd.Flags().BoolVar(&apply.history, "move-history", false, "move the transactions resolved through each changed key, with their stock")
	apply.add(applyCmd, false, false)
	return []*cobra.Command{list, setCmd, export, applyCmd}
}

type setFlags struct {
	correctionFlags
	sku, description string
	history, create  bool
}

// mappingRow is a line of the file mappings export writes and mappings
// apply reads back, in gocsv's terms: the columns are the tags, in order.
type mappingRow struct {
	Vendor   string `csv:"vendor"`
	KeyKind  string `csv:"key_kind"`
	Key      string `csv:"key"`
	ItemID   string `csv:"item_id"`
	ItemName string `csv:"item_name"`
	Method   string `csv:"method"`
	Score    string `csv:"score"`
	RunID    string `csv:"run_id"`
}

var exportHeader = []string{"vendor", "key_kind", "key", "item_id", "item_name", "method", "score", "run_id"}

func runMappingsList(ctx context.Context, g *globalOptions, f store.MappingFilter, output string) error {
	db, err := openChecked(ctx, g)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	ms, err := db.ListMappings(ctx, f)
	if err != nil {
		return err
	}
	if output == "json" {
		return encodeEach(g.io.Out, ms)
	}
	tw := tabwriter.NewWriter(g.io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VENDOR\tKIND\tKEY\tITEM\tNAME\tMETHOD\tSCORE\tRUN")
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%.2f\t%s\n", printable(m.Vendor), m.KeyKind, printable(m.Key), m.ItemID,
			printable(m.ItemName), m.Method, m.Score, runOf(m.RunID))
	}
	return tw.Flush()
}

// encodeEach prints each value as a line of JSON.
func encodeEach[T any](w io.Writer, vs []T) error {
	enc := json.NewEncoder(w)
	for _, v := range vs {
		if err := enc.Encode(v); err != nil {
			return err
		}
	}
	return nil
}

// isID says whether an item reference is an id rather than a name.
func isID(ref string) bool {
	_, err := strconv.ParseInt(ref, 10, 64)
	return err == nil
}

func runOf(id *int64) string {
	if id == nil {
		return "-"
	}
	return strconv.FormatInt(*id, 10)
}

func runMappingsSet(ctx context.Context, g *globalOptions, f *setFlags, corr store.Correction, vendor, ref string) error {
	db, err := openChecked(ctx, g)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	ch := store.MappingChange{Vendor: mapping.NormalizeVendor(vendor), KeyKind: string(mapping.KeySKU), Key: strings.TrimSpace(f.sku)}
	if f.description != "" {
		ch.KeyKind, ch.Key = string(mapping.KeyDescription), mapping.DescriptionKey(f.description)
	}
	if ch.Key == "" || ch.Vendor == "" {
		return usagef("vendor %q, key %q: want a vendor and a key that are not blank", vendor, ch.Key)
	}
	it, err := findItem(ctx, db, f.account, ref)
	switch {
	case err == nil:
		ch.ItemID = it.ID
	case errors.Is(err, store.ErrNoItem) && f.create && isID(ref):
		return usagef("item %s does not exist; --create takes the name of the item to create", ref)
	case errors.Is(err, store.ErrNoItem) && f.create:
		ch.NewItem = &store.NewItem{Name: strings.TrimSpace(ref), Normalized: mapping.Keys(ref)[0]}
	case errors.Is(err, store.ErrNoItem):
		return fmt.Errorf("%w; give --create to create it", err)
	default:
		return err
	}
	ch.Resolves, ch.MoveHistory = historyOf(ch), f.history
	sets, id, err := db.SetMappings(ctx, corr, f.account, []store.MappingChange{ch}, reconvert)
	if err != nil {
		return err
	}
	return f.report(g, id, sets, describeSets(sets)...)
}

// historyOf picks the transactions resolved through a change's key: from
// its vendor, with its SKU, or a description of its key.
func historyOf(ch store.MappingChange) func(vendor, sku, description string) bool {
	vendors := map[string]string{}
	return func(vendor, sku, description string) bool {
		v, ok := vendors[vendor]
		if !ok {
			v = mapping.NormalizeVendor(vendor)
			vendors[vendor] = v
		}
		if v != ch.Vendor {
			return false
		}
		if ch.KeyKind == string(mapping.KeySKU) {
			return sku == ch.Key
		}
		return mapping.DescriptionKey(description) == ch.Key
	}
}

func describeSets(sets []store.MappingSet) []string {
	var lines []string
	for _, s := range sets {
		was := "unmapped"
		if s.Was != nil {
			was = fmt.Sprintf("item %d", *s.Was)
		}
		line := fmt.Sprintf("%s %s %q: %s -> item %d", printable(s.Vendor), s.KeyKind, printable(s.Key), was, s.ItemID)
		if s.Created {
			line += " (created)"
		}
		if len(s.SKUs) > 0 {
			line += fmt.Sprintf("; its lines' SKU mappings too (%s)", strings.Join(s.SKUs, ", "))
		}
		if s.Moved != nil {
			line += fmt.Sprintf("; %d transactions moved (%s taken, %s added, each line converted again)", s.Moved.Transactions, s.Moved.Removed, s.Moved.Added)
		}
		lines = append(lines, line)
	}
	return append(lines, fmt.Sprintf("%d mappings set", len(sets)))
}

func runMappingsExport(ctx context.Context, g *globalOptions, account, path string) error {
	db, err := openChecked(ctx, g)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	ms, err := db.ListMappings(ctx, store.MappingFilter{Account: account})
	if err != nil {
		return err
	}
	out := g.io.Out
	if path != "" {
		// Never over an existing file, nor through a symlink.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	rows := make([]mappingRow, len(ms))
	for i, m := range ms {
		rows[i] = mappingRow{Vendor: m.Vendor, KeyKind: m.KeyKind, Key: m.Key, ItemID: strconv.FormatInt(m.ItemID, 10), ItemName: m.ItemName,
			Method: m.Method, Score: strconv.FormatFloat(m.Score, 'f', -1, 32), RunID: runOf(m.RunID)}
	}
	if err := gocsv.MarshalCSV(rows, gocsv.NewSafeCSVWriter(csv.NewWriter(out))); err != nil {
		return err
	}
	if f, ok := out.(*os.File); ok && path != "" {
		return f.Sync()
	}
	return nil
}

func runMappingsApply(ctx context.Context, g *globalOptions, f *setFlags, corr store.Correction, path string) error {
	// A corrections file is read whole before anything is applied.
	in, err := openRegular(path)
	if errors.Is(err, regular.ErrNotRegular) {
		return usagef("%s: %v: want a file of mapping changes, as mappings export writes it", path, err)
	} else if err != nil {
		return err
	}
	defer in.Close()
	db, err := openChecked(ctx, g)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	current := map[[3]string]int64{}
	ms, err := db.ListMappings(ctx, store.MappingFilter{Account: f.account})
	if err != nil {
		return err
	}
	for _, m := range ms {
		current[[3]string{m.Vendor, m.KeyKind, m.Key}] = m.ItemID
	}
	r := csv.NewReader(in)
	r.FieldsPerRecord = len(exportHeader)
	u, err := gocsv.NewUnmarshaller(r, mappingRow{})
	var perr *csv.ParseError
	if err != nil && err != io.EOF && !errors.As(err, &perr) {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err == nil {
		err = u.RenormalizeHeaders(func(h []string) []string {
			h[0] = strings.TrimPrefix(h[0], "\ufeff") // as spreadsheets save it
			return h
		})
	}
	if err != nil || !slices.Equal(u.Headers, exportHeader) {
		return fmt.Errorf("%s: line 1: want the header %s (as mappings export writes it)", path, strings.Join(exportHeader, ","))
	}
	var changes []store.MappingChange
	lines := map[[3]string]int{} // the line of each key in the file
	for {
		v, err := u.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		ch, err := changeOf(ctx, db, f.account, v.(mappingRow))
		if err != nil {
			return fmt.Errorf("%s: line %d: %w", path, line, err)
		}
		key := [3]string{ch.Vendor, ch.KeyKind, ch.Key}
		if first, dup := lines[key]; dup {
			return fmt.Errorf("%s: line %d: vendor %q %s %q is on line %d too; give each mapping once", path, line, ch.Vendor, ch.KeyKind, ch.Key, first)
		}
		lines[key] = line
		was, ok := current[key]
		if !ok {
			// A spreadsheet may have rewritten a key (SKU 0012 as 12).
			return fmt.Errorf("%s: line %d: vendor %q %s %q is no stored mapping (was the key changed by a spreadsheet?); apply changes stored mappings, mappings set adds one", path, line, ch.Vendor, ch.KeyKind, ch.Key)
		}
		if was == ch.ItemID {
			continue
		}
		ch.Resolves, ch.MoveHistory = historyOf(ch), f.history
		changes = append(changes, ch)
	}
	if len(changes) == 0 {
		return f.report(g, 0, []store.MappingSet{}, "no mapping changed: nothing to apply")
	}
	sets, id, err := db.SetMappings(ctx, corr, f.account, changes, reconvert)
	if err != nil {
		return err
	}
	return f.report(g, id, sets, describeSets(sets)...)
}

// changeOf reads a row of an exported CSV: vendor, key_kind, key, and the
// item by item_id, or by item_name when item_id is empty.
func changeOf(ctx context.Context, db *store.Store, account string, row mappingRow) (store.MappingChange, error) {
	ch := store.MappingChange{Vendor: mapping.NormalizeVendor(row.Vendor), KeyKind: row.KeyKind, Key: row.Key}
	if ch.KeyKind != string(mapping.KeySKU) && ch.KeyKind != string(mapping.KeyDescription) {
		return ch, fmt.Errorf("key_kind %q: want sku or description", row.KeyKind)
	}
	if ch.Vendor == "" || ch.Key == "" {
		return ch, errors.New("vendor and key: must not be empty")
	}
	ref := strings.TrimSpace(row.ItemID)
	if ref == "" {
		ref = row.ItemName
	} else if id, err := strconv.ParseInt(ref, 10, 64); err != nil || id <= 0 {
		// Not a name: "2.0" is no item 2, nor an item named "2.0".
		return ch, fmt.Errorf("item_id %q: want an item id, a whole number (or an empty item_id and the item's name in item_name)", row.ItemID)
	}
	it, err := findItem(ctx, db, account, ref)
	if err != nil {
		return ch, fmt.Errorf("item_id %q, item_name %q: %w", row.ItemID, row.ItemName, err)
	}
	ch.ItemID = it.ID
	return ch, nil
}
