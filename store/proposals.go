package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Proposal is what an import would have decided for a line and left to a
// person instead: a fuzzy match to an item, or a new item.
type Proposal struct {
	ID         int64
	Account    string
	Vendor     string // normalized
	VendorName string // as read
	VendorSKU  string
	Key        string // the description's mapping key
	Desc       string // as read
	ItemID     *int64 // the item matched; nil: a new item
	ItemName   string // its name, when read back
	Score      float64
	NewName    string // of a new item
	NewKey     string
	NewUnit    string
	Status     string
	RunID      int64
	CreatedAt  time.Time
}

// insertProposals records the batch's proposals; one already recorded for
// the same vendor, key and item stays as it is.
func (s *Store) insertProposals(ctx context.Context, tx pgx.Tx, runID int64, ps []Proposal) error {
	if len(ps) == 0 {
		return nil
	}
	n := len(ps)
	accounts, vendors, names, skus, keys, descs := make([]string, n), make([]string, n), make([]string, n), make([]*string, n), make([]string, n), make([]string, n)
	items, scores := make([]*int64, n), make([]float32, n)
	newNames, newKeys, newUnits := make([]*string, n), make([]*string, n), make([]*string, n)
	for i, p := range ps {
		accounts[i], vendors[i], names[i], skus[i], keys[i], descs[i] = p.Account, p.Vendor, p.VendorName, nullable(p.VendorSKU), p.Key, p.Desc
		items[i], scores[i] = p.ItemID, float32(p.Score)
		if p.ItemID == nil {
			newNames[i], newKeys[i], newUnits[i] = &ps[i].NewName, &ps[i].NewKey, nullable(p.NewUnit)
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO mapping_proposals (account, vendor, vendor_name, vendor_sku, key, description, item_id, score,
			new_name, new_key, new_unit, run_id)
		SELECT u.*, $12::bigint FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[],
			$8::real[], $9::text[], $10::text[], $11::text[]) AS u
		ON CONFLICT DO NOTHING`,
		accounts, vendors, names, skus, keys, descs, items, scores, newNames, newKeys, newUnits, runID)
	return err
}

// Declined lists the account's declined proposals.
func (s *Store) declined(ctx context.Context, account string) ([]Proposal, error) {
	rows, err := s.q().Query(ctx, `SELECT vendor, key, item_id FROM mapping_proposals WHERE account = $1 AND status = 'declined'`, account)
	if err != nil {
		return nil, s.lost(err)
	}
	var out []Proposal
	var p Proposal
	_, err = pgx.ForEachRow(rows, []any{&p.Vendor, &p.Key, &p.ItemID}, func() error {
		out = append(out, p)
		return nil
	})
	return out, s.lost(err)
}

// Proposals lists an account's proposals of a status, oldest first, with
// the name of the item matched.
func (s *Store) Proposals(ctx context.Context, account, status string) ([]Proposal, error) {
	rows, err := s.q().Query(ctx, `SELECT p.id, p.vendor, p.vendor_name, coalesce(p.vendor_sku, ''), p.key, p.description, p.item_id,
			coalesce(i.name, ''), coalesce(p.score, 0), coalesce(p.new_name, ''), coalesce(p.new_key, ''), coalesce(p.new_unit, ''),
			p.status, p.run_id, p.created_at
		FROM mapping_proposals p LEFT JOIN inventory_items i ON i.account = p.account AND i.id = p.item_id
		WHERE p.account = $1 AND p.status = $2 ORDER BY p.id`, account, status)
	if err != nil {
		return nil, s.lost(err)
	}
	var out []Proposal
	var p Proposal
	p.Account = account
	_, err = pgx.ForEachRow(rows, []any{&p.ID, &p.Vendor, &p.VendorName, &p.VendorSKU, &p.Key, &p.Desc, &p.ItemID, &p.ItemName,
		&p.Score, &p.NewName, &p.NewKey, &p.NewUnit, &p.Status, &p.RunID, &p.CreatedAt}, func() error {
		out = append(out, p)
		return nil
	})
	return out, s.lost(err)
}

// ErrNoProposal says a proposal does not exist, or is no longer pending.
var ErrNoProposal = errors.New("no such pending proposal")

// Decide accepts or declines pending proposals of an account, all in one
// transaction. Accepting a fuzzy match maps the line's description (and
// SKU) to the item, as a person's mapping (method manual); accepting a new
// item creates it (or finds it, if it was created since) and maps the line
// to it. A declined match is never proposed again for that description, nor
// a declined new item created.
func (s *Store) Decide(ctx context.Context, c Correction, account string, ids []int64, accept bool) ([]Proposal, int64, error) {
	var done []Proposal
	c.Accounts = []string{account}
	id, err := s.Correct(ctx, c, func(tx pgx.Tx) (any, error) {
		done = done[:0]
		err := s.decide(ctx, tx, account, ids, accept, &done)
		return done, err
	})
	return done, id, err
}

func (s *Store) decide(ctx context.Context, tx pgx.Tx, account string, ids []int64, accept bool, done *[]Proposal) error {
	status := "declined"
	if accept {
		status = "accepted"
	}
	for _, id := range ids {
		var p Proposal
		err := tx.QueryRow(ctx, `UPDATE mapping_proposals SET status = $3, decided_at = now()
			WHERE account = $1 AND id = $2 AND status = 'pending'
			RETURNING id, vendor, vendor_name, coalesce(vendor_sku, ''), key, description, item_id, coalesce(new_name, ''),
				coalesce(new_key, ''), coalesce(new_unit, '')`, account, id, status).
			Scan(&p.ID, &p.Vendor, &p.VendorName, &p.VendorSKU, &p.Key, &p.Desc, &p.ItemID, &p.NewName, &p.NewKey, &p.NewUnit)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("proposal %d of account %q: %w", id, account, ErrNoProposal)
		}
		if err != nil {
			return err
		}
		p.Account, p.Status = account, status
		if accept {
			if err := s.apply(ctx, tx, &p); err != nil {
				return err
			}
		}
		*done = append(*done, p)
	}
	return nil
}

// apply stores what an accepted proposal says.
func (s *Store) apply(ctx context.Context, tx pgx.Tx, p *Proposal) error {
	if p.ItemID == nil {
		// An item merged since under that name is the item now.
		var id int64
		err := tx.QueryRow(ctx, `SELECT item_id FROM item_aliases WHERE account = $1 AND normalized_name = $2`, p.Account, p.NewKey).Scan(&id)
		if err == nil {
			p.ItemID = &id
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
	}
	if p.ItemID == nil {
		id := new(int64)
		if _, err := s.insertItems(ctx, tx, 0, []NewItem{{Account: p.Account, Name: p.NewName, Normalized: p.NewKey, Unit: p.NewUnit, ID: id}}); err != nil {
			return err
		}
		p.ItemID = id
	}
	var ms []NewMapping
	if p.VendorSKU != "" {
		ms = append(ms, NewMapping{Account: p.Account, Vendor: p.Vendor, KeyKind: "sku", Key: p.VendorSKU, ItemID: p.ItemID, Method: "manual", Score: 1})
	}
	ms = append(ms, NewMapping{Account: p.Account, Vendor: p.Vendor, KeyKind: "description", Key: p.Key, ItemID: p.ItemID, Method: "manual", Score: 1})
	for _, m := range ms {
		// A person's decision replaces what an import stored meanwhile,
		// and no longer goes when that import is reverted.
		if _, err := tx.Exec(ctx, `INSERT INTO item_mappings (account, vendor, key_kind, key, item_id, method, score)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (account, vendor, key_kind, key) DO UPDATE SET item_id = excluded.item_id, method = excluded.method, score = excluded.score, run_id = NULL`,
			m.Account, m.Vendor, m.KeyKind, m.Key, *m.ItemID, m.Method, float32(m.Score)); err != nil {
			return err
		}
	}
	return nil
}
