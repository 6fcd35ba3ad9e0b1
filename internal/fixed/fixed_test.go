package fixed

import (
	"testing"

	"github.com/shopspring/decimal"
)

// Parse reads what it takes exactly as decimal.NewFromString does: the
// same coefficient and exponent, so that stored text does not change.
func TestParseAgreesWithNewFromString(t *testing.T) {
	for _, s := range []string{"0", "12", "-3", "+4.5", "1.", ".5", "007.50", "-0.000", "999999999999999999",
		"123456789012345.678", "-.25", "3.890", "1000000", "-999999999999999999", ".000000000000000001"} {
		d, ok := Parse(s)
		want, err := decimal.NewFromString(s)
		if !ok || err != nil {
			t.Errorf("%q: Parse ok %v, NewFromString %v", s, ok, err)
			continue
		}
		if d.Coef() != want.CoefficientInt64() || -d.Scale() != want.Exponent() || !d.Decimal().Equal(want) || d.String() != want.String() {
			t.Errorf("%q: Parse %s (%d e%d), NewFromString %s (%s e%d)", s, d, d.Coef(), -d.Scale(),
				want, want.Coefficient(), want.Exponent())
		}
	}
	for _, s := range []string{"", "-", ".", "1e2", "1.2.3", "1,5", "1234567890123456789", " 1", "+-1", "0.0000000000000000001"} {
		if d, ok := Parse(s); ok {
			t.Errorf("Parse(%q) = %s, want not taken", s, d)
		}
	}
}

// FromDecimal keeps what fits exactly and makes the rest Beyond, a value
// as far past every limit as the one it stands for.
func TestFromDecimal(t *testing.T) {
	for s, want := range map[string]string{
		"0": "0", "0e5": "0", "-0.000": "0", "1e2": "100", "12.5e-1": "1.25", "-7.125": "-7.125",
		"999999999999999999": "999999999999999999", "1e17": "100000000000000000", "0.000000000000000001": "0.000000000000000001",
		"1e18": "1000000000000000000", "9223372036854775807": "9223372036854775807", "9223372036854775808": "9223372036854775807", "-9.3e18": "-9223372036854775807", "12345678901234567.89": "12345678901234567.89", "1.500000000000000000000": "1.5", "1000000000000000000000e-3": "1000000000000000000", "9999999999999999999.5": "9223372036854775807", "-12345678901234567890.5": "-9223372036854775807", "1e400": "9223372036854775807",
	} {
		d, ok := FromDecimal(decimal.RequireFromString(s))
		if !ok || d.String() != want {
			t.Errorf("FromDecimal(%s) = %s, %v; want %s", s, d, ok, want)
		}
	}
	// More than MaxDigits decimals, or digits, below 10^18: not taken.
	for _, s := range []string{"0.0000000000000000001", "1.00000000000000000001", "-923456789012345678.9"} {
		if d, ok := FromDecimal(decimal.RequireFromString(s)); ok {
			t.Errorf("FromDecimal(%s) = %s, want not taken", s, d)
		}
	}
}

func TestAtLeastPow10(t *testing.T) {
	for _, s := range []string{"1", "-1", "999999999999999", "1000000000000000", "-1000000000000000", "999999999999999.999",
		"1e15", "0.1e16", "99999999999999.9999", "100000000000000", "1e14", "0.00001", "0", "999999999999999999", "-0.000000000000000001"} {
		want := decimal.RequireFromString(s)
		d, ok := FromDecimal(want)
		if !ok {
			t.Fatalf("FromDecimal(%s) not taken", s)
		}
		for _, n := range []int{0, 14, 15, 17, 18, 30} {
			if got, want := d.AtLeastPow10(n), want.Abs().Cmp(decimal.New(1, int32(n))) >= 0; got != want {
				t.Errorf("AtLeastPow10(%s, %d) = %v, want %v", s, n, got, want)
			}
		}
	}
	if !Beyond(true).AtLeastPow10(15) || Beyond(true).Sign() >= 0 || !Beyond(false).AtLeastPow10(18) || Beyond(false).Sign() <= 0 {
		t.Error("Beyond is not past 10^18 with its sign")
	}
}
