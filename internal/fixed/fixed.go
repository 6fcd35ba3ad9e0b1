// Package fixed holds the exact decimals of an invoice line, its quantity,
// price and quantity in the item's base unit, as an int64 coefficient and
// a scale. A row carries three of them: as shopspring decimals, whose
// value is a *big.Int, they were four million allocations per million
// lines, and as many pointers for the garbage collector to follow.
//
// Every value a valid line holds fits: a quantity is below 10^15 with at
// most 3 decimals, a price below 10^14 with at most 4, so their
// coefficients stay below 10^18.
package fixed

import (
	"math"
	"math/big"
	"strconv"

	"github.com/shopspring/decimal"
)

// MaxDigits is the most digits a coefficient holds: any 18-digit number
// fits in an int64.
const MaxDigits = 18

// Decimal is coef × 10^-scale, with scale from 0 to MaxDigits. The zero
// value is 0.
type Decimal struct {
	coef  int64
	scale int32
}

// New is coef × 10^-scale; scale must be from 0 to MaxDigits.
func New(coef int64, scale int32) Decimal {
	if scale < 0 || scale > MaxDigits {
		panic("fixed: scale out of range: " + strconv.Itoa(int(scale)))
	}
	return Decimal{coef: coef, scale: scale}
}

// beyond is what stands for a value too large to hold, with its sign: a
// magnitude past every limit a line or a stock has (10^15), so that it is
// refused as the exact value would be.
const beyond = math.MaxInt64

// Beyond is a value of at least 10^18 in magnitude, with the sign of neg:
// what FromDecimal gives for a value of 10^18 or more, and what its
// callers take for any of their values it cannot hold (a quantity or
// price with its few decimals, past 9.2·10^14).
func Beyond(neg bool) Decimal {
	if neg {
		return Decimal{coef: -beyond}
	}
	return Decimal{coef: beyond}
}

// Parse reads a plain decimal, as decimal.NewFromString would read it (the
// same coefficient and scale) at a fraction of the cost: an optional sign,
// at most MaxDigits digits, at most one point, no exponent. ok is false for
// any other text.
func Parse(s string) (d Decimal, ok bool) {
	i, neg := 0, false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var v int64
	var scale int32
	digits, dot := 0, false
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if digits++; digits > MaxDigits {
				return Decimal{}, false
			}
			v = v*10 + int64(c-'0')
			if dot {
				scale++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return Decimal{}, false
		}
	}
	if digits == 0 {
		return Decimal{}, false
	}
	if neg {
		v = -v
	}
	return Decimal{coef: v, scale: scale}, true
}

// FromDecimal is d exactly, at the scale of its exponent, less trailing
// zeros where that scale is past MaxDigits or the coefficient past an
// int64. A value that cannot be held so is Beyond when it is 10^18 or more
// in magnitude; ok is false for one below that.
func FromDecimal(d decimal.Decimal) (_ Decimal, ok bool) {
	e, n := d.Exponent(), d.NumDigits()
	switch {
	case n <= MaxDigits && e <= 0 && e >= -MaxDigits:
		return Decimal{coef: d.CoefficientInt64(), scale: -e}, true // nearly every value
	case d.IsZero():
		return Decimal{}, true
	case n+int(e) > MaxDigits+1: // 10^19 or more
		return Beyond(d.IsNegative()), true
	}
	big10 := n+int(e) > MaxDigits // 10^18 or more
	c, ten, rem := d.Coefficient(), big.NewInt(10), new(big.Int)
	for ; e > 0; e-- {
		c.Mul(c, ten)
	}
	for e < 0 && (e < -MaxDigits || !c.IsInt64()) {
		q, r := new(big.Int).QuoRem(c, ten, rem)
		if r.Sign() != 0 {
			break
		}
		c, e = q, e+1
	}
	switch {
	case e >= -MaxDigits && c.IsInt64() && c.Int64() != math.MinInt64:
		return Decimal{coef: c.Int64(), scale: -e}, true
	case big10:
		return Beyond(d.IsNegative()), true
	}
	return Decimal{}, false
}

// Coef is d's coefficient: d is Coef × 10^-Scale.
func (d Decimal) Coef() int64 { return d.coef }

// Scale is d's scale: its digits after the point.
func (d Decimal) Scale() int32 { return d.scale }

// IsZero says d is 0.
func (d Decimal) IsZero() bool { return d.coef == 0 }

// Sign is -1, 0 or 1.
func (d Decimal) Sign() int {
	switch {
	case d.coef < 0:
		return -1
	case d.coef > 0:
		return 1
	}
	return 0
}

// AtLeastPow10 says whether |d| >= 10^n, for n >= 0.
func (d Decimal) AtLeastPow10(n int) bool {
	e := n + int(d.scale) // |coef| >= 10^e
	if e > MaxDigits {
		return false // |coef| < 2^63 < 10^19
	}
	p := int64(1)
	for range e {
		p *= 10
	}
	return d.coef >= p || d.coef <= -p
}

// Decimal is d as a shopspring decimal, for what is not on every row's way.
func (d Decimal) Decimal() decimal.Decimal { return decimal.New(d.coef, -d.scale) }

// String is d as decimal.Decimal.String writes it: without trailing zeros
// after the point.
func (d Decimal) String() string { return d.Decimal().String() }
