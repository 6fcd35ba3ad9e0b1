package units

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/batchimport/batchimport/internal/fixed"
)

// TestConvertIsMulThenRoundBank checks the 128-bit path against
// shopspring's own arithmetic: ties both ways, signs, exponents on either
// side of Scale, products past 64 bits, and coefficients past the path.
func TestConvertIsMulThenRoundBank(t *testing.T) {
	cases := [][2]string{
		{"1", "1"}, {"0", "0.45359237"}, {"2", "0.0005"}, {"6", "0.0005"}, {"-2", "0.0005"}, {"-6", "0.0005"},
		{"1.0015", "1"}, {"1.0025", "1"}, {"-1.0015", "1"}, {"-1.0025", "1"}, {"12.5", "0.028349523125"},
		{"1E3", "1E10"}, {"1E9", "1E9"}, {"999999999", "999999999"}, {"1234567890", "3.7854"},
		{"0.0004", "0.0001"}, {"0.000000001", "0.000000001"}, {"5", "1E-21"}, {"9", "1E-20"}, {"1", "5E-19"},
		{"123456789012345678901234567890", "0.001"},
		{"999999999999999999", "999999999999999999"}, {"-999999999999999999", "0.45359237"}, {"0.001", "1E18"},
		{"123456789012345678", "1E-18"}, {"922337203685477580.7", "10"}, {"-922337203685477580.8", "10"},
		{"9223372036854775.807", "1"}, {"1", "9223372036854775.808"}, {"2.2046226218", "-453.59237"},
		{"800000000000000.001", "12"}, {"-800000000000000.001", "12"}, {"600000000000000.001", "16"}, {"9.301", "999999999999999"},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		cases = append(cases, [2]string{randomDecimal(r), randomDecimal(r)})
	}
	for _, c := range cases {
		q, f := decimal.RequireFromString(c[0]), decimal.RequireFromString(c[1])
		qf, ok := fixed.FromDecimal(q)
		if !ok || !qf.Decimal().Equal(q) {
			continue // no quantity a line holds
		}
		// At most Scale decimals; a product an int64 cannot hold is Beyond.
		p := q.Mul(f).RoundBank(Scale)
		want, ok := fixed.FromDecimal(p)
		if !ok {
			want = fixed.Beyond(p.IsNegative())
		}
		got := Convert(qf, RateOf(f))
		if !got.Decimal().Equal(want.Decimal()) || got.Scale() > Scale {
			t.Fatalf("Convert(%s, %s) = %s (scale %d), want %s (scale %d)", c[0], c[1], got, got.Scale(), want, want.Scale())
		}
	}
}

// randomDecimal is a decimal of 1 to 18 digits, either sign, with up to 12
// decimals or a small positive exponent; ties come from coefficients
// ending in 5.
func randomDecimal(r *rand.Rand) string {
	n := int64(r.Uint64N(pow10[1+r.IntN(18)]))
	if r.IntN(4) == 0 {
		n = n/10*10 + 5
	}
	if r.IntN(2) == 0 {
		n = -n
	}
	exp := r.IntN(16) - 12
	return strconv.FormatInt(n, 10) + "E" + strconv.Itoa(exp)
}
