package store

import (
	"fmt"
	"testing"
)

// plan expects the next refused row at the pace of the last two gaps,
// from the last refused record, in this batch or a later one; with
// records that went back, or gaps that disagree, it falls back.
func TestPlanFollowsThePace(t *testing.T) {
	rows := func(first int64, n int) *Batch {
		b := &Batch{}
		for i := range n {
			b.Rows = append(b.Rows, Row{Record: first + int64(i)})
		}
		return b
	}
	for _, c := range []struct {
		name        string
		gaps        [2]int64
		last, first int64
		want        string
	}{
		{"no pace yet", [2]int64{0, 0}, 0, 1, "512 []"},
		{"steady, next in this batch", [2]int64{100, 100}, 950, 1001, "49 [1 98]"},
		{"steady, the other writer's groups between", [2]int64{100, 100}, 950, 5001, "49 [1 98]"},
		{"steady, next first", [2]int64{100, 100}, 950, 1050, "1 [64]"},
		{"within an eighth", [2]int64{100, 96}, 950, 1001, "43 [12]"},
		{"gaps disagree", [2]int64{100, 40}, 950, 1001, "512 []"},
		{"records went back", [2]int64{100, 100}, 950, 1, "512 []"},
	} {
		w := &batchWriter{s: &Store{refusalGaps: c.gaps, lastRefused: c.last}, b: rows(c.first, 3000)}
		piece, then := w.plan(0, ReplayPiece)
		if got := fmt.Sprint(piece, " ", then); got != c.want {
			t.Errorf("%s: plan %s, want %s", c.name, got, c.want)
		}
	}
}
