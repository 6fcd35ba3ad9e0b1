package cmd

import (
	"context"
	"strings"
	"testing"
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
