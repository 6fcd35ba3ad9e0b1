package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMatchesRejectsOf(t *testing.T) {
	for _, c := range []struct {
		pat, base string
		want      bool
	}{
		{"acme-*.json", "acme-1.rejects.ndjson", true},
		{"sysco*.xlsx", "sysco-november.rejects.csv", true},
		{"*.csv.gz", "may.rejects.csv", true},
		{"acme-*.json", "other-1.rejects.ndjson", false},
		{"acme-*.json", "acme-1.ndjson", false},
	} {
		if got := matchesRejectsOf(c.pat, c.base); got != c.want {
			t.Errorf("matchesRejectsOf(%q, %q) = %v, want %v", c.pat, c.base, got, c.want)
		}
	}
}

// A config is read whole, so a path that names something else by mistake
// (a device, a large invoice file) is refused at a bound, not read into
// memory: --config /dev/zero grew without end.
func TestLoadConfigBounded(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok.toml")
	long := "[defaults]\naccount = \"acme\"\n" + strings.Repeat("#\n", maxConfigBytes/2)
	if err := os.WriteFile(ok, []byte(long[:maxConfigBytes]), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := loadConfig(ok); err != nil || c.Defaults["account"] != "acme" {
		t.Errorf("a config of %d bytes: %v, %v", maxConfigBytes, c, err)
	}
	big := filepath.Join(dir, "big.toml")
	if err := os.WriteFile(big, []byte(long+"#"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadConfig(big); err == nil || !strings.Contains(err.Error(), "longer than 1048576 bytes") {
		t.Errorf("a config over the bound: %v", err)
	}
	if _, err := loadConfig("/dev/zero"); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("--config /dev/zero: %v", err)
	}
}
