package cmd

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// durationFlag is a duration flag that also reads whole days and weeks (7d,
// 2w), which an operator writes and time.ParseDuration does not.
type durationFlag struct{ d *time.Duration }

func (v durationFlag) String() string {
	if v.d == nil || *v.d == 0 {
		return "0" // what pflag takes for no default
	}
	return v.d.String()
}

func (v durationFlag) Type() string { return "duration" }

func (v durationFlag) Set(s string) error {
	for _, u := range []struct {
		suffix string
		size   time.Duration
	}{{"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			k, err := strconv.ParseUint(n, 10, 16)
			if err != nil {
				return fmt.Errorf("%q: want a whole number of days or weeks, as 7d or 2w, or a duration, as 36h or 90m", s)
			}
			*v.d = time.Duration(k) * u.size
			return nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q: want a duration, as 36h or 90m, or days or weeks, as 7d or 2w", s)
	}
	*v.d = d
	return nil
}
