package cmd

import (
	"errors"
	"fmt"
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

// A key outside [defaults] and [profiles.NAME], a section misspelt among
// them, is a usage error naming it: ignored, the rows of a cron job whose
// config says [default] would go to the default account.
func TestConfigRefusesWhatIsInNoSection(t *testing.T) {
	dir := t.TempDir()
	for text, key := range map[string]string{
		"account = \"top\"\n[defaults]\noutput = \"json\"\n": "account",
		"[default]\naccount = \"acme\"\n":                    "default",
		"[profile.plain]\nmatch = [\"plain-*\"]\n":           "profile.plain",
		"[weird]\nx = 1\n":                                   "weird",
	} {
		path := filepath.Join(dir, "c.toml")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := loadConfig(path)
		var usage *usageError
		if !errors.As(err, &usage) || !strings.Contains(err.Error(), fmt.Sprintf("%q is in no section", key)) {
			t.Errorf("config %q: %v; want a usage error naming %q", text, err, key)
		}
	}
	path := filepath.Join(dir, "ok.toml")
	if err := os.WriteFile(path, []byte("[defaults]\naccount = \"acme\"\n[profiles.sysco]\nmatch = [\"sysco*\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadConfig(path); err != nil {
		t.Errorf("a config of [defaults] and [profiles.sysco]: %v", err)
	}
}

// A config is read whole, so a path that names something else by mistake
// (a large invoice file) is refused at a bound, not read into memory, and
// one that names a device is refused before it is opened: --config
// /dev/zero grew without end.
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
	// Nor is anything but a regular file opened: a device never ends, a
	// pipe waits for a writer.
	for _, path := range []string{"/dev/zero", dir} {
		if _, err := loadConfig(path); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("--config %s: %v", path, err)
		}
	}
}
