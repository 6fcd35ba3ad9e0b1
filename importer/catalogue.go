package importer

import (
	"context"
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
	mr := mapping.NewResolver(mappingItems(cat.Items), mappingMappings(cat.Mappings), opts)
	r.byAccount[account] = mr
	conv := map[int64]map[string]decimal.Decimal{}
	for _, it := range cat.Items {
		if it.Units != nil {
			conv[it.ID] = it.Units
		}
	}
	r.units[account] = conv
	return mr, nil
}

// loadFresh loads a catalogue on a connection of its own (the run's may be
// busy with a batch), retrying transient failures like a batch.
func (r *runner) loadFresh(ctx context.Context, account string) (store.Catalogue, error) {
	rt := retrier{policy: r.opts.Retry, log: r.opts.Log}
	for {
		db, err := store.Open(ctx, r.opts.DB)
		if err == nil {
			var c store.Catalogue
			c, err = db.LoadCatalogue(ctx, account)
			db.Close(context.WithoutCancel(ctx))
			if err == nil {
				r.saw(account, c.Corrected)
				return c, nil
			}
		}
		if !store.IsTransient(err) {
			return store.Catalogue{}, err
		}
		if err := rt.wait(ctx, err, "loading the catalogue of account", account); err != nil {
			return store.Catalogue{}, err
		}
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
