package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/internal/testgen"
)

func TestDryrunChangesNothingAndPredictsTheImport(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	conn := pgtest.Conn(t, c.cfg)
	dir := t.TempDir()
	// Some items exist already, so the prediction covers exact matches too.
	seed := testgen.CSV(t, dir, "seed.csv", testgen.Spec{Rows: 300, Variant: 9})
	if r := c.run(context.Background(), "", "import", seed.Path); r.code != ExitOK {
		t.Fatalf("seed import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	g := testgen.CSV(t, dir, "may.csv", testgen.Spec{Rows: 3000, BadEvery: 41})
	before := pgtest.Snapshot(t, conn)

	r := c.run(context.Background(), "", "dryrun", "--output", "json", g.Path)
	if r.code != ExitPartial {
		t.Fatalf("dryrun: exit %d, want 3\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if after := pgtest.Snapshot(t, conn); after != before {
		t.Errorf("dryrun changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if _, err := os.Stat(filepath.Join(dir, "may.rejects.csv")); !os.IsNotExist(err) {
		t.Errorf("dryrun wrote a rejects file without --rejects (stat: %v)", err)
	}
	dry := decodeSummaries(t, r.stdout)[0]
	if dry["dry_run"] != "read_only" || dry["run_id"] != nil {
		t.Errorf("dry summary %v: want dry_run read_only and no run", dry)
	}

	r = c.run(context.Background(), "", "import", "--output", "json", g.Path)
	if r.code != ExitPartial {
		t.Fatalf("import: exit %d\n%s", r.code, r.stderr)
	}
	real := decodeSummaries(t, r.stdout)[0]
	for _, k := range []string{"status", "rows_read", "rows_imported", "rows_rejected", "items_created", "fuzzy_matches", "chunks", "source_key"} {
		if dry[k] != real[k] {
			t.Errorf("%s: dryrun said %v, import did %v", k, dry[k], real[k])
		}
	}

	// Once imported, dryrun says so and exits 0, as import would.
	r = c.run(context.Background(), "", "dryrun", "--output", "json", g.Path)
	if s := decodeSummaries(t, r.stdout)[0]; r.code != ExitOK || s["status"] != "skipped" || s["already_imported"] != true {
		t.Errorf("dryrun of an imported file: exit %d, %v", r.code, s)
	}
}

// A file every row of which is rejected: dryrun says so as import does,
// rejected and exit 1, naming the commonest reason, online and offline.
func TestDryrunOfAFileAllRejected(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	g := testgen.CSV(t, t.TempDir(), "bad.csv", testgen.Spec{Rows: 60, BadEvery: 1})
	var summaries []map[string]any
	for _, args := range [][]string{{"dryrun"}, {"dryrun", "--offline"}, {"import"}} {
		r := c.run(context.Background(), "", append(args, "--output", "json", g.Path)...)
		s := decodeSummaries(t, r.stdout)[0]
		if r.code != ExitFailure || s["status"] != "rejected" || s["rows_rejected"] != 60.0 {
			t.Errorf("%v: exit %d, summary %v; want exit 1, rejected, 60 rejected", args, r.code, s)
		}
		summaries = append(summaries, s)
	}
	if dry, real := summaries[0]["error"], summaries[2]["error"]; dry != real {
		t.Errorf("dryrun said %v, import %v", dry, real)
	}
}

func TestDryrunWritesRejectsOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	rejects := filepath.Join(t.TempDir(), "check.rejects.csv")
	mixed := writeFile(t, "mixed.csv", mixedCSV)
	r := c.run(context.Background(), "", "dryrun", "--rejects", rejects, "--output", "json", mixed)
	if r.code != ExitPartial {
		t.Fatalf("exit %d %s", r.code, r.stderr)
	}
	if got := pgtest.RejectedLines(t, rejects); len(got) != 2 || got[0] != 3 || got[1] != 4 {
		t.Errorf("rejected lines %v, want [3 4]", got)
	}
	if s := decodeSummaries(t, r.stdout)[0]; s["rejects_file"] != rejects {
		t.Errorf("rejects_file = %v", s["rejects_file"])
	}
}

func TestDryrunOffline(t *testing.T) {
	t.Parallel()
	mixed := writeFile(t, "mixed.csv", mixedCSV)
	for _, args := range [][]string{
		{"dryrun", "--offline", "--output", "json", mixed},
		// No database reachable: offline by itself, and it says so.
		{"dryrun", "--database-url", "host=127.0.0.1 port=1 connect_timeout=2", "--output", "json", mixed},
	} {
		c := cli{t: t, cfg: pgtest.Schema(t)}
		r := c.run(context.Background(), "", args...)
		s := decodeSummaries(t, r.stdout)[0]
		if r.code != ExitPartial || s["dry_run"] != "offline" || s["rows_imported"] != 2.0 || s["rows_rejected"] != 2.0 {
			t.Errorf("%v: exit %d, summary %v", args, r.code, s)
		}
		if strings.Contains(args[1], "database-url") && !strings.Contains(r.stderr, "no database reachable") {
			t.Errorf("offline fallback not said on stderr: %s", r.stderr)
		}
	}
}

func TestDryrunRollbackChecksTriggers(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	conn := pgtest.Conn(t, c.cfg)
	if _, err := conn.Exec(context.Background(), `ALTER TABLE transactions ADD CONSTRAINT no_eggs CHECK (description <> 'Large Eggs')`); err != nil {
		t.Fatal(err)
	}
	good := writeFile(t, "good.csv", goodCSV)
	tables := func() string {
		var s string
		if err := conn.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM transactions) || '/' ||
			(SELECT count(*) FROM inventory_items) || '/' || (SELECT count(*) FROM import_runs)`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := tables()
	// A read-only dry run cannot see the constraint; --rollback can.
	if r := c.run(context.Background(), "", "dryrun", good); r.code != ExitOK {
		t.Errorf("read-only dryrun: exit %d, want 0", r.code)
	}
	r := c.run(context.Background(), "", "dryrun", "--rollback", "--output", "json", good)
	s := decodeSummaries(t, r.stdout)[0]
	if r.code != ExitPartial || s["rows_rejected"] != 1.0 || s["chunks_replayed"] != 1.0 || s["dry_run"] != "rollback" {
		t.Errorf("rollback dryrun: exit %d, %v", r.code, s)
	}
	if after := tables(); after != before {
		t.Errorf("rollback dryrun left rows: %s → %s", before, after)
	}
}
