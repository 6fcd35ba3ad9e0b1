package cmd

import (
	"testing"
	"time"
)

// Durations as operators write them: Go's, and whole days and weeks.
func TestDurationFlag(t *testing.T) {
	for in, want := range map[string]time.Duration{"36h": 36 * time.Hour, "90m": 90 * time.Minute, "7d": 7 * 24 * time.Hour,
		"2w": 14 * 24 * time.Hour, "0": 0, "-5h": -5 * time.Hour} {
		var d time.Duration
		if err := (durationFlag{&d}).Set(in); err != nil || d != want {
			t.Errorf("%q: %v, %v; want %v", in, d, err, want)
		}
	}
	for _, in := range []string{"1x", "-1d", "1.5d", "d", "7 d", ""} {
		var d time.Duration
		if err := (durationFlag{&d}).Set(in); err == nil {
			t.Errorf("%q: read as %v; want an error", in, d)
		}
	}
}
