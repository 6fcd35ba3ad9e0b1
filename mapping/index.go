package mapping

import (
	"cmp"
	"math"
	"slices"
)

// index finds, among the items, the one whose normalized name has the highest
// trigram similarity to a query, without scanning the catalogue.
//
// It is a prefix-filter index (the technique of set-similarity joins such as
// AllPairs and PPJoin): fix a total order on trigrams, rarest first. Two
// trigram sets of sizes nx and ny with similarity (Jaccard) s have
// c >= s*max(nx, ny) trigrams in common, and the first k of those, in that
// order, lie within the first n-ceil(s*n)+k trigrams of each set (k <= c).
// So each item is indexed only under that prefix of its rarest trigrams (for
// the resolver's threshold t); a look-up counts, over the query's own prefix,
// how many trigrams each item shares there, and computes the similarity of
// only the items that share k of them (k = shared, or fewer when the query is
// so short that c may be smaller). Common trigrams ("  c", "en ") are seldom
// in any item's prefix, so posting lists stay short, and an item that shares
// a rare trigram or two with the query by chance (another brand with the same
// syllable) costs counter increments, not a comparison. The look-up also
// raises s from t to the best similarity found so far, which shortens the
// query prefix as it goes. Each filter only skips items that cannot reach s,
// so the result is exact.
type index struct {
	threshold float64
	// ids numbers the trigrams of the items, densely, in the order they
	// were first met; what the index keeps is by these numbers, which
	// take half the room of a trigram and index slices rather than maps.
	ids map[trigram]uint32
	// df is the number of items holding each trigram (by id) when the
	// index was last built; it defines the global order (rarest first,
	// then by id). Trigrams of items added later keep that rank (0 when
	// new): correctness needs only that every posting follows the order
	// the look-ups use, so the index is built again, whole, once the items
	// have doubled (rebuild).
	df    []int32
	built int // items when df was counted
	// sets holds every item's trigram ids, each item's sorted, one after
	// another: item i's are sets[starts[i]:starts[i+1]]. One array, not
	// a slice per item: the sets of 100,000 items of 35 characters are
	// some 3.6 million trigrams.
	sets     []uint32
	starts   []uint32
	postings [][]int32 // by trigram id: item positions whose prefix holds it

	// Per look-up scratch space, by item position: seen[i] == epoch when
	// item i was met by the current look-up (an epoch per look-up avoids
	// clearing the slice), count[i] how many prefix trigrams it shares.
	seen  []uint32
	count []int32
	epoch uint32
	// query, ranks and ordered are scratch space of look-ups and inOrder.
	query   []uint32
	ranks   []ranked
	ordered []uint32

	// comparisons counts the similarity computations of the last look-up,
	// and visited the postings it read, so that tests can check that
	// look-ups stay far below a catalogue scan.
	comparisons, visited int
}

// newIndex indexes the trigram sets of items, in position order, for look-ups
// with similarity at least threshold (> 0).
func newIndex(sets [][]trigram, threshold float64) *index {
	ix := &index{threshold: threshold, ids: map[trigram]uint32{}, starts: []uint32{0}}
	for _, set := range sets {
		ix.keep(set)
	}
	ix.rebuild()
	return ix
}

// indexOf indexes the trigram sets of the keys of items, in position
// order. Their trigrams are counted first, so that the one array of them
// is allocated once, not grown a quarter at a time (which allocated five
// times its size, for 100,000 items), and each set is made in the same
// scratch space.
func indexOf(keys []string, threshold float64) *index {
	total := 0
	for _, k := range keys {
		total += maxTrigrams(k)
	}
	ix := &index{threshold: threshold, ids: map[trigram]uint32{}, starts: []uint32{0}, sets: make([]uint32, 0, total)}
	var set []trigram
	for _, k := range keys {
		set = appendTrigrams(set[:0], k)
		ix.keep(set)
	}
	ix.rebuild()
	return ix
}

// keep stores the next item's trigram set, without indexing it.
func (ix *index) keep(set []trigram) {
	from := len(ix.sets)
	for _, g := range set {
		id, ok := ix.ids[g]
		if !ok {
			id = uint32(len(ix.ids))
			ix.ids[g] = id
		}
		ix.sets = append(ix.sets, id)
	}
	slices.Sort(ix.sets[from:])
	ix.starts = append(ix.starts, uint32(len(ix.sets)))
	ix.seen = append(ix.seen, 0)
	ix.count = append(ix.count, 0)
}

// items is how many items the index holds.
func (ix *index) items() int { return len(ix.starts) - 1 }

// set is the trigram ids of the item at pos.
func (ix *index) set(pos int32) []uint32 {
	return ix.sets[ix.starts[pos]:ix.starts[pos+1]]
}

// minRebuild is the fewest items an index is built again for: below it,
// a look-up reads short postings whatever their order.
const minRebuild = 1024

// add indexes the next item (its position is the number of items so far).
// An index that has doubled since it was built is built again: a
// catalogue that a run creates from nothing has no ranks at first, and
// the trigrams first in id order would otherwise index every item, making
// each look-up read a good part of the catalogue. Doubling keeps the cost
// of all rebuilds within twice that of the last.
func (ix *index) add(set []trigram) {
	ix.keep(set)
	if n := ix.items(); n >= minRebuild && n >= 2*ix.built {
		ix.rebuild()
		return
	}
	pos := int32(ix.items() - 1)
	ix.post(pos, ix.set(pos))
}

// rebuild counts the trigrams of every item again, and indexes each under
// the prefix of its rarest ones.
func (ix *index) rebuild() {
	ix.df, ix.postings, ix.built = make([]int32, len(ix.ids)), make([][]int32, len(ix.ids)), ix.items()
	for _, id := range ix.sets {
		ix.df[id]++
	}
	for pos := range int32(ix.items()) {
		ix.post(pos, ix.set(pos))
	}
}

// post indexes the item at pos under the prefix of its trigram set.
func (ix *index) post(pos int32, set []uint32) {
	ordered := ix.inOrder(set)
	for _, id := range ordered[:min(len(set), prefixLen(len(set), ix.threshold)+shared-1)] {
		if int(id) >= len(ix.postings) {
			ix.postings = append(ix.postings, make([][]int32, int(id)+1-len(ix.postings))...)
		}
		ix.postings[id] = append(ix.postings[id], pos)
	}
}

// inOrder returns set sorted in the global order, in scratch space that
// the next call reuses. Each trigram's rank is read once, not at every
// comparison of the sort.
func (ix *index) inOrder(set []uint32) []uint32 {
	rs := ix.ranks[:0]
	for _, id := range set {
		var df int32
		if int(id) < len(ix.df) {
			df = ix.df[id]
		}
		rs = append(rs, ranked{df: df, id: id})
	}
	slices.SortFunc(rs, func(a, b ranked) int {
		if c := cmp.Compare(a.df, b.df); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	out := ix.ordered[:0]
	for _, r := range rs {
		out = append(out, r.id)
	}
	ix.ranks, ix.ordered = rs, out
	return out
}

// ranked is a trigram's id with its number of items, by which it is
// ordered.
type ranked struct {
	df int32
	id uint32
}

// shared is how many prefix trigrams an item must share with the query before
// its similarity is computed. Each step up lengthens every prefix by one
// trigram and makes chance candidates rarer. On the synthetic catalogue of
// BenchmarkFuzzyLookup at 100k items, 2 made twice the comparisons of 3 and
// took three times as long; 4 made fewer comparisons but was no faster.
const shared = 3

// minOverlap is the fewest trigrams that a set of n trigrams shares with any
// set whose similarity to it is at least s (> 0): ceil(s*n), and at least 1.
func minOverlap(n int, s float64) int {
	// The small slack keeps rounding (0.6*5 = 3.0000000000000004) from
	// raising the bound; a lower bound is always safe.
	return max(int(math.Ceil(s*float64(n)-1e-9)), 1)
}

// prefixLen is how many of a set's n trigrams (in the global order) hold the
// first common trigram with any set at least s similar to it.
func prefixLen(n int, s float64) int {
	return max(n-minOverlap(n, s)+1, 0)
}

// best returns the position of the item most similar to the query trigram set
// q (sorted), with its similarity, among items whose similarity is at least
// the index threshold and that skip does not rule out (nil: none is); ties go
// to the lowest position. ok is false when no item reaches the threshold.
func (ix *index) best(q []trigram, skip func(pos int) bool) (pos int, sim float64, ok bool) {
	ix.comparisons, ix.visited = 0, 0
	nq := len(q)
	if nq == 0 {
		return 0, 0, false
	}
	ix.epoch++
	if ix.epoch == 0 { // wrapped: forget every stale mark once
		clear(ix.seen)
		ix.epoch = 1
	}

	// Count, for each item met in the postings of the query's prefix
	// (extended by shared-1), the trigrams it shares there, and compare the
	// item once it shares need of them: an item at least s similar has its
	// first need common trigrams within both extended prefixes. The query
	// prefix shrinks as the best similarity found so far, s, grows; s never
	// exceeds the similarity of the best item, so that item's first common
	// trigrams always remain within it.
	need := int32(min(minOverlap(nq, ix.threshold), shared))
	// A trigram of the query that no item holds comes first in the global
	// order and has no postings: the prefix passes over it.
	known := ix.known(q)
	unknown := nq - len(known)
	ordered := ix.inOrder(known)
	bestPos, bestSim := -1, ix.threshold
	for i := 0; i < min(nq, prefixLen(nq, bestSim)+shared-1)-unknown; i++ {
		var ps []int32
		if id := ordered[i]; int(id) < len(ix.postings) {
			ps = ix.postings[id]
		}
		ix.visited += len(ps)
		for _, p := range ps {
			if ix.seen[p] != ix.epoch {
				ix.seen[p], ix.count[p] = ix.epoch, 0
			}
			ix.count[p]++
			if ix.count[p] != need {
				continue
			}
			set := ix.set(p)
			nx := len(set)
			// Length filter: similarity is at most min(nq,nx)/max(nq,nx).
			if float64(nx) < bestSim*float64(nq)-1e-9 || float64(nq) < bestSim*float64(nx)-1e-9 {
				continue
			}
			ix.comparisons++
			s := jaccard(overlap(known, set), nq, nx)
			if (s > bestSim || s == bestSim && (bestPos < 0 || int(p) < bestPos)) && (skip == nil || !skip(int(p))) {
				bestPos, bestSim = int(p), s
			}
		}
	}
	if bestPos < 0 {
		return 0, 0, false
	}
	return bestPos, bestSim, true
}

// known is the ids of the query's trigrams that some item holds, sorted,
// in scratch space that the next call reuses.
func (ix *index) known(q []trigram) []uint32 {
	out := ix.query[:0]
	for _, g := range q {
		if id, ok := ix.ids[g]; ok {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	ix.query = out
	return out
}
