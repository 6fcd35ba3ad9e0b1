package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Normalizer is how keys are made now (mapping.Vocabulary): the version
// of its vocabulary, and how a key stored under another version is made
// again.
type Normalizer interface {
	Version() int
	// ItemKey is the key of an item named name, whose key was old.
	ItemKey(name, old string) string
	// DescriptionKey is the key of a description whose key was old.
	DescriptionKey(old string) string
}

// Rekeyed is what re-keying changed.
type Rekeyed struct {
	From, To  int
	Items     int      // items whose key changed
	Mappings  int      // description mappings whose key changed
	Dropped   int      // description mappings whose new key another one had: that one stays
	Proposals int      // pending proposals dropped, as their keys changed (declined ones are re-keyed)
	Alike     []string // items that now normalize alike: each keeps its key, to be merged
}

// keysError says the schema's keys were made by another version of the
// vocabulary.
type keysError struct{ stored, current int }

func (e *keysError) Error() string {
	if e.stored > e.current {
		return fmt.Sprintf("%v: the schema's keys were made by normalizer version %d, newer than this batchimport's %d; upgrade batchimport", ErrSchema, e.stored, e.current)
	}
	return fmt.Sprintf("%v: the schema's keys were made by normalizer version %d, this batchimport's is %d; run `batchimport migrate` to re-key them", ErrSchema, e.stored, e.current)
}

func (e *keysError) Unwrap() error { return ErrSchema }

// CheckKeys refuses a schema whose keys another version of the vocabulary
// made: resolving against them would duplicate items.
func (s *Store) CheckKeys(ctx context.Context, version int) error {
	var v int
	if err := s.q().QueryRow(ctx, `SELECT version FROM normalizer`).Scan(&v); err != nil {
		return s.lost(err)
	}
	if v != version {
		return &keysError{stored: v, current: version}
	}
	return nil
}

// Rekey makes every key of the schema again with n, in one transaction,
// when the version that made them is not n's: items' normalized names,
// description mappings and pending proposals. Two items that now normalize
// alike keep their keys apart (the later one its old key) and are listed,
// to be merged; of two description mappings that now share a key, the one
// that already had it stays.
func (s *Store) Rekey(ctx context.Context, n Normalizer) (Rekeyed, error) {
	var out Rekeyed
	err := pgx.BeginFunc(ctx, s.q(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('batchimport migrate'), hashtext($1))`, s.schema); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT version FROM normalizer FOR UPDATE`).Scan(&out.From); err != nil {
			return err
		}
		out.To = n.Version()
		switch {
		case out.From == out.To:
			return nil
		case out.From > out.To:
			return &keysError{stored: out.From, current: out.To}
		}
		moved, err := s.rekeyItems(ctx, tx, n, &out)
		if err != nil {
			return err
		}
		if err := s.rekeyMappings(ctx, tx, n, moved, &out); err != nil {
			return err
		}
		if err := s.rekeyProposals(ctx, tx, n, &out); err != nil {
			return err
		}
		if err := rekeyAliases(ctx, tx, n); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE normalizer SET version = $1`, out.To)
		return err
	})
	return out, s.lost(err)
}

// itemRef is an item of an account.
type itemRef struct {
	account string
	id      int64
}

// rekeyItems re-keys the items, and returns each item's key before and
// after, without sizes, for the mappings that were made from it.
func (s *Store) rekeyItems(ctx context.Context, tx pgx.Tx, n Normalizer, out *Rekeyed) (map[itemRef][2]string, error) {
	rows, err := tx.Query(ctx, `SELECT account, id, name, normalized_name FROM inventory_items ORDER BY account, id`)
	if err != nil {
		return nil, err
	}
	type item struct {
		account, name, old string
		id                 int64
	}
	var items []item
	var it item
	if _, err := pgx.ForEachRow(rows, []any{&it.account, &it.id, &it.name, &it.old}, func() error { items = append(items, it); return nil }); err != nil {
		return nil, err
	}
	// Every item's key after: the key it would have, unless another item
	// has it first (the one already holding it, else the lowest id); a
	// loser keeps its key, unless that is a winner's, then gets its id.
	want := make([]string, len(items))
	winner := map[[2]string]int{}
	for i, it := range items {
		want[i] = n.ItemKey(it.name, it.old)
		k := [2]string{it.account, want[i]}
		if w, ok := winner[k]; !ok || it.old == want[i] && items[w].old != want[i] {
			winner[k] = i
		}
	}
	var accounts, keys []string
	var ids []int64
	moved := map[itemRef][2]string{}
	for i, it := range items {
		key := want[i]
		if w := winner[[2]string{it.account, key}]; w != i {
			out.Alike = append(out.Alike, fmt.Sprintf("account %q: items %d and %d now normalize alike (%q); merge them", it.account, items[w].id, it.id, key))
			key = it.old
			if _, taken := winner[[2]string{it.account, key}]; taken {
				key = fmt.Sprintf("%s #%d", it.old, it.id)
			}
		}
		if key == it.old {
			continue
		}
		moved[itemRef{it.account, it.id}] = [2]string{unsized(it.old), unsized(key)}
		accounts, ids, keys = append(accounts, it.account), append(ids, it.id), append(keys, key)
	}
	out.Items = len(ids)
	return moved, moveKeys(ctx, tx, accounts, ids, keys)
}

// unsized splits the sizes off a key ("cup @453.59237g" is "cup").
func unsized(key string) string {
	base, _ := splitSizes(key)
	return base
}

func splitSizes(key string) (base, sizes string) {
	if i := strings.Index(key, " @"); i >= 0 {
		return key[:i], key[i:]
	}
	return key, ""
}

// moveKeys sets items' new keys in two steps, so that no key is held twice
// on the way (a key may move to where another one leaves).
func moveKeys(ctx context.Context, tx pgx.Tx, accounts []string, ids []int64, keys []string) error {
	if len(ids) == 0 {
		return nil
	}
	for _, set := range []string{`t.normalized_name || ' #rekey ' || u.id`, `u.k`} {
		if _, err := tx.Exec(ctx, `UPDATE inventory_items AS t SET normalized_name = `+set+`
			FROM unnest($1::text[], $2::bigint[], $3::text[]) AS u(a, id, k) WHERE t.account = u.a AND t.id = u.id`, accounts, ids, keys); err != nil {
			return err
		}
	}
	return nil
}

// rekeyMappings re-keys the description mappings. A mapping made from its
// item's own name (exact matches, created items) takes the item's new key,
// with its sizes: the words of the line it was made from are not stored,
// and its key alone, words sorted, has lost their order ("skin off").
// Others have their key normalized again.
func (s *Store) rekeyMappings(ctx context.Context, tx pgx.Tx, n Normalizer, moved map[itemRef][2]string, out *Rekeyed) error {
	rows, err := tx.Query(ctx, `SELECT account, vendor, key, item_id FROM item_mappings WHERE key_kind = 'description' ORDER BY account, vendor, key`)
	if err != nil {
		return err
	}
	type mapping struct {
		account, vendor, old string
		item                 int64
	}
	var ms []mapping
	var m mapping
	if _, err := pgx.ForEachRow(rows, []any{&m.account, &m.vendor, &m.old, &m.item}, func() error { ms = append(ms, m); return nil }); err != nil {
		return err
	}
	// Every mapping's key after; of two that want one key, the one holding
	// it already stays, else the first, and the other goes.
	want := make([]string, len(ms))
	winner := map[[3]string]int{}
	for i, m := range ms {
		key := n.DescriptionKey(m.old)
		if keys, ok := moved[itemRef{m.account, m.item}]; ok {
			if base, sizes := splitSizes(m.old); base == keys[0] {
				key = keys[1] + sizes
			}
		}
		want[i] = key
		k := [3]string{m.account, m.vendor, key}
		if w, ok := winner[k]; !ok || m.old == key && ms[w].old != key {
			winner[k] = i
		}
	}
	var upd, drop [][3]string
	var keys []string
	for i, m := range ms {
		switch {
		case winner[[3]string{m.account, m.vendor, want[i]}] != i:
			drop = append(drop, [3]string{m.account, m.vendor, m.old})
		case want[i] != m.old:
			upd, keys = append(upd, [3]string{m.account, m.vendor, m.old}), append(keys, want[i])
		}
	}
	out.Mappings, out.Dropped = len(upd), len(drop)
	if len(drop) > 0 {
		a, v, k := columns(drop)
		if _, err := tx.Exec(ctx, `DELETE FROM item_mappings AS m USING unnest($1::text[], $2::text[], $3::text[]) AS u(a, v, k)
			WHERE m.account = u.a AND m.vendor = u.v AND m.key_kind = 'description' AND m.key = u.k`, a, v, k); err != nil {
			return err
		}
	}
	if len(upd) == 0 {
		return nil
	}
	a, v, k := columns(upd)
	for _, step := range [][2]any{{k, tmpKeys(k)}, {tmpKeys(k), keys}} {
		if _, err := tx.Exec(ctx, `UPDATE item_mappings AS m SET key = u.n
			FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(a, v, k, n)
			WHERE m.account = u.a AND m.vendor = u.v AND m.key_kind = 'description' AND m.key = u.k`, a, v, step[0], step[1]); err != nil {
			return err
		}
	}
	return nil
}

// tmpKeys are keys no description has, for the way between two keys.
func tmpKeys(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + " #rekey"
	}
	return out
}

func columns(rows [][3]string) (a, b, c []string) {
	for _, r := range rows {
		a, b, c = append(a, r[0]), append(b, r[1]), append(c, r[2])
	}
	return a, b, c
}

// rekeyProposals drops the pending proposals whose keys change: they are
// few, and come again, re-keyed, with the next import of their lines. A
// declined proposal is a person's decision: it is re-keyed, unless another
// decision has its new key already.
func (s *Store) rekeyProposals(ctx context.Context, tx pgx.Tx, n Normalizer, out *Rekeyed) error {
	rows, err := tx.Query(ctx, `SELECT account, id, status, key, coalesce(new_key, ''), coalesce(new_name, '') FROM mapping_proposals
		WHERE status IN ('pending', 'declined') ORDER BY account, id`)
	if err != nil {
		return err
	}
	type proposal struct {
		account, status, key, newKey, newName string
		id                                    int64
	}
	var ps []proposal
	var p proposal
	if _, err := pgx.ForEachRow(rows, []any{&p.account, &p.id, &p.status, &p.key, &p.newKey, &p.newName}, func() error {
		ps = append(ps, p)
		return nil
	}); err != nil {
		return err
	}
	for _, p := range ps {
		key, newKey := n.DescriptionKey(p.key), p.newKey
		if newKey != "" {
			newKey = n.ItemKey(p.newName, p.newKey)
		}
		if key == p.key && newKey == p.newKey {
			continue
		}
		if p.status == "pending" {
			out.Proposals++
			if _, err := tx.Exec(ctx, `DELETE FROM mapping_proposals WHERE account = $1 AND id = $2`, p.account, p.id); err != nil {
				return err
			}
			continue
		}
		if _, err := tx.Exec(ctx, `DELETE FROM mapping_proposals AS p USING mapping_proposals AS o
			WHERE p.account = $1 AND p.id = $2 AND o.account = p.account AND o.id <> p.id AND o.vendor = p.vendor
			AND o.key = $3 AND coalesce(o.item_id, 0) = coalesce(p.item_id, 0)`, p.account, p.id, key); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE mapping_proposals SET key = $3, new_key = nullif($4, '') WHERE account = $1 AND id = $2`,
			p.account, p.id, key, newKey); err != nil {
			return err
		}
	}
	return nil
}

// rekeyAliases makes the keys of merged items' names again; of two names
// that now share a key, the older alias stays.
func rekeyAliases(ctx context.Context, tx pgx.Tx, n Normalizer) error {
	rows, err := tx.Query(ctx, `DELETE FROM item_aliases RETURNING account, normalized_name, name, item_id, created_at`)
	if err != nil {
		return err
	}
	type alias struct {
		account, key, name string
		item               int64
		at                 time.Time
	}
	var all []alias
	var a alias
	if _, err := pgx.ForEachRow(rows, []any{&a.account, &a.key, &a.name, &a.item, &a.at}, func() error { all = append(all, a); return nil }); err != nil {
		return err
	}
	slices.SortFunc(all, func(x, y alias) int { return x.at.Compare(y.at) })
	for _, a := range all {
		if _, err := tx.Exec(ctx, `INSERT INTO item_aliases (account, normalized_name, name, item_id, created_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (account, normalized_name) DO NOTHING`, a.account, n.ItemKey(a.name, a.key), a.name, a.item, a.at); err != nil {
			return err
		}
	}
	return nil
}
