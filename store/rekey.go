package store

import (
	"context"
	"fmt"
	"strings"

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
	Proposals int      // pending proposals dropped, as their keys changed
	Alike     []string // items that now normalize alike: each keeps its key, to be merged
}

// ErrKeys says the schema's keys were made by another version of the
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
	// The keys every item keeps if unchanged, so that a new key never
	// takes one of them.
	taken := map[[2]string]int64{}
	for _, it := range items {
		taken[[2]string{it.account, it.old}] = it.id
	}
	var accounts, keys []string
	var ids []int64
	moved := map[itemRef][2]string{}
	for _, it := range items {
		key := n.ItemKey(it.name, it.old)
		if key == it.old {
			continue
		}
		moved[itemRef{it.account, it.id}] = [2]string{unsized(it.old), unsized(key)}
		if other, ok := taken[[2]string{it.account, key}]; ok && other != it.id {
			out.Alike = append(out.Alike, fmt.Sprintf("account %q: items %d and %d now normalize alike (%q); merge them", it.account, other, it.id, key))
			continue
		}
		delete(taken, [2]string{it.account, it.old})
		taken[[2]string{it.account, key}] = it.id
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
	taken := map[[3]string]bool{}
	for _, m := range ms {
		taken[[3]string{m.account, m.vendor, m.old}] = true
	}
	var upd, drop [][3]string
	var keys []string
	for _, m := range ms {
		key := n.DescriptionKey(m.old)
		if keys, ok := moved[itemRef{m.account, m.item}]; ok {
			if base, sizes := splitSizes(m.old); base == keys[0] {
				key = keys[1] + sizes
			}
		}
		if key == m.old {
			continue
		}
		if taken[[3]string{m.account, m.vendor, key}] {
			drop = append(drop, [3]string{m.account, m.vendor, m.old})
			continue
		}
		delete(taken, [3]string{m.account, m.vendor, m.old})
		taken[[3]string{m.account, m.vendor, key}] = true
		upd, keys = append(upd, [3]string{m.account, m.vendor, m.old}), append(keys, key)
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
// few, and come again, re-keyed, with the next import of their lines.
func (s *Store) rekeyProposals(ctx context.Context, tx pgx.Tx, n Normalizer, out *Rekeyed) error {
	rows, err := tx.Query(ctx, `SELECT account, id, key, coalesce(new_key, ''), coalesce(new_name, '') FROM mapping_proposals WHERE status = 'pending'`)
	if err != nil {
		return err
	}
	var accounts []string
	var ids []int64
	var account, key, newKey, newName string
	var id int64
	if _, err := pgx.ForEachRow(rows, []any{&account, &id, &key, &newKey, &newName}, func() error {
		if n.DescriptionKey(key) != key || newKey != "" && n.ItemKey(newName, newKey) != newKey {
			accounts, ids = append(accounts, account), append(ids, id)
		}
		return nil
	}); err != nil {
		return err
	}
	out.Proposals = len(ids)
	if len(ids) == 0 {
		return nil
	}
	_, err = tx.Exec(ctx, `DELETE FROM mapping_proposals AS p USING unnest($1::text[], $2::bigint[]) AS u(a, id)
		WHERE p.account = u.a AND p.id = u.id`, accounts, ids)
	return err
}
