package importer

import (
	"context"
	"iter"
	"maps"

	"github.com/shopspring/decimal"

	"github.com/batchimport/batchimport/mapping"
	"github.com/batchimport/batchimport/store"
)

// resolverOf returns the resolver of an account, over its catalogue,
// loaded on first use.
func (r *resolver) resolverOf(ctx context.Context, account string) (*mapping.Resolver, error) {
	if mr, ok := r.byAccount[account]; ok {
		return mr, nil
	}
	cat, err := r.load(ctx, account)
	if err != nil {
		return nil, &catalogueError{account: account, err: err}
	}
	opts := r.opts
	for _, p := range cat.Declined {
		d := mapping.Declined{Vendor: p.Vendor, Key: p.Key}
		if p.ItemID != nil {
			d.ItemID = *p.ItemID
		}
		opts.Declined = append(opts.Declined, d)
	}
	for _, a := range cat.Aliases {
		opts.Aliases = append(opts.Aliases, mapping.Alias{Key: a.Normalized, ItemID: a.ItemID, Name: a.Name})
	}
	conv := map[int64]map[string]decimal.Decimal{}
	for _, it := range cat.Items {
		if it.Units != nil {
			conv[it.ID] = it.Units
		}
	}
	r.units[account] = conv
	items, maps := mappingItems(cat.Items), mappingMappings(cat.Mappings)
	// The resolver copies the catalogue as loaded, which need not stay
	// while the resolver is built (when a large one takes most memory);
	// its mappings are converted as it reads them.
	cat.Items, cat.Aliases, cat.Declined = nil, nil, nil
	mr := mapping.NewResolver(items, maps, opts)
	r.byAccount[account] = mr
	return mr, nil
}

// loadFresh loads a catalogue on the run's catalogue connection (the
// run's own may be busy with a batch), retrying transient failures like a
// batch. Every account of the run is loaded on that one connection.
func (r *runner) loadFresh(ctx context.Context, account string) (store.Catalogue, error) {
	rt := retrier{policy: r.opts.Retry, log: r.opts.Log}
	for {
		c, err := r.loadOnCatalogueConn(ctx, account)
		if err == nil {
			r.saw(account, c.Corrected)
			return c, nil
		}
		if !store.IsTransient(err) {
			return store.Catalogue{}, err
		}
		if err := rt.wait(ctx, err, "loading the catalogue of account", account); err != nil {
			return store.Catalogue{}, err
		}
	}
}

// loadOnCatalogueConn opens the catalogue connection on first use, and
// drops it after a failure.
func (r *runner) loadOnCatalogueConn(ctx context.Context, account string) (store.Catalogue, error) {
	r.catalogueMu.Lock()
	defer r.catalogueMu.Unlock()
	if err := r.openCatalogueConn(ctx); err != nil {
		return store.Catalogue{}, err
	}
	c, err := r.catalogueDB.LoadCatalogue(ctx, account)
	if err != nil {
		r.catalogueDB.Close(context.WithoutCancel(ctx))
		r.catalogueDB = nil
	}
	return c, err
}

// openCatalogueConn opens the catalogue connection unless it is open; the
// caller holds catalogueMu.
func (r *runner) openCatalogueConn(ctx context.Context) error {
	if r.catalogueDB != nil {
		return nil
	}
	db, err := store.Open(ctx, r.opts.DB)
	if err != nil {
		return err
	}
	r.catalogueDB = db
	return nil
}

// checkSession refuses a connection through a pooler that does not keep
// sessions (store.CheckSession), comparing the run's connection with the
// catalogue connection.
func (r *runner) checkSession(ctx context.Context) error {
	r.catalogueMu.Lock()
	defer r.catalogueMu.Unlock()
	if err := r.openCatalogueConn(ctx); err != nil {
		return err
	}
	return r.db.CheckSession(ctx, r.catalogueDB)
}

// closeCatalogueConn closes the catalogue connection, if open.
func (r *runner) closeCatalogueConn(ctx context.Context) {
	r.catalogueMu.Lock()
	defer r.catalogueMu.Unlock()
	if r.catalogueDB != nil {
		r.catalogueDB.Close(context.WithoutCancel(ctx))
		r.catalogueDB = nil
	}
}

// loadShared loads a catalogue inside a dry run's transaction.
func (r *runner) loadShared(ctx context.Context, account string) (store.Catalogue, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.db.LoadCatalogue(ctx, account)
}

// saw records the latest correction of an account when its catalogue was
// loaded.
func (r *runner) saw(account string, correction int64) {
	r.seenMu.Lock()
	defer r.seenMu.Unlock()
	if r.seen == nil {
		r.seen = map[string]int64{}
	}
	r.seen[account] = correction
}

// seenSoFar is a copy of what saw recorded, for a batch to carry.
func (r *runner) seenSoFar() map[string]int64 {
	r.seenMu.Lock()
	defer r.seenMu.Unlock()
	return maps.Clone(r.seen)
}

func mappingItems(items []store.Item) []mapping.Item {
	out := make([]mapping.Item, len(items))
	for i, it := range items {
		out[i] = mapping.Item{ID: it.ID, Name: it.Name, Normalized: it.Normalized, Unit: it.Unit}
	}
	return out
}

// mappingMappings converts stored mappings as they are read, not into a
// copy: a large catalogue is mostly mappings.
func mappingMappings(maps []store.Mapping) iter.Seq[mapping.StoredMapping] {
	return func(yield func(mapping.StoredMapping) bool) {
		for _, m := range maps {
			if !yield(mapping.StoredMapping{Vendor: m.Vendor, KeyKind: mapping.KeyKind(m.KeyKind), Key: m.Key,
				ItemID: m.ItemID, Method: mapping.Method(m.Method), Score: m.Score}) {
				return
			}
		}
	}
}
