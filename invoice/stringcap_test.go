package invoice

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

// A string past the cap is cut at a character's start, never inside an
// escape: what comes out is still JSON, each string its first max bytes
// or a little more, and the cuts add up to what was dropped. Read a byte
// at a time too, so that no state is lost between reads.
func TestStringCap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pieces := []string{"a", "é", "€", "𝄞", `\"`, `\\`, `\u00e9`, `\ud834\udd1e`, `\n`, " ", "x"}
	for trial := range 300 {
		var doc strings.Builder
		doc.WriteString(`{"k":[`)
		var want []string // the strings, decoded
		for s := range 1 + r.IntN(5) {
			if s > 0 {
				doc.WriteString(", ")
			}
			var str strings.Builder
			for range r.IntN(40) {
				str.WriteString(pieces[r.IntN(len(pieces))])
			}
			doc.WriteString(`"` + str.String() + `"`)
			var v string
			if err := json.Unmarshal([]byte(`"`+str.String()+`"`), &v); err != nil {
				t.Fatal(err)
			}
			want = append(want, v)
		}
		doc.WriteString(`], "n": 12}`)
		in := doc.String()
		max := 1 + r.IntN(20)
		for _, oneByte := range []bool{false, true} {
			var src io.Reader = strings.NewReader(in)
			if oneByte {
				src = iotest.OneByteReader(src)
			}
			c := &stringCap{r: src, max: max}
			out, err := io.ReadAll(c)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				K []string
				N int
			}
			if err := json.Unmarshal(out, &got); err != nil || got.N != 12 || len(got.K) != len(want) {
				t.Fatalf("trial %d, max %d: %s -> %s: %v", trial, max, in, out, err)
			}
			for i, s := range got.K {
				if !strings.HasPrefix(want[i], s) {
					t.Fatalf("trial %d, max %d: string %d is %q, not a beginning of %q", trial, max, i, s, want[i])
				}
			}
			if dropped := c.droppedIn(0, int64(len(out))); int(dropped) != len(in)-len(out) {
				t.Fatalf("trial %d: cuts say %d bytes dropped, %d were", trial, dropped, len(in)-len(out))
			}
		}
	}
}
