package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/store"
)

// cli runs the command line in-process with test streams.
type cli struct {
	t   *testing.T
	cfg store.Config
	tty bool
}

type result struct {
	code           int
	stdout, stderr string
}

func (c cli) run(ctx context.Context, stdin string, args ...string) result {
	c.t.Helper()
	var out, errOut bytes.Buffer
	streams := IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut, ErrTTY: c.tty,
		Getenv: func(k string) string {
			if k == "BATCHIMPORT_DATABASE_URL" {
				return c.cfg.URL
			}
			return ""
		}}
	full := append([]string{args[0], "--schema", c.cfg.Schema}, args[1:]...)
	code := run(ctx, full, streams, Build{Version: "1.2.3", Commit: "abc", Date: "2026-11-28"})
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

func newCLI(t *testing.T) cli {
	return cli{t: t, cfg: pgtest.Schema(t)}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const csvHeader = "invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price\n"

const goodCSV = csvHeader +
	"A1,2026-05-04,Sysco,SY-1,Whole Milk,12,gal,3.89\n" +
	"A1,2026-05-04,Sysco,SY-2,Large Eggs,2,case,41.25\n"

const mixedCSV = csvHeader +
	"M1,2026-05-04,Sysco,SY-1,Whole Milk,12,gal,3.89\n" +
	"M1,2026-02-30,Sysco,SY-2,Large Eggs,2,case,41.25\n" +
	"M1,2026-05-04,Sysco,SY-3,Roma Tomatoes,1.2345,lb,1.49\n" +
	"M1,2026-05-04,Sysco,SY-1,Whole Milk,-1,gal,3.89\n"

func decodeSummaries(t *testing.T, stdout string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("summary line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	good := writeFile(t, "good.csv", goodCSV)
	mixed := writeFile(t, "mixed.csv", mixedCSV)
	noDesc := writeFile(t, "nodesc.csv", "invoice_number,invoice_date,vendor,quantity,unit_price\nA,2026-01-01,V,1,1\n")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	unmigrated := cli{t: t, cfg: pgtest.EmptySchema(t)}

	tests := []struct {
		name   string
		cli    cli
		ctx    context.Context
		args   []string
		code   int
		stderr string
	}{
		{"success", c, context.Background(), []string{"import", good}, ExitOK, ""},
		{"skipped is success", c, context.Background(), []string{"import", good}, ExitOK, "skipping"},
		{"partial success", c, context.Background(), []string{"import", mixed}, ExitPartial, ""},
		{"fatal header", c, context.Background(), []string{"import", noDesc}, ExitFailure, ""},
		{"missing file", c, context.Background(), []string{"import", filepath.Join(t.TempDir(), "nope.csv")}, ExitFailure, ""},
		{"schema not migrated", unmigrated, context.Background(), []string{"import", good}, ExitFailure, ""},
		{"failure wins over partial", c, context.Background(), []string{"import", "--force", mixed, noDesc}, ExitFailure, ""},
		{"unknown flag", c, context.Background(), []string{"import", "--bogus", good}, ExitUsage, "unknown flag"},
		{"no file", c, context.Background(), []string{"import"}, ExitUsage, "requires at least 1 arg"},
		{"bad output", c, context.Background(), []string{"import", "--output", "xml", good}, ExitUsage, "--output"},
		{"stdin without format", c, context.Background(), []string{"import", "-"}, ExitUsage, "--format"},
		{"bad column", c, context.Background(), []string{"import", "--column", "nosuch=x", good}, ExitUsage, "unknown field"},
		{"bad threshold", c, context.Background(), []string{"import", "--fuzzy-threshold", "2", good}, ExitUsage, "fuzzy-threshold"},
		{"record bound past memory", c, context.Background(), []string{"import", "--max-record-bytes", "16777216", good}, ExitUsage, "--max-record-bytes must be from 1 to 2097152"},
		{"chunk size past a batch", c, context.Background(), []string{"import", "--chunk-size", "10000000", good}, ExitUsage, "--chunk-size must be from 1 to 7500"},
		{"interrupted", c, cancelled, []string{"import", "--force", good}, ExitInterrupted, ""},
		{"migrate is idempotent", c, context.Background(), []string{"migrate"}, ExitOK, ""},
		{"factor of no stock", c, context.Background(), []string{"units", "set", "1", "cs", "1e400"}, ExitUsage, "below 10^15"},
		{"factor past a stock", c, context.Background(), []string{"units", "set", "1", "cs", "1000000000000000"}, ExitUsage, "below 10^15"},
		{"negative factor", c, context.Background(), []string{"units", "set", "1", "cs", "--", "-4"}, ExitUsage, "positive decimal"},
		{"factor of a point", c, context.Background(), []string{"units", "set", "1", "cs", "."}, ExitUsage, "positive decimal"},
		{"unknown command", c, context.Background(), []string{"improt", good}, ExitUsage, `unknown command "improt" for "batchimport"; did you mean import?`},
		{"unknown command of a group", c, context.Background(), []string{"items", "merg", "1", "2"}, ExitUsage, `unknown command "merg" for "batchimport items"; did you mean merge?`},
		{"a group alone shows its help", c, context.Background(), []string{"mappings"}, ExitOK, ""},
		{"corrections from a device", c, context.Background(), []string{"mappings", "apply", "/dev/zero"}, ExitUsage, "/dev/zero: not a regular file"},
		{"corrections from a directory", c, context.Background(), []string{"mappings", "apply", t.TempDir()}, ExitUsage, "not a regular file"},
	}
	for _, tt := range tests {
		r := tt.cli.run(tt.ctx, "", tt.args...)
		if r.code != tt.code {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", tt.name, r.code, tt.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stderr, tt.stderr) {
			t.Errorf("%s: stderr %q does not contain %q", tt.name, r.stderr, tt.stderr)
		}
	}
}

func TestSchemaMessageNamesMigrate(t *testing.T) {
	t.Parallel()
	c := cli{t: t, cfg: pgtest.EmptySchema(t)}
	r := c.run(context.Background(), "", "import", "--output", "json", writeFile(t, "g.csv", goodCSV))
	s := decodeSummaries(t, r.stdout)[0]
	if r.code != ExitFailure || !strings.Contains(s["error"].(string), "batchimport migrate") {
		t.Fatalf("exit %d, summary %v: want 1 and an error naming batchimport migrate", r.code, s)
	}
}

func TestJSONSummary(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	mixed := writeFile(t, "mixed.csv", mixedCSV)
	r := c.run(context.Background(), "", "import", "--output", "json", mixed)
	if r.code != ExitPartial {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	sums := decodeSummaries(t, r.stdout)
	if len(sums) != 1 {
		t.Fatalf("%d summaries, want 1", len(sums))
	}
	s := sums[0]
	for _, k := range []string{"status", "source", "source_key", "run_id", "rows_read", "rows_imported", "rows_rejected",
		"items_created", "fuzzy_matches", "chunks", "chunks_replayed", "rejects_file", "duration_seconds", "error"} {
		if _, ok := s[k]; !ok {
			t.Errorf("summary has no %q: %v", k, s)
		}
	}
	want := map[string]any{"status": "partial_success", "source": mixed, "rows_read": 4.0, "rows_imported": 2.0,
		"rows_rejected": 2.0, "items_created": 1.0, "chunks": 1.0, "chunks_replayed": 0.0, "error": nil,
		"rejects_file": strings.TrimSuffix(mixed, ".csv") + ".rejects.csv"}
	for k, v := range want {
		if s[k] != v {
			t.Errorf("%s = %v, want %v", k, s[k], v)
		}
	}
	if !strings.HasPrefix(s["source_key"].(string), "sha256:") {
		t.Errorf("source_key = %v", s["source_key"])
	}
	// Logs and progress never reach stdout: it is one JSON object per file.
	if strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("stdout has more than the summary: %q", r.stdout)
	}
}

// A run reverted by --max-rejects says so where its rows are counted: the
// rows it wrote are not in the database.
func TestTextSummaryOfARevertedRun(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	conn := pgtest.Conn(t, c.cfg)
	mixed := writeFile(t, "mixed.csv", mixedCSV)
	r := c.run(context.Background(), "", "import", "--max-rejects", "1", mixed)
	if r.code != ExitFailure || !strings.Contains(r.stdout, "rows imported   2, then reverted: nothing of this run stays\n") {
		t.Errorf("exit %d, summary:\n%s\nwant exit 1 and the 2 rows imported said reverted", r.code, r.stdout)
	}
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM transactions`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d rows in transactions (%v), want none", n, err)
	}
	// status says so too.
	if r := c.run(context.Background(), "", "status", "1"); !regexp.MustCompile(`imported: +2, then reverted: none of them stays\n`).MatchString(r.stdout) {
		t.Errorf("status of the reverted run:\n%s\nwant its 2 rows imported said reverted", r.stdout)
	}
}

// An input whose name leaves no room for its rejects file's beside it
// fails before writing anything, saying how to name one; with --rejects
// it imports.
func TestRejectsFileNameTooLong(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	long := writeFile(t, strings.Repeat("x", 248)+".csv", mixedCSV)
	r := c.run(context.Background(), "", "import", long)
	if r.code != ExitFailure || !strings.Contains(r.stdout, "(name another with --rejects PATH)") {
		t.Errorf("exit %d, summary:\n%s\nwant exit 1, naming --rejects", r.code, r.stdout)
	}
	r = c.run(context.Background(), "", "import", "--rejects", filepath.Join(t.TempDir(), "r.csv"), long)
	if r.code != ExitPartial {
		t.Errorf("with --rejects: exit %d, want 3\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestProgressOnlyOnTerminal(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := writeFile(t, "g.csv", goodCSV)
	r := c.run(context.Background(), "", "import", path)
	if strings.Contains(r.stderr, "rows (") {
		t.Errorf("progress bar drawn without a terminal: %q", r.stderr)
	}
	c.tty = true
	r = c.run(context.Background(), "", "import", "--force", path)
	if r.code != ExitOK || !strings.Contains(r.stderr, "rows (") {
		t.Errorf("no progress bar on a terminal (exit %d): %q", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "rows (") {
		t.Errorf("progress bar on stdout: %q", r.stdout)
	}
}

// The operator's loop: import, read the rejects, fix them by hand, import
// the fixed rejects file as it is. The fixed records go back to their
// invoice (not duplicates of it), and only once: the same rejects fixed
// again import nothing twice.
func TestFixRejectsAndReimport(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "may.csv")
	if err := os.WriteFile(in, []byte(
		"invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price,note\n"+
			"A1,2026-05-04,Sysco,SY-1,Whole Milk,12,gal,3.89,ok\n"+
			"A1,2026-02-30,Sysco,SY-2,Large Eggs,2,case,41.25,date typo\n"+
			"A1,2026-05-04,Sysco,SY-3,Roma Tomatoes,1.2345,lb,1.49,too precise\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := c.run(context.Background(), "", "import", in)
	if r.code != ExitPartial {
		t.Fatalf("first import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	rejects := filepath.Join(dir, "may.rejects.csv")
	b, err := os.ReadFile(rejects)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{"note,_run,_record,_line,_error", "date typo,1,2,3,", "invoice_date", "too precise,1,3,4,", "quantity"} {
		if !strings.Contains(text, want) {
			t.Errorf("rejects file lacks %q:\n%s", want, text)
		}
	}
	// Fix both rows by hand; leave _run, _record, _line and _error as they are.
	fixed := strings.NewReplacer("2026-02-30", "2026-02-28", "1.2345", "1.235").Replace(text)
	if err := os.WriteFile(rejects, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	r = c.run(context.Background(), "", "import", "--output", "json", rejects)
	if r.code != ExitOK {
		t.Fatalf("fixed rejects import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	s := decodeSummaries(t, r.stdout)[0]
	if s["rows_imported"] != 2.0 || s["rows_rejected"] != 0.0 || s["rejects_file"] != nil {
		t.Errorf("fixed import summary: %v", s)
	}
	conn := pgtest.Conn(t, c.cfg)
	var n int
	var qty string
	if err := conn.QueryRow(context.Background(), `SELECT count(*), sum(quantity)::text FROM transactions`).Scan(&n, &qty); err != nil {
		t.Fatal(err)
	}
	if n != 3 || qty != "15.235" {
		t.Errorf("transactions: %d rows summing %s, want 3 rows summing 15.235", n, qty)
	}
	// Fixed again, a little differently, the same rejects come home no more.
	again := filepath.Join(dir, "may.fixed-again.csv")
	if err := os.WriteFile(again, []byte(strings.ReplaceAll(fixed, "date typo", "date typo fixed")), 0o644); err != nil {
		t.Fatal(err)
	}
	r = c.run(context.Background(), "", "import", "--output", "json", again)
	if r.code != ExitFailure || !strings.Contains(r.stdout, "already taken back") {
		t.Fatalf("the same rejects fixed again: exit %d, want 1, every record already taken back\n%s%s", r.code, r.stdout, r.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "may.fixed-again.rejects.csv")); err != nil || !strings.Contains(string(b), "was already taken back, by run 2") {
		t.Errorf("the rejects of the second fix do not name run 2 (%v):\n%s", err, b)
	}
	if err := conn.QueryRow(context.Background(), `SELECT count(*), sum(quantity)::text FROM transactions`).Scan(&n, &qty); err != nil {
		t.Fatal(err)
	}
	if n != 3 || qty != "15.235" {
		t.Errorf("after the second fix: %d rows summing %s, want still 3 summing 15.235", n, qty)
	}
	pgtest.CheckQuantities(t, conn)
}

func TestVersion(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	code := run(context.Background(), []string{"version"}, IOStreams{Out: &out, ErrOut: &out}, Build{Version: "1.2.3", Commit: "abc", Date: "2026-11-28"})
	if code != 0 || !strings.Contains(out.String(), "1.2.3") || !strings.Contains(out.String(), "abc") {
		t.Errorf("version: exit %d, %q", code, out.String())
	}
}

func TestPasswordNeverPrinted(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	url := "postgres://alice:s3cretpw@127.0.0.1:1/nodb?connect_timeout=2"
	code := run(context.Background(), []string{"import", "--database-url", url, "--output", "json", writeFile(t, "g.csv", goodCSV)},
		IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, Build{})
	if code != ExitFailure {
		t.Errorf("exit %d, want 1", code)
	}
	if strings.Contains(out.String()+errOut.String(), "s3cretpw") {
		t.Errorf("password printed:\n%s\n%s", out.String(), errOut.String())
	}
	// Given as an input by mistake (--database-url= with a space after it),
	// a connection string is a usage error that does not show it.
	for _, args := range [][]string{
		{"import", "--database-url=", url},
		{"dryrun", "host=db user=alice password=s3cretpw"},
		{"import", "POSTGRESQL://alice:s3cretpw@db/x"},
	} {
		out.Reset()
		errOut.Reset()
		code := run(context.Background(), args, IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, Build{})
		if code != ExitUsage || strings.Contains(out.String()+errOut.String(), "s3cretpw") || !strings.Contains(errOut.String(), "--database-url") {
			t.Errorf("%q: exit %d, want %d, the password not printed, --database-url named:\n%s\n%s", args, code, ExitUsage, out.String(), errOut.String())
		}
	}
}

func TestRejectsFileMustNotBeTheInput(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	mixed := writeFile(t, "mixed.csv", mixedCSV)
	r := c.run(context.Background(), "", "import", "--rejects", mixed, mixed)
	after, _ := os.ReadFile(mixed)
	if r.code != ExitFailure || !strings.Contains(r.stderr+r.stdout, "is the input itself") || string(after) != mixedCSV {
		t.Errorf("exit %d, input intact %v:\n%s%s", r.code, string(after) == mixedCSV, r.stdout, r.stderr)
	}
}

// A file whose options cannot be made (two profiles match it) has its
// summary in the format the config's defaults give.
func TestSummaryOfAFileTwoProfilesMatchFollowsTheDefaults(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	data := writeFile(t, "amb-5.csv", goodCSV)
	config := writeFile(t, "batchimport.toml", "[defaults]\noutput = \"json\"\n\n"+
		"[profiles.one]\nmatch = [\"amb-*.csv\"]\n\n[profiles.two]\nmatch = [\"*-5.csv\"]\n")
	r := c.run(context.Background(), "", "import", "--config", config, data)
	var s map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(r.stdout)), &s); err != nil || s["status"] != "failed" ||
		!strings.Contains(fmt.Sprint(s["error"]), "matches the profiles") {
		t.Errorf("exit %d, stdout %q (%v): want a JSON summary, failed, naming the profiles", r.code, r.stdout, err)
	}
}
