//go:build unix

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/internal/testgen"
)

const bigRows = 200_000

// longTransactions makes an import's transactions carry about 40,000
// rows in batches of 7,500, so that a fault can strike a transaction
// whose first batches are no longer in memory.
func longTransactions(args ...string) []string {
	return append([]string{args[0], "--chunk-size", "100", "--chunks-per-commit", "400"}, args[1:]...)
}

func TestKill9ThenResume(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	g := testgen.CSV(t, t.TempDir(), "big.csv", testgen.Spec{Rows: bigRows, BadEvery: 97})
	rejects := strings.TrimSuffix(g.Path, ".csv") + ".rejects.csv"

	// Kill it three times, each time after it has committed more, with
	// four writers, then one, then four; resume with two.
	var runID, after int64
	for i, writers := range []string{"4", "1", "4"} {
		p := start(t, cfg, longTransactions("import", "--writers", writers, "--output", "json", g.Path)...)
		runID = waitForCheckpoint(t, conn, p, after)
		time.Sleep(time.Duration(i*37) * time.Millisecond)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if code := p.wait(t); code != -1 {
			t.Fatalf("kill %d: exit %d, want death by signal (the run ended too soon: %s)", i, code, p.stdout.String())
		}
		after = checkpointOf(t, conn, runID)
		if s := runStatus(t, conn, runID); s != "running" {
			t.Fatalf("after kill -9 the run is %q, want running", s)
		}
	}
	p, code := runBin(t, cfg, "import", "--writers", "2", "--output", "json", g.Path)
	if code != 3 {
		t.Fatalf("resume: exit %d, want 3\n%s\n%s", code, p.stdout.String(), p.stderr.String())
	}
	s := p.summary(t)
	if s["run_id"] != float64(runID) || s["resumed_from_line"] == nil {
		t.Errorf("resume summary %v: want run %d resumed", s, runID)
	}
	if s["rows_read"] != float64(bigRows) || s["rows_rejected"] != float64(len(g.Bad)) {
		t.Errorf("resume summary %v: want %d read, %d rejected", s, bigRows, len(g.Bad))
	}
	pgtest.CheckInvariant(t, conn, s["source_key"].(string), g.Lines, rejects)
}

func TestSIGTERMThenResume(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	g := testgen.CSV(t, t.TempDir(), "big.csv", testgen.Spec{Rows: bigRows, BadEvery: 97})
	rejects := strings.TrimSuffix(g.Path, ".csv") + ".rejects.csv"

	later := testgen.CSV(t, t.TempDir(), "later.csv", testgen.Spec{Rows: 100})
	// JSON by the config's defaults, for the file not started too.
	config := filepath.Join(t.TempDir(), "batchimport.toml")
	if err := os.WriteFile(config, []byte("[defaults]\noutput = \"json\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := start(t, cfg, longTransactions("import", "--config", config, g.Path, later.Path)...)
	runID := waitForCheckpoint(t, conn, p, 0)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != 130 {
		t.Fatalf("SIGTERM: exit %d, want 130\n%s\n%s", code, p.stdout.String(), p.stderr.String())
	}
	// One summary a file: the file not started is interrupted too.
	first, second, _ := bytes.Cut(bytes.TrimSpace(p.stdout.Bytes()), []byte("\n"))
	var s, l map[string]any
	if err := json.Unmarshal(first, &s); err != nil {
		t.Fatalf("summary %q: %v", p.stdout.String(), err)
	}
	if err := json.Unmarshal(second, &l); err != nil || l["status"] != "interrupted" || l["source"] != later.Path || l["run_id"] != nil {
		t.Errorf("the second file's summary %q (%v): want it interrupted, with no run", second, err)
	}
	if s["status"] != "interrupted" || runStatus(t, conn, runID) != "interrupted" {
		t.Fatalf("after SIGTERM: summary %v, run %s; want interrupted", s, runStatus(t, conn, runID))
	}
	if got := int64(s["rows_read"].(float64)); got == 0 || got >= bigRows {
		t.Errorf("interrupted summary read %d rows, want some but not all", got)
	}
	p, code := runBin(t, cfg, "import", "--output", "json", g.Path)
	if code != 3 {
		t.Fatalf("resume: exit %d, want 3\n%s\n%s", code, p.stdout.String(), p.stderr.String())
	}
	if s := p.summary(t); s["run_id"] != float64(runID) || s["rows_read"] != float64(bigRows) {
		t.Errorf("resume summary %v", s)
	}
	pgtest.CheckInvariant(t, conn, s["source_key"].(string), g.Lines, rejects)
}

// A server that cannot be reached when the import starts (restarting at
// the hour of a cron job) is waited for, as a connection lost later is.
func TestServerDownAtStart(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	px, down := pgtest.ThroughProxy(t, cfg)
	g := testgen.CSV(t, t.TempDir(), "early.csv", testgen.Spec{Rows: 1000})
	px.Refuse(true)
	p := start(t, down, "import", "--output", "json", g.Path)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.stderr.String(), "retrying") {
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("the import did not wait for the server: exit %d\n%s%s", p.wait(t), p.stdout.String(), p.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	px.Refuse(false)
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit %d once the server was back\n%s%s", code, p.stdout.String(), p.stderr.String())
	}
	s := p.summary(t)
	if s["status"] != "success" || s["rows_imported"] != 1000.0 {
		t.Fatalf("summary %v; want all 1000 rows imported", s)
	}
	pgtest.CheckInvariant(t, conn, s["source_key"].(string), g.Lines, "")
}

func TestServerTerminatesConnections(t *testing.T) {
	t.Parallel()
	t.Run("one writer", func(t *testing.T) {
		t.Parallel()
		serverTerminates(t, "1", bigRows, false)
	})
	t.Run("four writers", func(t *testing.T) {
		t.Parallel()
		serverTerminates(t, "4", bigRows/2, false)
	})
	// With a row in about a hundred refused, most batches are written
	// carefully, COPY by COPY in savepoints, when their connection ends.
	t.Run("four writers, rows refused", func(t *testing.T) {
		t.Parallel()
		serverTerminates(t, "4", bigRows/2, true)
	})
}

func serverTerminates(t *testing.T, writers string, rows int, refuse bool) {
	app := fmt.Sprintf("batchimport_e2e_%d", time.Now().UnixNano())
	cfg := pgtest.WithAppName(pgtest.Schema(t), app)
	conn := pgtest.Conn(t, cfg)
	var refused []int
	spec := testgen.Spec{Rows: rows}
	if refuse {
		pgtest.RefusePoison(t, conn)
		spec.Edit = func(i int, f []string) {
			if i%97 == 5 {
				f[0] = fmt.Sprintf("POISON-%d", i)
				refused = append(refused, i)
			}
		}
	}
	g := testgen.CSV(t, t.TempDir(), "clean.csv", spec)
	for i, r := range refused {
		refused[i] = g.Lines[r]
	}

	p := start(t, cfg, longTransactions("import", "--writers", writers, "--output", "json", g.Path)...)
	runID := waitForCheckpoint(t, conn, p, 0)
	terminated := 0
	for i := 0; i < 4 && !p.exited(); i++ {
		var n int
		err := conn.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE application_name = $1 AND pid <> pg_backend_pid()`, app).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		terminated += n
		waitForProgress(conn, p, checkpointOf(t, conn, runID))
	}
	if terminated == 0 {
		t.Fatal("no connection of batchimport was terminated; the test proved nothing")
	}
	want := 0 // success
	if refuse {
		want = 3 // partial success
	}
	if code := p.wait(t); code != want {
		t.Fatalf("exit %d after %d terminated connections, want %d\n%s\n%s", code, terminated, want, p.stdout.String(), p.stderr.String())
	}
	s := p.summary(t)
	status, rejects := "success", ""
	if refuse {
		status, rejects = "partial_success", s["rejects_file"].(string)
		if got := pgtest.RejectedLines(t, rejects); fmt.Sprint(got) != fmt.Sprint(refused) {
			t.Errorf("rejected lines %v, want the %d the trigger refuses %v", got, len(refused), refused)
		}
	}
	if s["run_id"] != float64(runID) || s["status"] != status || s["rows_imported"] != float64(rows-len(refused)) {
		t.Errorf("summary %v: want run %d, %s, all rows but %d", s, runID, status, len(refused))
	}
	var runs int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM import_runs`).Scan(&runs); err != nil {
		t.Fatal(err)
	}
	if runs != 1 {
		t.Errorf("%d runs, want the same one throughout", runs)
	}
	t.Logf("%d connections terminated; stderr:\n%s", terminated, p.stderr.String())
	pgtest.CheckInvariant(t, conn, s["source_key"].(string), g.Lines, rejects)
}

func TestSameFileTwiceAtOnce(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	g := testgen.CSV(t, t.TempDir(), "big.csv", testgen.Spec{Rows: bigRows, BadEvery: 97})

	first := start(t, cfg, "import", "--chunks-per-commit", "10", "--output", "json", g.Path)
	runID := waitForCheckpoint(t, conn, first, 0)
	began := time.Now()
	second, code := runBin(t, cfg, "import", "--output", "json", g.Path)
	if code != 1 {
		t.Fatalf("second process: exit %d, want 1\n%s", code, second.stdout.String())
	}
	if msg, _ := second.summary(t)["error"].(string); !strings.Contains(msg, fmt.Sprintf("run %d", runID)) {
		t.Errorf("second process error %q does not name the holder's run %d", msg, runID)
	}
	if d := time.Since(began); d > 10*time.Second {
		t.Errorf("second process took %s to give up, want at once", d)
	}
	if code := first.wait(t); code != 3 {
		t.Fatalf("first process: exit %d, want 3\n%s", code, first.stderr.String())
	}
	s := first.summary(t)
	pgtest.CheckInvariant(t, conn, s["source_key"].(string), g.Lines, strings.TrimSuffix(g.Path, ".csv")+".rejects.csv")
}

func TestTwoFilesOneAccountAtOnce(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	const rows = 100_000
	files := []*testgen.File{
		testgen.CSV(t, dir, "a.csv", testgen.Spec{Rows: rows, BadEvery: 97, Variant: 1}),
		testgen.CSV(t, dir, "b.csv", testgen.Spec{Rows: rows, BadEvery: 89, Variant: 2}),
	}
	procs := []*proc{
		start(t, cfg, "import", "--account", "shared", "--output", "json", files[0].Path),
		start(t, cfg, "import", "--account", "shared", "--output", "json", files[1].Path),
	}
	var want decimal.Decimal
	for i, p := range procs {
		if code := p.wait(t); code != 3 {
			t.Fatalf("import %d: exit %d, want 3\n%s\n%s", i, code, p.stdout.String(), p.stderr.String())
		}
		s := p.summary(t)
		f := files[i]
		pgtest.CheckInvariant(t, conn, s["source_key"].(string), f.Lines, strings.TrimSuffix(f.Path, ".csv")+".rejects.csv")
		for _, q := range f.SumQty {
			want = want.Add(q)
		}
	}
	var total string
	var items, names int
	err := conn.QueryRow(context.Background(), `SELECT sum(quantity)::text, count(*), count(DISTINCT lower(name))
		FROM inventory_items WHERE account = 'shared'`).Scan(&total, &items, &names)
	if err != nil {
		t.Fatal(err)
	}
	if !decimal.RequireFromString(total).Equal(want) {
		t.Errorf("total inventory %s, want %s: an update was lost", total, want)
	}
	if items != names {
		t.Errorf("%d items for %d distinct names: duplicates were created", items, names)
	}
	_ = filepath.Join
}
