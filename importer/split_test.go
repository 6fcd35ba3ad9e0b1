package importer

import (
	"slices"
	"testing"
	"time"

	"github.com/batchimport/batchimport/store"
)

// TestSplitHoldsBackWhatWaits splits a batch while an earlier group is in
// flight with invoice A and item x: a row waits for either, and so does
// every later row of an invoice the group holds a row of back, whether it
// follows that row or not. The rest go at once.
func TestSplitHoldsBackWhatWaits(t *testing.T) {
	s := &parallelSink{pending: map[pendingKey]*flight{}, lower: map[string]string{}}
	earlier := &flight{held: map[pendingKey]bool{}}
	x, y, z := new(int64), new(int64), new(int64)
	s.register(earlier, []pendingKey{{invoice: invoiceKey{"acct", "vendor", "A"}}, {item: x}}, false)

	row := func(invoice string, item *int64) store.Row {
		return store.Row{Account: "acct", Vendor: "Vendor", InvoiceNumber: invoice, ItemID: item}
	}
	rows := []store.Row{
		row("B", x), // item x: held
		row("B", y), // invoice B holds a row back
		row("C", y),
		row("A", y), // invoice A
		row("A", z),
		row("C", x), // item x
		row("C", z), // invoice C holds a row back now
		row("B", z), // and B still does
		row("D", z),
	}
	b := &store.Batch{Rows: rows, Ends: []int{len(rows)}, Raw: func(int) []byte { return nil }}
	f := &flight{held: map[pendingKey]bool{}}
	now, later := s.split(f, b)
	var gotNow, gotLater []string
	for _, r := range now.Rows {
		gotNow = append(gotNow, r.InvoiceNumber)
	}
	for _, r := range later.Rows {
		gotLater = append(gotLater, r.InvoiceNumber)
	}
	if want := []string{"C", "D"}; !slices.Equal(gotNow, want) {
		t.Errorf("written at once: invoices %v, want %v", gotNow, want)
	}
	if want := []string{"B", "B", "A", "A", "C", "C", "B"}; !slices.Equal(gotLater, want) {
		t.Errorf("held back: invoices %v, want %v", gotLater, want)
	}

	// Once the earlier group is harvested, nothing waits for it.
	s.forget(earlier)
	s.forget(f)
	if s.items != 0 || len(s.pending) != 0 {
		t.Fatalf("after both groups: %d items and %d keys pending, want none", s.items, len(s.pending))
	}
	g := &flight{held: map[pendingKey]bool{}}
	if now, later := s.split(g, b); later != nil || len(now.Rows) != len(rows) {
		t.Errorf("with no group in flight, %d rows held back, want none", len(rows)-len(now.Rows))
	}
}

// A new group goes to the lane that has room first, whichever it is, and
// of lanes that both have room, to the one given a group longest ago: a
// lane with a batch queued is not waited for while another has room.
func TestNewGroupGoesToTheLaneWithRoom(t *testing.T) {
	hungry := make(chan struct{}, 2)
	a := &lane{slot: make(chan struct{}, 1), jobs: make(chan job, 2), hungry: hungry, group: 1}
	b := &lane{slot: make(chan struct{}, 1), jobs: make(chan job, 2), hungry: hungry, group: 2}
	s := &parallelSink{lanes: []*lane{b, a}, hungry: hungry}
	if l := s.freeLane(); l != a {
		t.Fatalf("both lanes have room: got the lane given group %d, want the one given group 1", l.group)
	}
	// a has a batch queued now; b is given the next group at once.
	if l := s.freeLane(); l != b {
		t.Fatalf("one lane has room: got the lane given group %d, want the one given group 2", l.group)
	}
	// Both have a batch queued: the first to take its batch gets the group.
	got := make(chan *lane)
	go func() { got <- s.freeLane() }()
	select {
	case l := <-got:
		t.Fatalf("no lane has room, yet got the lane given group %d", l.group)
	case <-time.After(50 * time.Millisecond):
	}
	<-b.slot // b takes its batch
	b.tell()
	select {
	case l := <-got:
		if l != b {
			t.Fatalf("got the lane given group %d, want the one that took its batch", l.group)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a lane took its batch, and no group was given to it")
	}
}
