package units

import "github.com/shopspring/decimal"

// Convert is a quantity in a base unit worth f each: q×f rounded half to
// even to Scale decimals, with Scale's exponent whether or not it rounds.
// It is Mul then RoundBank, worked out in an int64 when the coefficients
// are short, as nearly every line's are: through big.Int it took five
// allocations a line.
func Convert(q, f decimal.Decimal) decimal.Decimal {
	if q.NumDigits() > 9 || f.NumDigits() > 9 {
		return q.Mul(f).RoundBank(Scale)
	}
	p := q.CoefficientInt64() * f.CoefficientInt64() // under 10^18
	e := int64(q.Exponent()) + int64(f.Exponent()) + Scale
	switch {
	case e == 0:
	case e > 0:
		if e > 18 || abs(p) > maxInt64/pow10[e] {
			return q.Mul(f).RoundBank(Scale)
		}
		p *= pow10[e]
	case -e > 18:
		return q.Mul(f).RoundBank(Scale) // rounds to 0, or to ±0.001 past half
	default:
		d := pow10[-e]
		m, r := p/d, abs(p%d)
		if 2*r > d || 2*r == d && m%2 != 0 {
			if p < 0 {
				m--
			} else {
				m++
			}
		}
		p = m
	}
	return decimal.New(p, -Scale)
}

const maxInt64 = 1<<63 - 1

var pow10 = func() (t [19]int64) {
	t[0] = 1
	for i := 1; i < len(t); i++ {
		t[i] = t[i-1] * 10
	}
	return t
}()

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
