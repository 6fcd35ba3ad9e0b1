package invoice

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// The fast paths of Validate agree with the general code they skip.
func TestIsCalendarDateAgreesWithTimeParse(t *testing.T) {
	for _, s := range []string{"2026-11-30", "2024-02-29", "2023-02-29", "2000-02-29", "1900-02-29", "0000-01-01", "0001-01-01",
		"2026-04-31", "2026-13-01", "2026-00-10", "2026-01-00", "2026-1-01", "2026/01/01", "2026-01-0x", "+026-01-01", "2026-12-31"} {
		d, err := time.Parse(time.DateOnly, s)
		if got := isCalendarDate(s); got != (err == nil && d.Year() >= 1) {
			t.Errorf("isCalendarDate(%q) = %v, time.Parse error %v", s, got, err)
		}
	}
}

func TestCheckDecimalScale(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{{"2.50000", "2.5", true}, {"2.5001", "", false}, {"1.5e-3", "0.0015", false}, {"1.5e-2", "0.015", true},
		{"7", "7", true}, {"7.", "7", true}, {"-0.125", "-0.125", true}, {"0.1250", "0.125", true}} {
		d, err := checkDecimal(FieldQuantity, c.in, quantityScale, ValueFormat{}, false)
		if (err == nil) != c.ok {
			t.Errorf("checkDecimal(%q): error %v, want ok %v", c.in, err, c.ok)
			continue
		}
		if c.ok && !d.Decimal().Equal(decimal.RequireFromString(c.want)) {
			t.Errorf("checkDecimal(%q) = %s, want %s", c.in, d, c.want)
		}
	}
}
