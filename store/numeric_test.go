package store

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/batchimport/batchimport/internal/fixed"
)

// binNumeric writes every coefficient at every scale as the digit-by-digit
// encoding before it did: zeros, signs, the int64's limits, powers of ten
// and their neighbours, and random numbers of every length. (That encoding
// is checked against the server in TestEncodeRowBinaryCopy.)
func TestBinNumericAsBefore(t *testing.T) {
	coefs := []int64{0, 1, -1, 9999, 10000, 10001, math.MaxInt64, -math.MaxInt64}
	for p := int64(1); p <= 1e18; p *= 10 {
		coefs = append(coefs, p, p-1, p+1, -p, 7*p)
	}
	rng := rand.New(rand.NewPCG(3, 17))
	for range 200000 {
		c := rng.Int64N(pow10int(rng.IntN(19) + 1)) // up to 19 digits
		if rng.IntN(2) == 0 {
			c = -c
		}
		coefs = append(coefs, c)
	}
	for _, c := range coefs {
		for scale := int32(0); scale <= fixed.MaxDigits; scale++ {
			v := fixed.New(c, scale)
			if got, want := binNumeric(nil, v), binNumericBefore(nil, v); !bytes.Equal(got, want) {
				t.Fatalf("binNumeric(%d × 10^-%d) = %x, want %x", c, scale, got, want)
			}
		}
	}
	buf := make([]byte, 0, 64)
	v := fixed.New(-1234567891234, 4)
	if n := testing.AllocsPerRun(100, func() { buf = binNumeric(buf[:0], v) }); n != 0 {
		t.Errorf("binNumeric allocates %.0f times, want none", n)
	}
}

func pow10int(n int) int64 {
	if n > 18 {
		return math.MaxInt64
	}
	p, _ := strconv.ParseInt("1"+string(bytes.Repeat([]byte("0"), n)), 10, 64)
	return p
}

// binNumericBefore is binNumeric as it was, digit by digit from the
// coefficient's text: the reference TestBinNumericAsBefore compares with.
// It wrote a decimal as PostgreSQL's numeric: base-10000 digits
// around the decimal point, with the decimal's scale as display scale.
func binNumericBefore(dst []byte, v fixed.Decimal) []byte {
	var buf [24]byte
	c := v.Coef()
	if c < 0 {
		c = -c // no Decimal holds MinInt64
	}
	coef := strconv.AppendInt(buf[:0], c, 10)
	dscale := int(v.Scale())
	// The digits, with zeros prepended so that the integer part and the
	// fraction each fill groups of four.
	intDigits := len(coef) - dscale
	lead := 0
	if intDigits > 0 {
		lead = (4 - intDigits%4) % 4
	} else {
		lead = -intDigits
	}
	trail := (4 - dscale%4) % 4
	total := lead + len(coef) + trail
	digit := func(i int) int { // the i-th of the padded digits
		if i < lead || i >= lead+len(coef) {
			return 0
		}
		return int(coef[i-lead] - '0')
	}
	groups := make([]uint16, 0, 8)
	for i := 0; i < total; i += 4 {
		groups = append(groups, uint16(digit(i)*1000+digit(i+1)*100+digit(i+2)*10+digit(i+3)))
	}
	weight := -1 // of the first group: groups before the point, less one
	if intDigits > 0 {
		weight = (lead+intDigits)/4 - 1
	}
	// Leading and trailing zero groups are not stored.
	for len(groups) > 0 && groups[0] == 0 {
		groups, weight = groups[1:], weight-1
	}
	for len(groups) > 0 && groups[len(groups)-1] == 0 {
		groups = groups[:len(groups)-1]
	}
	sign := uint16(0)
	if v.Sign() < 0 {
		sign = 0x4000
	}
	if len(groups) == 0 {
		weight = 0
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(8+2*len(groups)))
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(groups)))
	dst = binary.BigEndian.AppendUint16(dst, uint16(int16(weight)))
	dst = binary.BigEndian.AppendUint16(dst, sign)
	dst = binary.BigEndian.AppendUint16(dst, uint16(dscale))
	for _, g := range groups {
		dst = binary.BigEndian.AppendUint16(dst, g)
	}
	return dst
}
