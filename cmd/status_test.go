package cmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStatusListsRuns(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	good := writeFile(t, "good.csv", goodCSV)
	mixed := writeFile(t, "mixed.csv", mixedCSV)
	c.run(context.Background(), "", "import", good, mixed)

	r := c.run(context.Background(), "", "status")
	if r.code != ExitOK || !strings.Contains(r.stdout, "partial_success") || !strings.Contains(r.stdout, "good.csv") {
		t.Errorf("status: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = c.run(context.Background(), "", "status", "--output", "json", "--limit", "1")
	runs := decodeSummaries(t, r.stdout)
	if len(runs) != 1 || runs[0]["status"] != "partial_success" || runs[0]["rows_rejected"] != 2.0 || runs[0]["rejects_file"] == nil {
		t.Errorf("status json: %v", runs)
	}
}

// status RUN shows one run; --status and --since pick runs; an error with
// a newline stays on its run's line.
func TestStatusOfOneRunAndFilters(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	good := writeFile(t, "good.csv", goodCSV)
	bad := writeFile(t, "bad\nname.csv", "no,header,here\n1,2,3\n")
	c.run(context.Background(), "", "import", good, bad)

	r := c.run(context.Background(), "", "status", "--output", "json")
	runs := decodeSummaries(t, r.stdout)
	if len(runs) != 2 {
		t.Fatalf("status: %d runs, want 2\n%s%s", len(runs), r.stdout, r.stderr)
	}
	failed := fmt.Sprint(runs[0]["run_id"])
	if runs[0]["status"] != "failed" || runs[1]["status"] != "success" {
		t.Fatalf("status: %v", runs)
	}

	r = c.run(context.Background(), "", "status", failed)
	if r.code != ExitOK || !strings.Contains(r.stdout, "status:") || !strings.Contains(r.stdout, "failed") ||
		!strings.Contains(r.stdout, `bad\nname.csv`) || strings.Contains(r.stdout, "bad\nname") {
		t.Errorf("status %s: exit %d\n%s%s", failed, r.code, r.stdout, r.stderr)
	}
	r = c.run(context.Background(), "", "status", "--output", "json", failed)
	if one := decodeSummaries(t, r.stdout); len(one) != 1 || fmt.Sprint(one[0]["run_id"]) != failed || one[0]["error"] == nil {
		t.Errorf("status --output json %s: %v", failed, one)
	}
	if r := c.run(context.Background(), "", "status", "999999"); r.code != ExitFailure || !strings.Contains(r.stderr, "run 999999") {
		t.Errorf("status of no run: exit %d\n%s", r.code, r.stderr)
	}

	r = c.run(context.Background(), "", "status", "--status", "failed", "--output", "json")
	if got := decodeSummaries(t, r.stdout); len(got) != 1 || got[0]["status"] != "failed" {
		t.Errorf("status --status failed: %v", got)
	}
	r = c.run(context.Background(), "", "status", "--status", "failed", "--since", "1h")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 2 || !strings.Contains(lines[1], "failed") {
		t.Errorf("status --status failed --since 1h: one line per run wanted:\n%s", r.stdout)
	}
	if r := c.run(context.Background(), "", "status", "--status", "nope"); r.code != ExitUsage {
		t.Errorf("status --status nope: exit %d, want %d", r.code, ExitUsage)
	}
	// Runs started more than a second from now are none.
	time.Sleep(1100 * time.Millisecond)
	r = c.run(context.Background(), "", "status", "--since", "1s", "--output", "json")
	if r.code != ExitOK || strings.TrimSpace(r.stdout) != "" {
		t.Errorf("status --since 1s after a second: exit %d\n%s", r.code, r.stdout)
	}
}

// A drop directory that is the input's own is refused: a move there would
// be no move, and the file must stay whole.
func TestDropDirIsNotTheInputsDirectory(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	good := writeFile(t, "good.csv", goodCSV)
	r := c.run(context.Background(), "", "import", "--done-dir", filepath.Dir(good), good)
	if _, err := os.Stat(good); r.code != ExitUsage || err != nil || !strings.Contains(r.stderr, "is the directory") {
		t.Errorf("--done-dir of the input's directory: exit %d, file %v\n%s", r.code, err, r.stderr)
	}
}

func TestPrintableEscapesControls(t *testing.T) {
	for in, want := range map[string]string{
		"may.csv":               "may.csv",
		"bad\nname.csv":         `bad\nname.csv`,
		"line 1\r\n\x1b[31mred": `line 1\r\n\x1b[31mred`,
		"Jalapeño\tfile":        `Jalapeño\tfile`,
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}
