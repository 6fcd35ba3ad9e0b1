package importer

import (
	"maps"

	"github.com/shopspring/decimal"

	"github.com/batchimport/batchimport/store"
)

// Earlier is what the dry runs of an invocation's inputs before this one
// would have imported: importing them one after another, each imports its
// source (a later input of the same bytes is skipped), claims its
// invoices and takes back its fixed records (which a later input's lines
// then cannot), supersedes a rejected run, and adds to its items' stock.
type Earlier struct {
	invoices map[invoiceKey]claim    // invoices claimed
	taken    map[store.Origin]string // fixed records taken back, and by which input
	sources  map[sourceOf]string     // sources imported (success or partial success), and by which input
	// stock is items' stock as the rows counted imported leave it, from
	// the database's; added is what each input's rows add to it.
	stock map[stockOf]decimal.Decimal
	added map[string]map[stockOf]decimal.Decimal
	names map[*int64]string // the normalized names of items the inputs create, by id slot
	// superseded are rejected runs an input's run takes the place of,
	// which it marks reverted, and the input: their records, fixed, no
	// longer come home.
	superseded map[int64]string
}

// tookBack is an input before that takes back a record of run, fixed;
// "" when none (or e is nil).
func (e *Earlier) tookBack(run int64) string {
	if e == nil {
		return ""
	}
	for o, by := range e.taken {
		if o.Run == run {
			return by
		}
	}
	return ""
}

// supersede records that the input's run would take the place of run.
func (e *Earlier) supersede(run int64, input string) {
	if e != nil {
		e.superseded[run] = input
	}
}

// stockOf is an item whose stock a dry run sums: by its account and id,
// or, created by an input, by its normalized name, which a later input
// creating it again names too.
type stockOf struct {
	account string
	id      int64
	name    string
}

func (e *Earlier) stockOf(r *store.Row) stockOf {
	if *r.ItemID != 0 {
		return stockOf{account: r.Account, id: *r.ItemID}
	}
	return stockOf{account: r.Account, name: e.names[r.ItemID]}
}

// maxStock is the least stock that numeric(18,3) cannot hold.
var maxStock = decimal.New(1, 15)

// addStock adds the quantities of the rows at idx, a batch's in order, to
// their items' stock, and returns those it refuses, as the import would
// (store.batchWriter.replay): a transaction adds its rows' stock together,
// so when the stock takes the sum of them all, they all go in; else they
// go in pieces, of store.ReplayPiece rows, doubling while they go in, and
// a piece the stock cannot take is halved, down to the row, which is
// refused (store.ErrStockPast); the pieces after one start again at
// store.RefusedPiece rows. Where the import's transactions hold other
// rows than the dry run's batches (several writers, --chunks-per-commit),
// a stock that crosses 10^15 and comes back can come out otherwise.
func (e *Earlier) addStock(input string, rows []store.Row, idx []int) (refused []int) {
	fits := func(part []int) bool {
		net := map[stockOf]decimal.Decimal{}
		for _, i := range part {
			k := e.stockOf(&rows[i])
			net[k] = net[k].Add(rows[i].BaseQuantity.Decimal())
		}
		for k, q := range net {
			if e.stock[k].Add(q).Abs().Cmp(maxStock) >= 0 {
				return false
			}
		}
		return true
	}
	if e.added[input] == nil {
		e.added[input] = map[stockOf]decimal.Decimal{}
	}
	take := func(part []int) {
		for _, i := range part {
			k, q := e.stockOf(&rows[i]), rows[i].BaseQuantity.Decimal()
			e.stock[k] = e.stock[k].Add(q)
			e.added[input][k] = e.added[input][k].Add(q)
		}
	}
	var pieces func(part []int)
	pieces = func(part []int) {
		piece := store.ReplayPiece
		for len(part) > 0 {
			n := min(len(part), piece)
			switch {
			case fits(part[:n]):
				take(part[:n])
				piece = min(2*piece, 1<<20)
			case n > 1:
				pieces(part[:n/2])
				pieces(part[n/2 : n])
			default:
				refused = append(refused, part[0])
				piece = store.RefusedPiece
			}
			part = part[n:]
		}
	}
	if fits(idx) {
		take(idx)
	} else {
		pieces(idx)
	}
	return refused
}

// sourceOf is a source as runs are found by: its key, for an account.
type sourceOf struct{ key, account string }

// imported records that the input would import the source.
func (e *Earlier) imported(key, account, input string) {
	if _, ok := e.sources[sourceOf{key, account}]; !ok {
		e.sources[sourceOf{key, account}] = input
	}
}

// importedBy is the input before that would import the source; "" when
// none (or e is nil).
func (e *Earlier) importedBy(key, account string) string {
	if e == nil {
		return ""
	}
	return e.sources[sourceOf{key, account}]
}

// claim is who an earlier input claimed an invoice for: the input itself,
// or, by a fixed record, the run that record first came from.
type claim struct {
	input string
	home  int64 // the fixed record's home run; 0: the input's own
}

// forget drops what an input claimed and took back: its run would be
// reverted (--max-rejects, a file that changed).
func (e *Earlier) forget(input string) {
	maps.DeleteFunc(e.invoices, func(_ invoiceKey, c claim) bool { return c.input == input })
	maps.DeleteFunc(e.taken, func(_ store.Origin, by string) bool { return by == input })
	for k, q := range e.added[input] {
		e.stock[k] = e.stock[k].Sub(q)
	}
	delete(e.added, input)
}

// NewEarlier keeps what dry runs of several inputs would import.
func NewEarlier() *Earlier {
	return &Earlier{invoices: map[invoiceKey]claim{}, taken: map[store.Origin]string{}, sources: map[sourceOf]string{},
		stock: map[stockOf]decimal.Decimal{}, added: map[string]map[stockOf]decimal.Decimal{}, names: map[*int64]string{},
		superseded: map[int64]string{}}
}
