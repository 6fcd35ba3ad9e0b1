package store

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/batchimport/batchimport/internal/fixed"
)

// TestStockSumIsExact adds quantities of every scale, sign and size, and
// expects the sum Decimal.Add gives: thousandths kept in an int64 must not
// round, truncate or overflow.
func TestStockSumIsExact(t *testing.T) {
	cases := [][]string{
		{"1", "2.5", "0.125", "-0.001"},
		{"999999999999999.999", "999999999999999.999", "999999999999999.999", "-0.001"},
		{"0.0001", "1.23456789", "100"},                          // finer than thousandths
		{"1e17", "1", "-1e17"},                                   // past 10^15
		{"9223372036854775807", "-0.5"},                          // the most an int64 holds
		{"-4611686018427387.903", "-4611686018427387.903", "-1"}, // past the int64 bound
	}
	for _, c := range cases {
		var got stockSum
		want := decimal.Zero
		for _, q := range c {
			d := decimal.RequireFromString(q)
			f, ok := fixed.FromDecimal(d)
			if !ok || !f.Decimal().Equal(d) {
				t.Fatalf("%s is no row's quantity", q)
			}
			got.add(f)
			want = want.Add(d)
		}
		if !got.total().Equal(want) {
			t.Errorf("sum of %v = %s, want %s", c, got.total(), want)
		}
		if text, err := decimal.NewFromString(string(got.appendText(nil))); err != nil || !text.Equal(want) {
			t.Errorf("sum of %v reads %q, want %s", c, string(got.appendText(nil)), want)
		}
	}
}

// TestStockSumText writes thousandths as the decimal they are, whatever
// their sign and size.
func TestStockSumText(t *testing.T) {
	for milli, want := range map[int64]string{
		0: "0.000", 1: "0.001", -1: "-0.001", 999: "0.999", -1000: "-1.000", 12345: "12.345",
		-120050: "-120.050", maxMilli - 1: "4611686018427387.903", -(maxMilli - 1): "-4611686018427387.903",
	} {
		if got := string((stockSum{milli: milli}).appendText(nil)); got != want {
			t.Errorf("%d thousandths read %q, want %q", milli, got, want)
		}
	}
}
