package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// batchimport rejects rebuilds a run's rejects file from the database, byte
// for byte, to a file or to stdout; an unknown run is an error.
func TestRejectsCommand(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	mixed := writeFile(t, "mixed.csv", mixedCSV)
	if r := c.run(context.Background(), "", "import", mixed); r.code != ExitPartial {
		t.Fatalf("import: exit %d\n%s", r.code, r.stderr)
	}
	written, err := os.ReadFile(strings.TrimSuffix(mixed, ".csv") + ".rejects.csv")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "again.csv")
	if r := c.run(context.Background(), "", "rejects", "1", "-o", out); r.code != ExitOK || !strings.Contains(r.stderr, "2 rejected records of run 1") {
		t.Fatalf("rejects -o: exit %d\n%s", r.code, r.stderr)
	}
	rebuilt, err := os.ReadFile(out)
	if err != nil || string(rebuilt) != string(written) {
		t.Errorf("rebuilt rejects file differs from the run's (%v):\n%s\nwant\n%s", err, rebuilt, written)
	}
	// A file that exists is never overwritten.
	if r := c.run(context.Background(), "", "rejects", "1", "-o", mixed); r.code != ExitFailure || !strings.Contains(r.stderr, "never overwrites") {
		t.Errorf("rejects -o over the input: exit %d\n%s", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(mixed); string(after) != mixedCSV {
		t.Errorf("rejects -o over the input changed it:\n%s", after)
	}
	if r := c.run(context.Background(), "", "rejects", "1"); r.code != ExitOK || r.stdout != string(written) {
		t.Errorf("rejects to stdout: exit %d\n%s", r.code, r.stdout)
	}
	if r := c.run(context.Background(), "", "rejects", "1", "-o", "-"); r.code != ExitOK || r.stdout != string(written) {
		t.Errorf("rejects -o -: exit %d\n%s", r.code, r.stdout)
	}
	if r := c.run(context.Background(), "", "rejects", "99"); r.code != ExitFailure || !strings.Contains(r.stderr, "run 99: no such run") {
		t.Errorf("rejects of an unknown run: exit %d, %q", r.code, r.stderr)
	}
	if r := c.run(context.Background(), "", "rejects", "x"); r.code != ExitUsage {
		t.Errorf("rejects x: exit %d, want %d", r.code, ExitUsage)
	}
}
