// Package mapping resolves supplier invoice lines to inventory items, in
// memory: stored mappings first, then an exact match on the normalized
// description, then the most similar item by trigram similarity (as
// PostgreSQL's pg_trgm computes it), and finally a new item. It does no SQL
// and no I/O: the importer loads an account's catalogue and mappings once,
// resolves the lines of a file in order, and stores what the resolver created.
package mapping

import (
	"cmp"
	"errors"
	"iter"
	"slices"
	"strings"

	"github.com/batchimport/batchimport/internal/memo"
)

// Item is an inventory item of one account. ID is 0 for an item created by
// this resolver that the database has not yet given an id; the importer sets
// ID once the item is inserted (it may set it again if a transaction retries).
//
// The resolver reads ID only in NewResolver, so the importer may set the ID of
// a created item while the resolver goes on resolving later lines.
type Item struct {
	ID         int64
	Name       string // as shown to people
	Normalized string // Normalize(Name) under the rules of this package
	Unit       string // its base unit: matching never reads it
}

// KeyKind says what a mapping's key is made of.
type KeyKind string

// The kinds of mapping keys (item_mappings.key_kind).
const (
	KeySKU         KeyKind = "sku"         // the vendor's SKU, trimmed, case-sensitive
	KeyDescription KeyKind = "description" // Normalize(description)
)

// Method says how a line was resolved to its item.
type Method string

// The resolution methods. The resolver reports MethodStored for lines resolved
// by a mapping (whatever method made that mapping), and the other methods for
// mappings it decides on; MethodManual only ever comes from the database.
const (
	MethodStored  Method = "stored"  // resolved by a stored mapping (steps 1-2)
	MethodExact   Method = "exact"   // normalized description equals the item's
	MethodFuzzy   Method = "fuzzy"   // most similar item, at or above the threshold
	MethodCreated Method = "created" // a new item named after the description
	MethodManual  Method = "manual"  // set by a person; only ever read from the database
)

// StoredMapping is a row of item_mappings as loaded from the database.
type StoredMapping struct {
	Vendor  string // as stored: NormalizeVendor(vendor)
	KeyKind KeyKind
	// Key is, for KeySKU, the trimmed vendor_sku as-is: SKUs are compared
	// case-sensitively, because some vendors' SKUs differ only in case. For
	// KeyDescription it is Normalize(description).
	Key    string
	ItemID int64
	Method Method
	Score  float64
}

// Mapping is a mapping the resolver decided on during this run and that the
// importer must store (method exact/fuzzy/created).
type Mapping struct {
	Vendor  string // NormalizeVendor(line vendor)
	KeyKind KeyKind
	Key     string
	Item    *Item
	Method  Method
	Score   float64 // similarity for fuzzy, 1 for exact/created
}

// Line is what the resolver needs of an invoice line; the fields are already
// trimmed and valid (Vendor and Description not empty). Unit is the base
// unit an item created for the line gets (the caller may set it on the
// created item instead).
type Line struct{ Vendor, VendorSKU, Description, Unit string }

// Result is how one line was resolved.
type Result struct {
	Item    *Item
	Method  Method
	Score   float64 // fuzzy similarity; 1 for exact/created/stored
	Created bool    // Item is new, created by this line (Item.ID == 0)
	// NewMappings are the mappings to store because of this line: for
	// methods exact, fuzzy and created, one per key the line has (SKU and
	// description); empty for MethodStored.
	NewMappings []Mapping
	// Review says the match (MethodFuzzy) or the new item (MethodCreated)
	// is only proposed, for a person to accept or decline (Options.Review):
	// nothing is stored, and the line is not imported. A proposed new
	// item is not in the catalogue; Key is the line's description key.
	Review bool
	Key    string
	// Stable says the same line resolves the same way for the rest of the
	// run: by its SKU's stored mapping, or, having no SKU, by its
	// description's. Stored mappings are never replaced, but a line with a
	// SKU resolved by its description would follow a mapping of that SKU
	// stored later.
	Stable bool
	// UntilSKU says the line has a SKU and was resolved by its
	// description's stored mapping: it resolves the same way until a
	// mapping of its SKU is stored (by a line whose Result.NewMappings
	// holds it).
	UntilSKU bool
}

// Options tune resolution.
type Options struct {
	// FuzzyThreshold is the least similarity, in [0,1], of a fuzzy match;
	// 0 disables fuzzy matching.
	FuzzyThreshold float64
	// NoCreate makes Resolve fail with ErrUnresolved instead of creating an
	// item.
	NoCreate bool
	// ReviewFuzzy and ReviewNew make a fuzzy match, and a new item, a
	// proposal (Result.Review) rather than a decision.
	ReviewFuzzy, ReviewNew bool
	// Declined are the proposals a person declined: a fuzzy match is not
	// proposed again, and a new item is not created nor proposed again
	// (ErrDeclined).
	Declined []Declined
	// NewItems, when set, is how many more items the resolvers that share
	// it may create: each item created takes one, and at 0 a line that
	// would create one fails with ErrTooManyNew.
	NewItems *int64
	// Aliases are the names of items merged into others: a description
	// whose key is an alias's, and whose sizes, numbers and qualifiers the
	// merged name does not contradict, resolves to its item, as an exact
	// match, whatever the item's own name says (a person merged them).
	Aliases []Alias
}

// Alias is the key of a name merged into the item ItemID.
type Alias struct {
	Key    string
	ItemID int64
	Name   string // the merged name: a description of another size is no match
}

// Declined is a proposal a person declined: the item (0: a new item) for a
// vendor's description key.
type Declined struct {
	Vendor, Key string
	ItemID      int64
}

// ErrDeclined is returned by Resolve for a line whose new item a person
// declined: it needs a mapping to an item.
var ErrDeclined = errors.New("a new item for it was declined in review; map it to an item")

// DefaultFuzzyThreshold is the fuzzy threshold that maximizes precision, then
// recall, on the labelled lines of testdata/mapping (TestAccuracy measures it
// and fails when it is no longer the best): there, precision is 1 and recall
// 0.71. It is high because trigram similarity cannot tell every look-alike
// from a typo: the conflict rules (conflict.go) rule out those whose sizes,
// numbers or qualifiers differ (5-inch sesame buns, 0.84 similar to the
// 4-inch ones), but "Chocolate Chips Milk" is 0.83 similar to "Chocolate
// Milk", while many misspelt or wordier descriptions of the right item score
// below 0.8. A line below the threshold creates an item instead of landing
// on a wrong one; once an operator maps it, its stored mapping resolves it
// from then on.
const DefaultFuzzyThreshold = 0.84

// ErrUnresolved is returned by Resolve when no stored mapping, exact or fuzzy
// match applies and Options.NoCreate forbids creating an item.
var ErrUnresolved = errors.New("no inventory item matches and --no-create is set")

// ErrTooManyNew is returned by Resolve for a line that would create an item
// when Options.NewItems is used up.
var ErrTooManyNew = errors.New("no inventory item matches, and the run has created as many items as it may")

// Resolver resolves the lines of one account, in file order; each line sees the
// items and mappings created by the lines before it. It is not safe for
// concurrent use.
type Resolver struct {
	opts Options

	// items holds every item by position: stored items by ascending ID, then
	// items created by this resolver in creation order. Position is the
	// tie-breaking order of steps 3 and 4 ("lowest id, new items last"), and
	// it stays valid after the importer assigns IDs to new items.
	items []*Item
	// ids are the items' IDs as loaded, by position: 0 for items created
	// here, whose ID the importer may be setting.
	ids []int64
	// traits are the items' traits, by position (conflict.go), read when
	// first needed: most items are never a candidate. An item whose name
	// does not state a size, number, count or qualifier of a kind learns it
	// from the lines matched to it and from its mappings' sized keys
	// (learn): "Cups Foam" that took "Cups Foam 12 oz" is 12 oz, and "Cups
	// Foam 16 oz" is then another item.
	traits  []*traits
	learned map[int][]string // sizes of sized mapping keys, by item position, until its traits are read
	pos     map[*Item]int    // each item's position
	// exact maps a normalized name to the position of the first item that
	// has it; aliases an alias's key to its item's position and the merged
	// name's traits.
	exact   map[string]int
	aliases map[string]alias
	// sku and desc are the mappings by (vendor, key): stored ones whose item
	// is known, and those made by this resolver.
	sku, desc map[mappingKey]*Item
	// fuzzy is nil when fuzzy matching is off.
	fuzzy *index
	// declined holds Options.Declined by vendor and key.
	declined map[mappingKey][]int64
	// vendors and descriptions remember normalizations: invoices repeat the
	// same few thousand strings, and normalizing is most of a look-up's cost.
	vendors      memo.Memo[string]
	descriptions memo.Memo[described]
}

// described is a description normalized, with the sizes its mapping key
// holds, and its traits once read: only what its mappings need is kept in
// the memo, the traits only when a line needs matching.
type described struct {
	key, sizeKey string
	traits       *traits
}

func describe(s string) described {
	var t traits
	t.sizes, _, _ = sizesOf(fold(s))
	return described{key: Normalize(s), sizeKey: t.sizeKey()}
}

type mappingKey struct{ vendor, key string }

type alias struct {
	pos    int
	traits traits
}

// noMappings is no stored mapping.
func noMappings(func(StoredMapping) bool) {}

// NewResolver returns a resolver over an account's items and stored mappings
// (nil: none), which it reads once, as it is built: a caller that holds
// them otherwise need not copy them.
// It copies items; the *Item values in results point at the resolver's copies,
// which the importer updates with the IDs of created items.
//
// An item is matched under its Normalized field as loaded (which is what the
// database's unique normalized name holds, so that a created item can never
// collide with it), or Normalize(Name) when that is empty. A stored mapping
// whose item is not among items is ignored; of two stored mappings with the
// same key the first wins. Mappings are matched by their Vendor and Key as
// stored, which the importer wrote with NormalizeVendor and Normalize.
func NewResolver(items []Item, mappings iter.Seq[StoredMapping], opts Options) *Resolver {
	r := &Resolver{
		opts:  opts,
		items: make([]*Item, 0, len(items)),
		exact: make(map[string]int, len(items)),
		sku:   make(map[mappingKey]*Item),
		desc:  make(map[mappingKey]*Item),

		vendors:      memo.New(NormalizeVendor),
		descriptions: memo.New(describe),
	}
	for i := range items {
		it := items[i]
		if it.Normalized == "" {
			it.Normalized = Normalize(it.Name)
		}
		r.items = append(r.items, &it)
	}
	// Items without an ID are not expected from the database; they go after
	// all others so that they never win a tie against a stored item.
	slices.SortStableFunc(r.items, func(a, b *Item) int {
		if (a.ID == 0) != (b.ID == 0) {
			if a.ID == 0 {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.ID, b.ID)
	})
	byID := make(map[int64]*Item, len(r.items))
	r.traits = make([]*traits, len(r.items))
	r.ids = make([]int64, len(r.items))
	r.pos = make(map[*Item]int, len(r.items))
	for pos, it := range r.items {
		r.pos[it] = pos
		r.ids[pos] = it.ID
		if _, dup := r.exact[it.Normalized]; !dup {
			r.exact[it.Normalized] = pos
		}
		if _, dup := byID[it.ID]; !dup && it.ID != 0 {
			byID[it.ID] = it
		}
	}
	for _, a := range opts.Aliases {
		if pos, ok := positionOf(r.items, a.ItemID); ok {
			if r.aliases == nil {
				r.aliases = map[string]alias{}
			}
			r.aliases[a.Key] = alias{pos: pos, traits: traitsOf(a.Name)}
		}
	}
	if mappings == nil {
		mappings = noMappings
	}
	for m := range mappings {
		it, ok := byID[m.ItemID]
		if !ok {
			continue
		}
		var into map[mappingKey]*Item
		switch m.KeyKind {
		case KeySKU:
			into = r.sku
		case KeyDescription:
			into = r.desc
		default:
			continue
		}
		k := mappingKey{m.Vendor, m.Key}
		if _, dup := into[k]; !dup {
			into[k] = it
		}
		if i := strings.Index(m.Key, " @"); i >= 0 && m.KeyKind == KeyDescription {
			if pos, ok := positionOf(r.items, m.ItemID); ok {
				if r.learned == nil {
					r.learned = map[int][]string{}
				}
				r.learned[pos] = append(r.learned[pos], strings.Split(m.Key[i+2:], " @")...)
			}
		}
	}
	for _, d := range opts.Declined {
		if r.declined == nil {
			r.declined = map[mappingKey][]int64{}
		}
		k := mappingKey{d.Vendor, d.Key}
		r.declined[k] = append(r.declined[k], d.ItemID)
	}
	if opts.FuzzyThreshold > 0 { // also false for NaN
		keys := make([]string, len(r.items))
		for pos, it := range r.items {
			keys[pos] = baseKey(it.Normalized)
		}
		r.fuzzy = indexOf(keys, opts.FuzzyThreshold)
	}
	return r
}

// Resolve resolves one line, in file order; later lines see items and mappings
// created by earlier ones. Its error is ErrUnresolved, only with NoCreate.
func (r *Resolver) Resolve(l Line) (Result, error) {
	vendor := r.vendors.Get(l.Vendor)
	skuKey := mappingKey{vendor, l.VendorSKU}
	if l.VendorSKU != "" {
		if it, ok := r.sku[skuKey]; ok {
			return Result{Item: it, Method: MethodStored, Score: 1, Stable: true}, nil
		}
	}
	d := r.descriptions.Get(l.Description)
	// A description's mapping key holds its sizes: "Cups 16 oz" is not
	// mapped where "Cups 12 oz" is.
	descKey := mappingKey{vendor, d.key + d.sizeKey}
	if it, ok := r.desc[descKey]; ok {
		return Result{Item: it, Method: MethodStored, Score: 1, Stable: l.VendorSKU == "", UntilSKU: l.VendorSKU != ""}, nil
	}

	t := traitsOf(l.Description)
	d.traits = &t
	// A mapping stored before its key held sizes (or by a vocabulary that
	// read fewer of them) still resolves the line, if its item is of the
	// line's size.
	if d.sizeKey != "" {
		if it, ok := r.desc[mappingKey{vendor, d.key}]; ok {
			if pos, ok := r.pos[it]; ok && !r.conflict(pos, d) {
				r.learn(pos, &t)
				return Result{Item: it, Method: MethodStored, Score: 1}, nil
			}
		}
	}
	res := Result{Score: 1, Key: descKey.key}
	declined := r.declined[descKey]
	if pos, ok := r.exactMatch(d); ok {
		res.Item, res.Method = r.items[pos], MethodExact
		r.learn(pos, &t)
	} else if pos, ok := r.aliasMatch(d); ok {
		res.Item, res.Method = r.items[pos], MethodExact
		r.learn(pos, &t)
	} else if pos, sim, ok := r.fuzzyMatch(d, declined); ok {
		res.Item, res.Method, res.Score = r.items[pos], MethodFuzzy, sim
		if r.opts.ReviewFuzzy {
			res.Review = true
			return res, nil
		}
		r.learn(pos, &t)
	} else if r.opts.NoCreate {
		return Result{}, ErrUnresolved
	} else if slices.Contains(declined, 0) {
		return Result{}, ErrDeclined
	} else if r.opts.ReviewNew {
		// A proposed item is created later, when accepted, maybe beside
		// other proposed items of other sizes: its key holds its sizes.
		res.Item, res.Method, res.Review = r.newItem(l, d), MethodCreated, true
		res.Item.Normalized = d.key + d.sizeKey
		return res, nil
	} else if r.opts.NewItems != nil && *r.opts.NewItems <= 0 {
		return Result{}, ErrTooManyNew
	} else {
		res.Item, res.Method, res.Created = r.create(l, d), MethodCreated, true
		if r.opts.NewItems != nil {
			*r.opts.NewItems--
		}
	}

	if l.VendorSKU != "" {
		r.sku[skuKey] = res.Item
		res.NewMappings = append(res.NewMappings, Mapping{
			Vendor: vendor, KeyKind: KeySKU, Key: l.VendorSKU,
			Item: res.Item, Method: res.Method, Score: res.Score,
		})
	}
	r.desc[descKey] = res.Item
	res.NewMappings = append(res.NewMappings, Mapping{
		Vendor: vendor, KeyKind: KeyDescription, Key: descKey.key,
		Item: res.Item, Method: res.Method, Score: res.Score,
	})
	return res, nil
}

// exactMatch finds the item whose key is the description's, of the same
// size first, that does not conflict with it.
func (r *Resolver) exactMatch(d described) (int, bool) {
	if sk := d.sizeKey; sk != "" {
		if pos, ok := r.exact[d.key+sk]; ok && !r.conflict(pos, d) {
			return pos, true
		}
	}
	pos, ok := r.exact[d.key]
	return pos, ok && !r.conflict(pos, d)
}

// aliasMatch finds the item a merged name, the description's, now is.
func (r *Resolver) aliasMatch(d described) (int, bool) {
	for _, k := range []string{d.key + d.sizeKey, d.key} {
		if a, ok := r.aliases[k]; ok {
			if _, c := a.traits.conflicts(*d.traits); !c {
				return a.pos, true
			}
		}
	}
	return 0, false
}

// positionOf finds a stored item by its id; items are in id order.
func positionOf(items []*Item, id int64) (int, bool) {
	pos, ok := slices.BinarySearchFunc(items, id, func(it *Item, id int64) int {
		if it.ID == 0 { // items without an id come last
			return 1
		}
		return cmp.Compare(it.ID, id)
	})
	return pos, ok
}

func (r *Resolver) conflict(pos int, d described) bool {
	_, c := r.traitsAt(pos).conflicts(*d.traits)
	return c
}

// traitsAt reads the traits of the item at pos once: its name's, and the
// sizes its mappings' keys taught it.
func (r *Resolver) traitsAt(pos int) *traits {
	if r.traits[pos] == nil {
		t := traitsOf(r.items[pos].Name)
		r.traits[pos] = &t
		if sizes, ok := r.learned[pos]; ok {
			delete(r.learned, pos)
			r.learn(pos, &traits{sizes: sizes})
		}
	}
	return r.traits[pos]
}

// learn gives the item at pos the kinds of sizes, numbers, counts and
// qualifiers of t that its traits do not state.
func (r *Resolver) learn(pos int, t *traits) {
	it := *r.traitsAt(pos) // a copy: a created item's traits are its line's
	changed := false
	for _, kind := range sizeKinds {
		if !slices.ContainsFunc(it.sizes, func(v string) bool { return strings.HasSuffix(v, kind) }) {
			if add := having(t.sizes, kind, strings.HasSuffix); len(add) > 0 {
				it.sizes, changed = append(slices.Clone(it.sizes), add...), true
			}
		}
	}
	if len(it.fluid) == 0 && len(having(it.sizes, "ml", strings.HasSuffix)) == 0 && len(t.fluid) > 0 {
		it.fluid, changed = t.fluid, true
	}
	for _, p := range t.pieces {
		kind := strings.TrimLeft(p, "0123456789.")
		if len(having(it.pieces, kind, strings.HasSuffix)) == 0 {
			it.pieces, changed = append(slices.Clone(it.pieces), p), true
		}
	}
	if len(it.nums) == 0 && len(t.nums) > 0 {
		it.nums, changed = t.nums, true
	}
	for _, kinds := range []*[]string{&it.counts, &it.quals} {
		theirs := t.counts
		if kinds == &it.quals {
			theirs = t.quals
		}
		for _, v := range theirs {
			kind := v[:strings.IndexByte(v, '=')+1]
			if !slices.ContainsFunc(*kinds, func(w string) bool { return strings.HasPrefix(w, kind) }) {
				*kinds, changed = append(slices.Clone(*kinds), having(theirs, kind, strings.HasPrefix)...), true
			}
		}
	}
	if changed {
		slices.Sort(it.sizes)
		slices.Sort(it.counts)
		slices.Sort(it.quals)
		it.sizes, it.counts, it.quals = slices.Compact(it.sizes), slices.Compact(it.counts), slices.Compact(it.quals)
		r.traits[pos] = &it
	}
}

// fuzzyMatch finds the most similar item that does not conflict with the
// description and was not declined for it.
func (r *Resolver) fuzzyMatch(d described, declined []int64) (pos int, sim float64, ok bool) {
	if r.fuzzy == nil {
		return 0, 0, false
	}
	return r.fuzzy.best(trigrams(d.key), func(pos int) bool {
		id := r.ids[pos]
		return r.conflict(pos, d) || id != 0 && slices.Contains(declined, id)
	})
}

// newItem is the item a line would create.
func (r *Resolver) newItem(l Line, d described) *Item {
	key := d.key
	if _, taken := r.exact[key]; taken {
		key += d.sizeKey
	}
	return &Item{Name: l.Description, Normalized: key, Unit: l.Unit}
}

// create adds a new item named after the line's description; later lines
// find it by exact and fuzzy matching. When an item of another size has
// its key already, the new item's key holds its sizes.
func (r *Resolver) create(l Line, d described) *Item {
	it := r.newItem(l, d)
	key := it.Normalized
	pos := len(r.items)
	r.items = append(r.items, it)
	r.pos[it] = pos
	r.traits = append(r.traits, d.traits)
	r.ids = append(r.ids, 0)
	if _, taken := r.exact[key]; !taken {
		r.exact[key] = pos
	}
	if r.fuzzy != nil {
		r.fuzzy.add(trigrams(d.key))
	}
	return it
}
