package importer

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"

	"github.com/shopspring/decimal"

	"github.com/batchimport/batchimport/internal/memo"
	"github.com/batchimport/batchimport/invoice"
	"github.com/batchimport/batchimport/mapping"
	"github.com/batchimport/batchimport/store"
	"github.com/batchimport/batchimport/units"
)

// loader loads an account's catalogue.
type loader func(ctx context.Context, account string) (store.Catalogue, error)

// resolver is the resolving stage: each valid line, in file order, to an
// item of its account, whose catalogue is loaded on first use.
type resolver struct {
	opts        mapping.Options
	load        loader
	byAccount   map[string]*mapping.Resolver
	units       map[string]map[int64]map[string]decimal.Decimal // operators' conversions, by account and item
	ids         map[*mapping.Item]*int64                        // id slots of items
	report      map[reportKey]bool                              // keys reported so far; nil: no report
	packs       memo.Memo[[]units.Pack]                         // pack sizes of descriptions
	lines       map[lineHash]lineMatch                          // lines that resolve the same way to the end, by lineKey's hash
	key         []byte                                          // lineKey's buffer
	seeds       [2]maphash.Seed                                 // of the lines' hashes
	namePacks   map[*mapping.Item][]units.Pack                  // pack sizes of items' names
	skus        int                                             // SKU mappings the run's lines stored, so far
	maxNewItems int64                                           // --max-new-items, as opts.NewItems counts it down
}

func newResolver(load loader, opts mapping.Options, report bool) *resolver {
	r := &resolver{opts: opts, load: load, byAccount: map[string]*mapping.Resolver{},
		units: map[string]map[int64]map[string]decimal.Decimal{}, ids: map[*mapping.Item]*int64{},
		packs: memo.New(func(d string) []units.Pack { return units.Packs("", d) }),
		lines: map[lineHash]lineMatch{}, seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		namePacks: map[*mapping.Item][]units.Pack{}}
	if report {
		r.report = map[reportKey]bool{}
	}
	return r
}

// unresolvedError is a line that cannot be given an item: a reject.
type unresolvedError struct{ err error }

func (e *unresolvedError) Error() string { return e.err.Error() }
func (e *unresolvedError) Unwrap() error { return e.err }

// catalogueError is a failure to load an account's catalogue.
type catalogueError struct {
	account string
	err     error
}

func (e *catalogueError) Error() string {
	return fmt.Sprintf("load the catalogue of account %q: %v", e.account, e.err)
}
func (e *catalogueError) Unwrap() error { return e.err }

// maxKeyBytes bounds account, vendor and key together once normalized:
// PostgreSQL refuses an index entry over about 2,700 bytes (SQLSTATE
// 54000), and a line is better rejected here, with its field named, than
// by the database.
const maxKeyBytes = 2400

// resolve maps a valid record to an item and returns its row, with the
// items and mappings it is the first to need; c gets its report entry and
// fuzzy count.
func (r *resolver) resolve(ctx context.Context, rec *invoice.Record, c *chunk) (store.Row, error) {
	l := &rec.Valid
	res, m, err := r.match(ctx, l)
	if err != nil {
		return store.Row{}, err
	}
	if res.Review {
		return store.Row{}, r.propose(l, res, c)
	}
	f, id := m.f, m.id
	base := l.Quantity // most lines: no decimal to allocate
	if !f.One() {
		base = units.Convert(l.Quantity, f)
	}
	row := store.Row{
		Line: int64(rec.Line), Record: rec.Seq, Account: l.Account, ItemID: id,
		InvoiceNumber: l.InvoiceNumber, InvoiceDate: l.InvoiceDate, Vendor: l.Vendor, VendorSKU: l.VendorSKU,
		Description: l.Description, Quantity: l.Quantity, Unit: l.Unit, Pack: l.Pack, BaseQuantity: base,
		UnitCost: l.UnitPrice, Origin: store.Origin(rec.Origin),
	}
	if res.Created {
		row.NewItems = []store.NewItem{{Account: l.Account, Name: res.Item.Name, Normalized: res.Item.Normalized, Unit: res.Item.Unit, ID: id}}
	}
	for _, m := range res.NewMappings {
		row.NewMappings = append(row.NewMappings, store.NewMapping{Account: l.Account, Vendor: m.Vendor, KeyKind: string(m.KeyKind),
			Key: m.Key, ItemID: r.idSlot(m.Item), Method: string(m.Method), Score: m.Score})
	}
	if res.Method == mapping.MethodFuzzy {
		c.fuzzy++
	}
	if e, ok := r.reportEntry(l, res, id); ok {
		c.report = append(c.report, e)
	}
	return row, nil
}

// lineKey is a line as resolving reads it, its fields packed into one
// string, each after its length, to be hashed (lineHash).
func (r *resolver) lineKey(l *invoice.Line) []byte {
	k := r.key[:0]
	for _, f := range [...]string{l.Account, l.Vendor, l.VendorSKU, l.Description, l.Unit, l.Pack} {
		k = binary.AppendUvarint(k, uint64(len(f)))
		k = append(k, f...)
	}
	r.key = k
	return k
}

// lineHash is a line's key hashed to 128 bits, with seeds of the run's
// own: a line is looked up on every row, and with the key itself, text
// kept apart from the map, comparing the key found cost a cache miss, a
// tenth of the client's CPU. A look-up meets another line's hash with a
// chance of 2^-113 (memo.Limit keys, 2^15, in 2^128 hashes): 2^-83 in a
// billion lines; and no input can aim at it without the seeds.
type lineHash [2]uint64

func (r *resolver) hashOf(key []byte) lineHash {
	return lineHash{maphash.Bytes(r.seeds[0], key), maphash.Bytes(r.seeds[1], key)}
}

// lineMatch is what a line resolves to: its item and the item's id slot,
// and what a unit of the line is worth in the item's base unit.
type lineMatch struct {
	item *mapping.Item
	id   *int64
	f    units.Rate
	// skus is -1 for a line that resolves so for the rest of the run;
	// else (Result.UntilSKU) resolver.skus when it was resolved: it
	// resolves so while no SKU mapping is stored.
	skus int
}

// match resolves a line to an item and converts its unit. A line that
// resolves the same way for the rest of the run (Result.Stable: by a
// stored mapping that no later line can outrank), or until a SKU mapping
// is stored (Result.UntilSKU), is kept, so the same line again, as most
// lines are, is found in one map.
func (r *resolver) match(ctx context.Context, l *invoice.Line) (mapping.Result, lineMatch, error) {
	k := r.hashOf(r.lineKey(l))
	if m, ok := r.lines[k]; ok && (m.skus < 0 || m.skus == r.skus) {
		return mapping.Result{Item: m.item, Method: mapping.MethodStored, Score: 1, Stable: true}, m, nil
	}
	res, err := r.lookup(ctx, l)
	for _, nm := range res.NewMappings {
		if nm.KeyKind == mapping.KeySKU {
			r.skus++
		}
	}
	if err != nil || res.Review {
		return res, lineMatch{}, err
	}
	// An item created by this line has the base unit the line converts
	// into; an item found may not.
	f, err := r.factorOf(l, res.Item)
	if err != nil {
		return res, lineMatch{}, &unresolvedError{err: &invoice.FieldError{Field: invoice.FieldUnit, Rule: err.Error(), Value: l.Unit}}
	}
	m := lineMatch{item: res.Item, id: r.idSlot(res.Item), f: f, skus: -1}
	if res.UntilSKU {
		m.skus = r.skus
	}
	if res.Stable || res.UntilSKU {
		if len(r.lines) >= memo.Limit {
			clear(r.lines)
		}
		r.lines[k] = m
	}
	return res, m, nil
}

// factorOf is what a unit of the line is worth in the item's base unit
// (units.LineFactor).
func (r *resolver) factorOf(l *invoice.Line, it *mapping.Item) (units.Rate, error) {
	ui := units.Item{ID: it.ID, Account: l.Account, Name: it.Name, Base: it.Unit, Units: r.units[l.Account][it.ID]}
	d, err := units.LineFactor(l.Unit, l.Pack != "", func() []units.Pack { return r.linePacks(l) }, func() []units.Pack { return r.itemPacks(it) }, ui)
	if err != nil {
		return units.Rate{}, err
	}
	return units.RateOf(d), nil
}

// linePacks are the pack sizes a line states.
func (r *resolver) linePacks(l *invoice.Line) []units.Pack {
	if l.Pack == "" {
		return r.packs.Get(l.Description)
	}
	return units.Packs(l.Pack, l.Description)
}

// itemPacks are the pack sizes an item's name states.
func (r *resolver) itemPacks(it *mapping.Item) []units.Pack {
	ps, ok := r.namePacks[it]
	if !ok {
		if len(r.namePacks) >= memo.Limit {
			clear(r.namePacks)
		}
		ps = units.Packs("", it.Name)
		r.namePacks[it] = ps
	}
	return ps
}

// propose records what resolving a line would have decided, for a person
// to accept or decline, and returns the reject the line is meanwhile.
func (r *resolver) propose(l *invoice.Line, res mapping.Result, c *chunk) error {
	p := store.Proposal{Account: l.Account, Vendor: mapping.NormalizeVendor(l.Vendor), VendorName: l.Vendor, VendorSKU: l.VendorSKU,
		Key: res.Key, Desc: l.Description}
	var what string
	if res.Method == mapping.MethodFuzzy {
		p.ItemID, p.Score = r.idSlot(res.Item), res.Score
		// The id of an item this run created is the writer's to set.
		item := fmt.Sprintf("item %q", res.Item.Name)
		if res.Item.ID != 0 {
			item = fmt.Sprintf("item %d %q", res.Item.ID, res.Item.Name)
		}
		what = fmt.Sprintf("fuzzy match to %s (%.2f)", item, res.Score)
	} else {
		p.NewName, p.NewKey, p.NewUnit = res.Item.Name, res.Item.Normalized, res.Item.Unit
		what = fmt.Sprintf("no item matches; new item %q proposed", res.Item.Name)
	}
	c.proposals = append(c.proposals, p)
	return &unresolvedError{err: &reviewError{what: what}}
}

// reviewError is a line left for a person to review.
type reviewError struct{ what string }

func (e *reviewError) Error() string {
	return "needs review: " + e.what + "; accept or decline it (batchimport mappings pending), then import the rejects again"
}

// lookup resolves the line in its account's catalogue, after checking that
// its keys fit in the database's indexes.
func (r *resolver) lookup(ctx context.Context, l *invoice.Line) (mapping.Result, error) {
	if n := len(l.Account) + len(l.Vendor) + len(l.Description) + len(l.VendorSKU); n > maxKeyBytes/8 {
		// Normalization can lengthen text (NFKC), so long lines are
		// measured as they will be stored.
		vendor := len(l.Account) + len(mapping.NormalizeVendor(l.Vendor))
		if n := vendor + len(mapping.DescriptionKey(l.Description)); n > maxKeyBytes {
			return mapping.Result{}, &unresolvedError{err: &invoice.FieldError{Field: invoice.FieldDescription,
				Rule: fmt.Sprintf("with the vendor and account, must fit in a key of %d bytes once normalized", maxKeyBytes), Value: fmt.Sprintf("%d bytes", n)}}
		}
		if n := vendor + len(l.VendorSKU); n > maxKeyBytes {
			return mapping.Result{}, &unresolvedError{err: &invoice.FieldError{Field: invoice.FieldVendor,
				Rule: fmt.Sprintf("with the SKU and account, must fit in a key of %d bytes once normalized", maxKeyBytes), Value: fmt.Sprintf("%d bytes", n)}}
		}
	}
	mr, err := r.resolverOf(ctx, l.Account)
	if err != nil {
		return mapping.Result{}, err
	}
	res, err := mr.Resolve(mapping.Line{Vendor: l.Vendor, VendorSKU: l.VendorSKU, Description: l.Description})
	if res.Created || res.Review && res.Method == mapping.MethodCreated {
		// An item created for the line counts in the unit the line
		// converts into; matching never reads it.
		res.Item.Unit = units.BaseOf(l.Unit, r.linePacks(l), l.Pack != "")
	}
	if errors.Is(err, mapping.ErrTooManyNew) {
		return res, &unresolvedError{err: &invoice.FieldError{Field: invoice.FieldDescription, Rule: fmt.Sprintf(
			"no inventory item matches, and this run has created %d items, as many as --max-new-items allows: check that the description column holds item descriptions, or import the rejects again with a higher --max-new-items (0: no limit)",
			r.maxNewItems)}}
	}
	if errors.Is(err, mapping.ErrUnresolved) || errors.Is(err, mapping.ErrDeclined) {
		return res, &unresolvedError{err: &invoice.FieldError{Field: invoice.FieldDescription, Rule: err.Error()}}
	}
	return res, err
}

// idSlot returns where an item's database id lives. Items from the catalogue
// have theirs; items created in this run get a slot that the writer fills
// when it inserts them. The resolver's own Item.ID of a new item stays 0, so
// that resolution never depends on the writer's timing.
func (r *resolver) idSlot(it *mapping.Item) *int64 {
	if s, ok := r.ids[it]; ok {
		return s
	}
	s := new(int64)
	*s = it.ID
	r.ids[it] = s
	return s
}
