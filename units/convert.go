package units

import (
	"math"
	"math/bits"

	"github.com/shopspring/decimal"

	"github.com/batchimport/batchimport/internal/fixed"
)

// Rate is what a unit is worth in a base unit, read once for the many
// lines it converts: its coefficient and exponent, when they fit in an
// int64, are kept beside it, not read through its big.Int per line.
type Rate struct {
	d     decimal.Decimal
	c     int64 // d's coefficient, when short
	e     int32 // d's exponent
	short bool  // c holds d's coefficient: at most 18 digits
	one   bool
}

// RateOf is the rate of a factor.
func RateOf(f decimal.Decimal) Rate {
	r := Rate{d: f, e: f.Exponent(), one: f.Equal(decimal.NewFromInt(1))}
	if f.NumDigits() <= 18 {
		r.c, r.short = f.CoefficientInt64(), true
	}
	return r
}

// One says the rate is 1: a quantity converts to itself.
func (r Rate) One() bool { return r.one }

// Convert is a quantity in a base unit worth r each: q×r rounded half to
// even to Scale decimals, with Scale as its scale whether or not it
// rounds. It is worked out in 128 bits when the rate's coefficient has at
// most 18 digits, as nearly every one has: through big.Int it took five
// allocations a line. A result too large for an int64 is fixed.Beyond,
// past what a stock holds, and refused as the exact value would be.
func Convert(q fixed.Decimal, r Rate) fixed.Decimal {
	if r.short {
		if v, ok := convertShort(q, r); ok {
			return fixed.New(v, Scale)
		}
	}
	p := q.Decimal().Mul(r.d).RoundBank(Scale)
	if d, ok := fixed.FromDecimal(p); ok {
		return d
	}
	// Scale decimals an int64 cannot hold: past 9.2·10^15.
	return fixed.Beyond(p.IsNegative())
}

// convertShort is Convert in 128 bits; ok is false for a result past
// 10^18 ulps or an int64.
func convertShort(q fixed.Decimal, r Rate) (v int64, ok bool) {
	qc := q.Coef()
	hi, lo := bits.Mul64(magnitude(qc), magnitude(r.c)) // |q×r| × 10^-(exponents)
	var m uint64                                        // |q×r| in units of 10^-Scale
	switch e := -int64(q.Scale()) + int64(r.e) + Scale; {
	case e >= 0:
		if hi != 0 || e > 18 {
			return 0, false
		}
		var over uint64
		if over, m = bits.Mul64(lo, pow10[e]); over != 0 {
			return 0, false
		}
	case -e > 18 || hi >= pow10[-e]:
		return 0, false // past 10^18 ulps, or a quotient past 64 bits
	default:
		d := pow10[-e]
		var rem uint64
		m, rem = bits.Div64(hi, lo, d)
		if 2*rem > d || 2*rem == d && m%2 != 0 { // rem < d ≤ 10^18: 2×rem fits
			m++
		}
	}
	if m > math.MaxInt64 {
		return 0, false
	}
	v = int64(m)
	if (qc < 0) != (r.c < 0) {
		v = -v
	}
	return v, true
}

var pow10 = func() (t [19]uint64) {
	t[0] = 1
	for i := 1; i < len(t); i++ {
		t[i] = t[i-1] * 10
	}
	return t
}()

// magnitude is |n|, MinInt64 included.
func magnitude(n int64) uint64 {
	if n < 0 {
		return uint64(-n)
	}
	return uint64(n)
}
