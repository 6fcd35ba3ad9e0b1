//go:build unix

package e2e

// Exactly once under real operations (SPEC §12): a paused writer is fenced,
// a lost COMMIT reply is neither lost nor doubled, over-long keys are rejects
// and never wedge a run, a --source-id is bound to its bytes, a file that
// changes under its run is reverted, and a rejects file that cannot be
// written fails the run before anything is written.

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/internal/testgen"
	"github.com/batchimport/batchimport/store"
)

// ---------------------------------------------------------------------------
// helpers

// startStdin is start with the file at path as batchimport's standard input.
func startStdin(t *testing.T, cfg store.Config, path string, args ...string) *proc {
	t.Helper()
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close() // the child has its own descriptor
	return startWith(t, cfg, in, args...)
}

// uniqueAppName is an application_name no other test uses (at most 63
// bytes, PostgreSQL's limit).
func uniqueAppName(tag string) string {
	return fmt.Sprintf("bi_%s_%d_%d", tag, os.Getpid(), time.Now().UnixNano())
}

// backendsOf counts the server's backends whose application_name is app.
func backendsOf(t *testing.T, conn *pgx.Conn, app string) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE application_name = $1 AND pid <> pg_backend_pid()`, app).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitNoBackends polls until no backend of app is left: a killed or
// terminated process's session (and its advisory locks) is gone then.
func waitNoBackends(t *testing.T, conn *pgx.Conn, app string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for backendsOf(t, conn, app) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the backends of %s are still there after 30 s", app)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// terminateBackends terminates every backend of app, waits until they are
// gone, and says how many there were.
func terminateBackends(t *testing.T, conn *pgx.Conn, app string) int {
	t.Helper()
	var n int
	err := conn.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000))
		FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`, app).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	waitNoBackends(t, conn, app)
	return n
}

// queryInt runs a query of one integer.
func queryInt(t *testing.T, conn *pgx.Conn, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// errorOf is the error of a JSON summary, "" when it has none.
func errorOf(t *testing.T, p *proc) string {
	t.Helper()
	msg, _ := p.summary(t)["error"].(string)
	return msg
}

// namesRun says whether msg names run id ("run 1" is not "run 12").
func namesRun(msg string, id int64) bool {
	return regexp.MustCompile(fmt.Sprintf(`\brun %d\b`, id)).MatchString(msg)
}

// outputs is what a process printed, for failure messages.
func outputs(p *proc) string {
	return fmt.Sprintf("stdout:\n%s\nstderr:\n%s", p.stdout.String(), p.stderr.String())
}

// defaultRejects is the default rejects file of a CSV input.
func defaultRejects(path string) string { return strings.TrimSuffix(path, ".csv") + ".rejects.csv" }

// wantSummary checks counts of a JSON summary.
func wantSummary(t *testing.T, s map[string]any, runID int64, read, rejected int) {
	t.Helper()
	if s["run_id"] != float64(runID) {
		t.Errorf("summary names run %v, want run %d: %v", s["run_id"], runID, s)
	}
	if s["rows_read"] != float64(read) || s["rows_rejected"] != float64(rejected) || s["rows_imported"] != float64(read-rejected) {
		t.Errorf("summary %v: want %d rows read, %d rejected, %d imported", s, read, rejected, read-rejected)
	}
}

// ---------------------------------------------------------------------------
// 1. A paused writer is fenced.

// A writer is paused (SIGSTOP) after its first checkpoint and its
// connection terminated, so that it loses the source's lock; a second
// process takes the run over and goes on with it. When the first writer
// wakes up, it must not commit anything more, and exits 1 naming the
// holder: while the second process still runs, and after it finished.
func TestPausedWriterIsFenced(t *testing.T) {
	t.Parallel()
	t.Run("woken while the new writer runs", func(t *testing.T) {
		t.Parallel()
		pausedWriter(t, false)
	})
	t.Run("woken after the new writer finished", func(t *testing.T) {
		t.Parallel()
		pausedWriter(t, true)
	})
}

func pausedWriter(t *testing.T, wakeAfterB bool) {
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	g := testgen.CSV(t, t.TempDir(), "big.csv", testgen.Spec{Rows: bigRows, BadEvery: 97})
	rejects := defaultRejects(g.Path)

	// A has four writers, then B one; or A one, then B four.
	writersA, writersB := "4", "1"
	if wakeAfterB {
		writersA, writersB = writersB, writersA
	}
	nameA, nameB := uniqueAppName("fenceA"), uniqueAppName("fenceB")
	a := start(t, pgtest.WithAppName(cfg, nameA), longTransactions("import", "--writers", writersA, "--output", "json", g.Path)...)
	runID := waitForCheckpoint(t, conn, a, 0)
	if err := a.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.cmd.Process.Signal(syscall.SIGCONT) })
	if n := terminateBackends(t, conn, nameA); n == 0 {
		t.Fatalf("A had no backend to terminate; the test proved nothing\n%s", outputs(a))
	}
	if a.exited() {
		t.Fatalf("A ended (exit %d) before it was paused\n%s", a.code, outputs(a))
	}
	pausedAt := checkpointOf(t, conn, runID)
	t.Logf("A paused with run %d at line %d, its connection terminated", runID, pausedAt)

	b := start(t, pgtest.WithAppName(cfg, nameB), "import", "--writers", writersB, "--output", "json", g.Path)
	if id := waitForCheckpoint(t, conn, b, pausedAt); id != runID {
		t.Fatalf("B committed to run %d, want it to go on with run %d", id, runID)
	}
	var ownerB string
	if err := conn.QueryRow(context.Background(), `SELECT owner FROM runs WHERE id = $1`, runID).Scan(&ownerB); err != nil {
		t.Fatal(err)
	}

	var before string
	var rejectsBefore []byte
	if wakeAfterB {
		if code := b.wait(t); code != 3 {
			t.Fatalf("B: exit %d, want 3\n%s", code, outputs(b))
		}
		before = pgtest.Snapshot(t, conn)
		var err error
		if rejectsBefore, err = os.ReadFile(rejects); err != nil {
			t.Fatalf("B wrote no rejects file: %v", err)
		}
	} else if b.exited() {
		t.Fatalf("B ended (exit %d) before A could be woken while it runs\n%s", b.code, outputs(b))
	}

	woken := time.Now()
	if err := a.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if code := a.wait(t); code != 1 {
		t.Fatalf("A after SIGCONT: exit %d, want 1\n%s", code, outputs(a))
	}
	bRunning := !b.exited()
	msgA := errorOf(t, a)
	t.Logf("A gave up %s after SIGCONT (B still running: %t): %s", time.Since(woken).Round(time.Millisecond), bRunning, msgA)
	// Woken while B runs, A finds the source locked (or, should B finish
	// first, the run taken over); woken after B, the run taken over.
	fenced := strings.Contains(msgA, "was taken over by another process") ||
		!wakeAfterB && strings.Contains(msgA, "is being imported by another process")
	if !namesRun(msgA, runID) || !fenced {
		t.Errorf("A's error %q: want it to name run %d and its holder", msgA, runID)
	}
	if strings.Contains(a.stderr.String(), "the transaction had committed before the connection was lost") {
		t.Errorf("A took B's commits for its own:\n%s", a.stderr.String())
	}
	if !strings.Contains(msgA, ownerB) {
		t.Errorf("A's error %q does not name the holder %q", msgA, ownerB)
	}
	if s := a.summary(t); s["status"] != "failed" {
		t.Errorf("A's summary %v: want status failed", s)
	}

	if wakeAfterB {
		if after := pgtest.Snapshot(t, conn); after != before {
			t.Errorf("A wrote after it was woken:\nbefore %s\nafter  %s", before, after)
		}
		if got, err := os.ReadFile(rejects); err != nil || !bytes.Equal(got, rejectsBefore) {
			t.Errorf("A changed B's rejects file (%v)", err)
		}
	} else if code := b.wait(t); code != 3 {
		t.Fatalf("B: exit %d, want 3\n%s", code, outputs(b))
	}

	var runs, owners int64
	err := conn.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE owner = $1) FROM runs`, ownerB).Scan(&runs, &owners)
	if err != nil {
		t.Fatal(err)
	}
	if runs != 1 || owners != 1 {
		t.Errorf("%d runs, %d of them owned by B: want the one run, B's", runs, owners)
	}
	if s := runStatus(t, conn, runID); s != "partial_success" {
		t.Errorf("run %d is %q, want partial_success", runID, s)
	}
	s := b.summary(t)
	if s["status"] != "partial_success" {
		t.Errorf("B's summary %v: want partial_success", s)
	}
	wantSummary(t, s, runID, bigRows, len(g.Bad))
	pgtest.CheckInvariant(t, conn, s["source_key"].(string), g.Lines, rejects)
}

// ---------------------------------------------------------------------------
// 2. A lost COMMIT reply.

// The server commits a batch but its reply never arrives (a proxy withholds
// it and drops the connection): the importer reconnects, finds the batch
// committed, and goes on without writing it again.
func TestLostCommitReply(t *testing.T) {
	t.Parallel()
	t.Run("file", func(t *testing.T) {
		t.Parallel()
		lostCommitReply(t, false, "1")
	})
	t.Run("file, four writers", func(t *testing.T) {
		t.Parallel()
		lostCommitReply(t, false, "4")
	})
	t.Run("stdin", func(t *testing.T) {
		t.Parallel()
		lostCommitReply(t, true, "1")
	})
}

func lostCommitReply(t *testing.T, stdin bool, writers string) {
	const rows, drops = 100_000, 3
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg) // directly to the server: the proxy drops only the importer's replies
	px, proxied := pgtest.ThroughProxy(t, cfg)
	dir := t.TempDir()
	g := testgen.CSV(t, dir, "lost.csv", testgen.Spec{Rows: rows, BadEvery: 97})

	var p *proc
	rejects := defaultRejects(g.Path)
	if stdin {
		rejects = filepath.Join(dir, "stdin.rejects.csv")
		p = startStdin(t, proxied, g.Path, "import", "--format", "csv", "--source-id", "lost-reply-stdin",
			"--rejects", rejects, "--chunks-per-commit", "2", "--output", "json", "-")
	} else {
		p = start(t, proxied, "import", "--writers", writers, "--chunks-per-commit", "2", "--output", "json", g.Path)
	}
	runID := waitForCheckpoint(t, conn, p, 0)
	px.DropCommitReplies(drops)
	if code := p.wait(t); code != 3 {
		t.Fatalf("exit %d, want 3 (some rows are invalid)\n%s", code, outputs(p))
	}
	dropped := px.Dropped()
	found := strings.Count(p.stderr.String(), "the transaction had committed before the connection was lost")
	t.Logf("%d COMMIT replies dropped; %d batches found committed after reconnecting", dropped, found)
	if dropped == 0 {
		t.Fatalf("no COMMIT reply was dropped; the test proved nothing\n%s", outputs(p))
	}
	if found == 0 {
		t.Errorf("the importer never found a batch committed whose reply was lost; stderr:\n%s", p.stderr.String())
	}
	if found != dropped {
		t.Errorf("%d COMMIT replies dropped but %d batches found committed after reconnecting; stderr:\n%s", dropped, found, p.stderr.String())
	}
	s := p.summary(t)
	if s["status"] != "partial_success" {
		t.Errorf("summary %v: want partial_success", s)
	}
	wantSummary(t, s, runID, rows, len(g.Bad))
	if n := queryInt(t, conn, `SELECT count(*) FROM import_runs`); n != 1 {
		t.Errorf("%d runs, want 1", n)
	}
	pgtest.CheckInvariant(t, conn, s["source_key"].(string), g.Lines, rejects)

	data, err := os.ReadFile(rejects)
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		t.Errorf("the rejects file holds a NUL byte at offset %d", i)
	}
	inFile := pgtest.RejectedLines(t, rejects)
	slices.Sort(inFile)
	var bad []int
	for l := range g.Bad {
		bad = append(bad, l)
	}
	slices.Sort(bad)
	if !slices.Equal(inFile, bad) {
		t.Errorf("the rejects file holds %d records, want the %d invalid lines exactly", len(inFile), len(bad))
	}
}

// ---------------------------------------------------------------------------
// 3. Over-long keys.

// randomRunes returns n runes drawn from [lo, hi].
func randomRunes(rng *rand.Rand, n int, lo, hi rune) string {
	var b strings.Builder
	for range n {
		b.WriteRune(lo + rune(rng.IntN(int(hi-lo+1))))
	}
	return b.String()
}

// Rows whose keys cannot be stored are rejects, each for its own reason,
// and the rest of the file is imported: (a) an account of 3,000 characters
// (validation), (b) a vendor and a description too long together for the
// item-mapping key (the importer's own check), (c) an index row too large
// for the database (SQLSTATE 54000, raised by PostgreSQL during the COPY).
func TestOverlongKeysNeverWedgeARun(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	// Key columns (description, vendor_sku), at most 500 + 64 characters,
	// hold at most 2,256 bytes: under btree's limit of 2,704 bytes. The
	// index also carries invoice_number and vendor, so that a row of long
	// 4-byte text in all four does not fit.
	idx := `CREATE INDEX transactions_lookup ON ` + pgx.Identifier{cfg.Schema, "transactions"}.Sanitize() +
		` (description, vendor_sku) INCLUDE (invoice_number, vendor)`
	if _, err := conn.Exec(context.Background(), idx); err != nil {
		t.Fatal(err)
	}

	const rows = 3000
	seed := time.Now().UnixNano()
	t.Logf("random seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 54000))
	emoji := func(n int) string { return randomRunes(rng, n, 0x1F300, 0x1F5FF) } // 4 bytes each, not letters: kept whole as keys
	letters := func(n int) string { return randomRunes(rng, n, 'a', 'z') }

	var csv bytes.Buffer
	csv.WriteString("invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price,account\n")
	var lines []int
	want := map[int]string{} // line → what its reason must say
	kinds := map[string]int{}
	for i := range rows {
		line := i + 2
		lines = append(lines, line)
		f := []string{fmt.Sprintf("INV-%d", i/20), "2026-05-04", fmt.Sprintf("Vendor %d", i%7), fmt.Sprintf("SKU-%d", i%40),
			fmt.Sprintf("Plain Product %c%c", 'A'+i%40/8, 'A'+i%8), fmt.Sprint(i%9 + 1), "ea", "1.25", ""}
		switch i % 250 {
		case 17: // (a)
			f[8] = letters(3000)
			want[line], kinds["a"] = "account: must be at most 64 characters", kinds["a"]+1
		case 101: // (b): 800 + 2,000 bytes with the vendor
			f[2], f[4] = emoji(200), emoji(500)
			want[line], kinds["b"] = "description: with the vendor and account, must fit in a key", kinds["b"]+1
		case 211, 212: // (c): 2,000 + 256 + 256 + 240 bytes in the index row
			f[4], f[3], f[0], f[2] = emoji(500), emoji(64), emoji(64), emoji(60)
			want[line], kinds["c"] = "database refused the row: SQLSTATE 54000: ", kinds["c"]+1
		}
		csv.WriteString(strings.Join(f, ",") + "\n")
	}
	path := filepath.Join(t.TempDir(), "long.csv")
	if err := os.WriteFile(path, csv.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	rejects := defaultRejects(path)

	began := time.Now()
	p, code := runBin(t, cfg, "import", "--output", "json", path)
	if code != 3 {
		t.Fatalf("exit %d, want 3\n%s", code, outputs(p))
	}
	t.Logf("imported in %s: %v", time.Since(began).Round(time.Millisecond), kinds)
	s := p.summary(t)
	runID := int64(s["run_id"].(float64))
	wantSummary(t, s, runID, rows, len(want))
	if s["status"] != "partial_success" || s["chunks_replayed"].(float64) < 1 {
		t.Errorf("summary %v: want partial_success, with chunks replayed for the rows PostgreSQL refused", s)
	}

	rs, err := conn.Query(context.Background(), `SELECT line_no, reason, coalesce(sqlstate, '') FROM rejects WHERE run_id = $1`, runID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]string{}
	states := map[int]string{}
	for rs.Next() {
		var line int
		var reason, state string
		if err := rs.Scan(&line, &reason, &state); err != nil {
			t.Fatal(err)
		}
		got[line], states[line] = reason, state
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	for line, w := range want {
		r, ok := got[line]
		switch {
		case !ok:
			t.Errorf("line %d was not rejected, want %q", line, w)
		case strings.HasPrefix(w, "database") && (!strings.HasPrefix(r, w) || !strings.Contains(r, `index row size`) ||
			!strings.Contains(r, `"transactions_lookup"`) || states[line] != "54000"):
			t.Errorf("line %d rejected for %q (SQLSTATE %q), want %q about the index row size", line, r, states[line], w)
		case !strings.HasPrefix(w, "database") && !strings.HasPrefix(r, w):
			t.Errorf("line %d rejected for %q, want %q", line, r, w)
		}
	}
	examples := map[string]bool{}
	for line, r := range got {
		if w, ok := want[line]; ok && !examples[w] {
			examples[w] = true
			t.Logf("line %d: %.160s", line, r)
		}
		if _, ok := want[line]; !ok {
			t.Errorf("line %d was rejected (%s), want it imported", line, r)
		}
	}
	pgtest.CheckInvariant(t, conn, s["source_key"].(string), lines, rejects)

	before := pgtest.Snapshot(t, conn)
	p, code = runBin(t, cfg, "import", "--output", "json", path)
	if code != 0 {
		t.Fatalf("second import: exit %d, want 0\n%s", code, outputs(p))
	}
	if s := p.summary(t); s["status"] != "skipped" || s["run_id"] != float64(runID) {
		t.Errorf("second import: summary %v, want run %d skipped", s, runID)
	}
	if after := pgtest.Snapshot(t, conn); after != before {
		t.Errorf("the skipped import wrote:\nbefore %s\nafter  %s", before, after)
	}
}

// ---------------------------------------------------------------------------
// 4. A --source-id is bound to its bytes.

// A --source-id used for other content is refused, and nothing is written,
// whether the run that used it finished or was killed half-way.
func TestReusedSourceIDIsRefused(t *testing.T) {
	t.Parallel()
	t.Run("earlier run finished", func(t *testing.T) {
		t.Parallel()
		cfg := pgtest.Schema(t)
		conn := pgtest.Conn(t, cfg)
		dir := t.TempDir()
		f1 := testgen.CSV(t, dir, "may1.csv", testgen.Spec{Rows: 3000, BadEvery: 97, Variant: 1})
		f2 := testgen.CSV(t, dir, "may2.csv", testgen.Spec{Rows: 3000, BadEvery: 89, Variant: 2})

		p, code := runBin(t, cfg, "import", "--source-id", "may", "--output", "json", f1.Path)
		if code != 3 {
			t.Fatalf("first import: exit %d, want 3\n%s", code, outputs(p))
		}
		s1 := p.summary(t)
		runID := int64(s1["run_id"].(float64))

		before := pgtest.Snapshot(t, conn)
		p, code = runBin(t, cfg, "import", "--source-id", "may", "--output", "json", f2.Path)
		if code != 1 {
			t.Fatalf("other content under the same --source-id: exit %d, want 1\n%s", code, outputs(p))
		}
		wantReused(t, p, "may", runID)
		if after := pgtest.Snapshot(t, conn); after != before {
			t.Errorf("the refused import wrote:\nbefore %s\nafter  %s", before, after)
		}
		if _, err := os.Stat(defaultRejects(f2.Path)); !os.IsNotExist(err) {
			t.Errorf("the refused import left a rejects file (%v)", err)
		}

		// The source itself is intact: its own bytes are still recognised.
		p, code = runBin(t, cfg, "import", "--source-id", "may", "--output", "json", f1.Path)
		if code != 0 || p.summary(t)["status"] != "skipped" {
			t.Errorf("the first file again: exit %d, want 0 and skipped\n%s", code, outputs(p))
		}
		pgtest.CheckInvariant(t, conn, "may", f1.Lines, defaultRejects(f1.Path))
	})
	t.Run("earlier run killed", func(t *testing.T) {
		t.Parallel()
		cfg := pgtest.Schema(t)
		conn := pgtest.Conn(t, cfg)
		dir := t.TempDir()
		big := testgen.CSV(t, dir, "june.csv", testgen.Spec{Rows: bigRows, BadEvery: 97, Variant: 3})
		other := testgen.CSV(t, dir, "other.csv", testgen.Spec{Rows: 3000, BadEvery: 89, Variant: 4})

		runID := killAfterCommit(t, cfg, conn, "june", "import", "--source-id", "june", "--chunks-per-commit", "10", "--output", "json", big.Path)
		if s := runStatus(t, conn, runID); s != "running" {
			t.Fatalf("after kill -9 the run is %q, want running", s)
		}

		before := pgtest.Snapshot(t, conn)
		q, code := runBin(t, cfg, "import", "--source-id", "june", "--output", "json", other.Path)
		if code != 1 {
			t.Fatalf("other content under the same --source-id: exit %d, want 1\n%s", code, outputs(q))
		}
		wantReused(t, q, "june", runID)
		if after := pgtest.Snapshot(t, conn); after != before {
			t.Errorf("the refused import wrote:\nbefore %s\nafter  %s", before, after)
		}

		r, code := runBin(t, cfg, "import", "--source-id", "june", "--output", "json", big.Path)
		if code != 3 {
			t.Fatalf("resume: exit %d, want 3\n%s", code, outputs(r))
		}
		s := r.summary(t)
		if s["resumed_from_line"] == nil {
			t.Errorf("summary %v: want run %d resumed", s, runID)
		}
		wantSummary(t, s, runID, bigRows, len(big.Bad))
		if n := queryInt(t, conn, `SELECT count(*) FROM import_runs`); n != 1 {
			t.Errorf("%d runs, want 1", n)
		}
		pgtest.CheckInvariant(t, conn, "june", big.Lines, defaultRejects(big.Path))
	})
}

// killAfterCommit starts batchimport with args, kills it (-9) once its run
// has committed, and waits until its sessions, and so its source lock,
// are gone. It returns the run.
func killAfterCommit(t *testing.T, cfg store.Config, conn *pgx.Conn, name string, args ...string) int64 {
	t.Helper()
	app := uniqueAppName(name)
	p := start(t, pgtest.WithAppName(cfg, app), args...)
	runID := waitForCheckpoint(t, conn, p, 0)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != -1 {
		t.Fatalf("kill -9: exit %d, want death by signal (the run ended too soon)\n%s", code, outputs(p))
	}
	waitNoBackends(t, conn, app)
	return runID
}

// A source is its account's: the same --source-id, or the same file, for
// another account is that account's own run. It neither resumes the other
// account's unfinished run (whose rows would be split between the two) nor
// is skipped as imported, nor refused as reused.
func TestSourceIsTheAccounts(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	big := testgen.CSV(t, dir, "june.csv", testgen.Spec{Rows: bigRows, BadEvery: 97, Variant: 5})
	other := testgen.CSV(t, dir, "other.csv", testgen.Spec{Rows: 3000, BadEvery: 89, Variant: 6})

	runA := killAfterCommit(t, cfg, conn, "june-a", "import", "--account", "a", "--source-id", "june", "--chunks-per-commit", "10", "--output", "json", big.Path)
	// The rejects file the killed run reserved, empty, is taken for
	// something else meanwhile: the run's resume must not replace it.
	notes := []byte("not batchimport's\n")
	if err := os.WriteFile(defaultRejects(big.Path), notes, 0o600); err != nil {
		t.Fatal(err)
	}

	// Account b: a run of its own, from the first line.
	q, code := runBin(t, cfg, "import", "--account", "b", "--source-id", "june", "--output", "json", "--rejects", filepath.Join(dir, "b.rejects.csv"), big.Path)
	sb := q.summary(t)
	if code != 3 || sb["run_id"] == float64(runA) || sb["resumed_from_line"] != nil || sb["rows_read"] != float64(bigRows) {
		t.Fatalf("account b: exit %d, %v; want a new run of all %d lines, not run %d resumed", code, sb, bigRows, runA)
	}
	// Other content under the same --source-id is refused within b only.
	if q, code = runBin(t, cfg, "import", "--account", "b", "--source-id", "june", "--output", "json", other.Path); code != 1 {
		t.Fatalf("other content for b: exit %d, want 1\n%s", code, outputs(q))
	}
	if q, code = runBin(t, cfg, "import", "--account", "c", "--source-id", "june", "--output", "json", other.Path); code != 3 || q.summary(t)["status"] != "partial_success" {
		t.Fatalf("other content for c: exit %d, want its own run\n%s", code, outputs(q))
	}
	// Account a resumes its own run.
	r, code := runBin(t, cfg, "import", "--account", "a", "--source-id", "june", "--output", "json", big.Path)
	sa := r.summary(t)
	if code != 3 || sa["resumed_from_line"] == nil {
		t.Fatalf("account a again: exit %d, %v; want run %d resumed", code, sa, runA)
	}
	wantSummary(t, sa, runA, bigRows, len(big.Bad))
	if q, code = runBin(t, cfg, "import", "--account", "b", "--source-id", "june", "--output", "json", big.Path); code != 0 || q.summary(t)["status"] != "skipped" {
		t.Errorf("account b again: exit %d, want 0 and skipped\n%s", code, outputs(q))
	}
	if got, err := os.ReadFile(defaultRejects(big.Path)); err != nil || !bytes.Equal(got, notes) {
		t.Errorf("the file put where the killed run's rejects were to go: %q, %v; want it untouched", got, err)
	}
	rejectsA := sa["rejects_file"].(string)
	if rejectsA == defaultRejects(big.Path) || queryInt(t, conn, `SELECT count(*) FROM import_runs WHERE id = $1 AND rejects_file = $2`, runA, rejectsA) != 1 {
		t.Errorf("run %d's rejects file is %s; want another name, recorded", runA, rejectsA)
	}
	pgtest.CheckInvariantOf(t, conn, "june", "a", big.Lines, rejectsA)
	pgtest.CheckInvariantOf(t, conn, "june", "b", big.Lines, filepath.Join(dir, "b.rejects.csv"))
	pgtest.CheckInvariantOf(t, conn, "june", "c", other.Lines, defaultRejects(other.Path))
	if n := queryInt(t, conn, `SELECT count(DISTINCT account) FROM transactions WHERE run_id = $1`, runA); n != 1 {
		t.Errorf("run %d has rows of %d accounts, want 1", runA, n)
	}
}

// A run killed, then reverted, then its file imported again with the same
// --rejects: the name the killed run reserved, still empty, is the new
// run's.
func TestKilledRunRevertedThenImportedAgain(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	big := testgen.CSV(t, dir, "aug.csv", testgen.Spec{Rows: bigRows, BadEvery: 97, Variant: 7})
	rejects := filepath.Join(dir, "aug.bad.csv")
	runID := killAfterCommit(t, cfg, conn, "aug", "import", "--rejects", rejects, "--chunks-per-commit", "10", "--output", "json", big.Path)
	if p, code := runBin(t, cfg, "revert", fmt.Sprint(runID)); code != 0 {
		t.Fatalf("revert: exit %d\n%s", code, outputs(p))
	}
	p, code := runBin(t, cfg, "import", "--rejects", rejects, "--output", "json", big.Path)
	if s := p.summary(t); code != 3 || s["run_id"] == float64(runID) || s["rejects_file"] != rejects {
		t.Fatalf("import after the revert: exit %d, %v; want a new run, its rejects in %s", code, s, rejects)
	}
	pgtest.CheckInvariant(t, conn, p.summary(t)["source_key"].(string), big.Lines, rejects)
}

// A --source-id whose runs left nothing (every row of its file was
// rejected) takes the mended file: the new run supersedes the rejected
// one, and each record is once in the table or in the new run's rejects.
func TestSourceIDOfARejectedRunTakesTheMendedFile(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	bad := testgen.CSV(t, dir, "july.csv", testgen.Spec{Rows: 40, BadEvery: 1, Variant: 5})
	mended := testgen.CSV(t, dir, "july-mended.csv", testgen.Spec{Rows: 3000, BadEvery: 97, Variant: 6})

	p, code := runBin(t, cfg, "import", "--source-id", "july", "--output", "json", bad.Path)
	if s := p.summary(t); code != 1 || s["status"] != "rejected" {
		t.Fatalf("every row bad: exit %d, status %v; want 1, rejected\n%s", code, s["status"], outputs(p))
	}
	first := int64(p.summary(t)["run_id"].(float64))

	p, code = runBin(t, cfg, "import", "--source-id", "july", "--output", "json", mended.Path)
	if code != 3 {
		t.Fatalf("the mended file under the same --source-id: exit %d, want 3\n%s", code, outputs(p))
	}
	s := p.summary(t)
	if second := int64(s["run_id"].(float64)); second == first {
		t.Errorf("the mended file resumed run %d; want a new run", first)
	}
	wantSummary(t, s, int64(s["run_id"].(float64)), 3000, len(mended.Bad))
	if st := runStatus(t, conn, first); st != "reverted" {
		t.Errorf("the rejected run is %q, want reverted (superseded)", st)
	}
	pgtest.CheckInvariant(t, conn, "july", mended.Lines, defaultRejects(mended.Path))
}

// wantReused checks the refusal of a --source-id reused for other content.
func wantReused(t *testing.T, p *proc, id string, runID int64) {
	t.Helper()
	msg := errorOf(t, p)
	want := fmt.Sprintf("--source-id %q was used by run %d for different content", id, runID)
	if !strings.Contains(msg, want) {
		t.Errorf("error %q: want it to say %s", msg, want)
	}
	if s := p.summary(t); s["status"] != "failed" || s["rows_read"] != float64(0) {
		t.Errorf("summary %v: want failed with nothing read", s)
	}
	// The log quotes the message as a value: look for a part without quotes.
	if !strings.Contains(p.stderr.String(), fmt.Sprintf("was used by run %d for different content", runID)) {
		t.Errorf("the refusal is not logged on stderr:\n%s", p.stderr.String())
	}
}

// ---------------------------------------------------------------------------
// 5. A file that changes under its run.

// Lines appended to the file while it is imported fail the run, which is
// reverted; imported again, the file (now complete) is a new run, of all
// its lines.
func TestFileChangedDuringImport(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	g := testgen.CSV(t, t.TempDir(), "growing.csv", testgen.Spec{Rows: bigRows, BadEvery: 97})
	rejects := defaultRejects(g.Path)
	data, err := os.ReadFile(g.Path)
	if err != nil {
		t.Fatal(err)
	}
	nextLine := bytes.Count(data, []byte("\n")) + 1 // every record ends with a newline

	p := start(t, cfg, "import", "--chunks-per-commit", "1", "--output", "json", g.Path)
	runID := waitForCheckpoint(t, conn, p, 0)
	f, err := os.OpenFile(g.Path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	const appended = 5
	lines := slices.Clone(g.Lines)
	var more strings.Builder
	for i := range appended {
		fmt.Fprintf(&more, "INV-late-%d,2026-05-05,Vendor 1,SKU-%d,Late Product %d,%d,ea,2.50,\n", i, 9000+i, i, i+1)
		lines = append(lines, nextLine+i)
	}
	if _, err := f.WriteString(more.String()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	if code := p.wait(t); code != 1 {
		t.Fatalf("exit %d, want 1 (the file changed)\n%s", code, outputs(p))
	}
	if msg := errorOf(t, p); !strings.Contains(msg, "changed while it was being imported") {
		t.Errorf("error %q: want it to say the file changed while it was being imported", msg)
	}
	if s := runStatus(t, conn, runID); s != "reverted" {
		t.Errorf("run %d is %q, want reverted", runID, s)
	}
	if n := queryInt(t, conn, `SELECT count(*) FROM transactions WHERE run_id = $1`, runID); n != 0 {
		t.Errorf("%d transactions of the reverted run are left", n)
	}
	if n := queryInt(t, conn, `SELECT count(*) FROM inventory_items WHERE quantity <> 0`); n != 0 {
		t.Errorf("%d items have stock after the revert, want none", n)
	}
	pgtest.CheckQuantities(t, conn)

	q, code := runBin(t, cfg, "import", "--output", "json", g.Path)
	if code != 3 {
		t.Fatalf("importing the complete file: exit %d, want 3\n%s", code, outputs(q))
	}
	s := q.summary(t)
	newID := int64(s["run_id"].(float64))
	if newID == runID || s["resumed_from_line"] != nil {
		t.Errorf("summary %v: want a new run, not run %d resumed", s, runID)
	}
	wantSummary(t, s, newID, bigRows+appended, len(g.Bad))
	// The reverted run's rejects file stays; the new run's goes beside it.
	if got := s["rejects_file"]; got == rejects {
		t.Errorf("the new run's rejects file is the reverted run's, %s", rejects)
	}
	pgtest.CheckInvariant(t, conn, s["source_key"].(string), lines, s["rejects_file"].(string))
}

// A file that breaks off after its first records cannot be read to its
// end as it is: a gzip upload cut short, a JSON array with a syntax error.
// Its run is reverted, so that the complete or mended file, a new source,
// imports every record once, none of them a duplicate of the first run's
// invoices.
func TestInputThatBreaksOffIsReverted(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()

	g := testgen.CSV(t, dir, "cut.csv", testgen.Spec{Rows: 6000, BadEvery: 97})
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	if _, err := zw.Write(mustRead(t, g.Path)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	gz := filepath.Join(dir, "upload.csv.gz")
	json := filepath.Join(dir, "lines.json")
	var broken, mended strings.Builder
	jsonLines := []int{}
	for i := range 3000 {
		// Three lines an invoice; the element broken is the middle of one.
		fmt.Fprintf(&mended, "%s{\"invoice_number\": \"J-%d\", \"invoice_date\": \"2026-05-05\", \"vendor\": \"Vendor 1\", "+
			"\"vendor_sku\": \"S-%d\", \"description\": \"Product %d\", \"quantity\": 1, \"unit\": \"ea\", \"unit_price\": 2.5}\n",
			map[bool]string{true: "[", false: ","}[i == 0], i/3, i%40, i%40)
		jsonLines = append(jsonLines, i+1)
	}
	mended.WriteString("]\n")
	for i, line := range strings.SplitAfter(mended.String(), "\n") {
		if i == 1600 {
			line = strings.Replace(line, `"quantity": 1,`, `"quantity": 1,,`, 1)
		}
		broken.WriteString(line)
	}

	for _, c := range []struct {
		name          string
		path          string
		cut, complete []byte
		lines         []int
		says          string
	}{
		{"gzip cut short", gz, zipped.Bytes()[:zipped.Len()/2], zipped.Bytes(), g.Lines, "cut short or damaged"},
		{"JSON syntax error", json, []byte(broken.String()), []byte(mended.String()), jsonLines, "line 1601"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(c.path, c.cut, 0o644); err != nil {
				t.Fatal(err)
			}
			p, code := runBin(t, cfg, "import", "--output", "json", c.path)
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s", code, outputs(p))
			}
			s := p.summary(t)
			runID := int64(s["run_id"].(float64))
			if msg := errorOf(t, p); !strings.Contains(msg, c.says) || !strings.Contains(msg, "was reverted") {
				t.Errorf("error %q: want it to say %q, and that the run was reverted", msg, c.says)
			}
			if s["reverted"] != true || s["rows_imported"].(float64) == 0 {
				t.Errorf("summary %v: want rows imported, then reverted", s)
			}
			if st := runStatus(t, conn, runID); st != "reverted" {
				t.Errorf("run %d is %q, want reverted", runID, st)
			}
			if n := queryInt(t, conn, `SELECT count(*) FROM transactions WHERE run_id = $1`, runID); n != 0 {
				t.Errorf("%d transactions of the reverted run are left", n)
			}
			pgtest.CheckQuantities(t, conn)

			if err := os.WriteFile(c.path, c.complete, 0o644); err != nil {
				t.Fatal(err)
			}
			q, code := runBin(t, cfg, "import", "--output", "json", c.path)
			if code != 0 && code != 3 {
				t.Fatalf("importing the complete file: exit %d\n%s", code, outputs(q))
			}
			s = q.summary(t)
			if s["rows_read"].(float64) != float64(len(c.lines)) {
				t.Errorf("summary %v: want all %d records read", s, len(c.lines))
			}
			if n := queryInt(t, conn, `SELECT count(*) FROM rejects WHERE run_id = $1 AND reason LIKE 'duplicate invoice%'`, int64(s["run_id"].(float64))); n != 0 {
				t.Errorf("%d records of the complete file were taken for duplicates of the reverted run's invoices", n)
			}
			rejects, _ := s["rejects_file"].(string)
			pgtest.CheckInvariant(t, conn, s["source_key"].(string), c.lines, rejects)
		})
	}
}

// A resumed run refused at its header (a flag the first run had, given no
// more) keeps what it committed: its file is not broken, and given the
// flag again, it resumes to the end.
func TestResumedRunRefusedAtItsHeaderKeepsItsRows(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	g := testgen.CSV(t, t.TempDir(), "beleg.csv", testgen.Spec{Rows: bigRows, BadEvery: 97})
	data := mustRead(t, g.Path)
	data = append([]byte("Beleg"), data[len("invoice_number"):]...)
	if err := os.WriteFile(g.Path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	flag := []string{"--column", "invoice_number=Beleg"}
	p := start(t, cfg, append([]string{"import", "--chunks-per-commit", "1", "--output", "json"}, append(flag, g.Path)...)...)
	runID := waitForCheckpoint(t, conn, p, 0)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(t)
	kept := queryInt(t, conn, `SELECT count(*) FROM transactions WHERE run_id = $1`, runID)

	q, code := runBin(t, cfg, "import", "--output", "json", g.Path)
	if code != 1 || !strings.Contains(errorOf(t, q), `"invoice_number"`) {
		t.Fatalf("without the flag: exit %d, want 1 naming the column\n%s", code, outputs(q))
	}
	if s := q.summary(t); s["reverted"] == true || runStatus(t, conn, runID) == "reverted" {
		t.Errorf("summary %v, run %s: want it failed, not reverted", s, runStatus(t, conn, runID))
	}
	if n := queryInt(t, conn, `SELECT count(*) FROM transactions WHERE run_id = $1`, runID); n != kept || n == 0 {
		t.Errorf("%d rows of the run left, want the %d it committed", n, kept)
	}
	q, code = runBin(t, cfg, append([]string{"import", "--output", "json"}, append(flag, g.Path)...)...)
	if code != 3 {
		t.Fatalf("with the flag again: exit %d, want 3\n%s", code, outputs(q))
	}
	s := q.summary(t)
	if s["run_id"] != float64(runID) || s["rows_read"] != float64(bigRows) {
		t.Errorf("summary %v: want run %d resumed to its end", s, runID)
	}
	pgtest.CheckInvariant(t, conn, s["source_key"].(string), g.Lines, s["rejects_file"].(string))
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ---------------------------------------------------------------------------
// 6. A rejects file that cannot be written.

// A rejects path that cannot be written fails the run at once, naming the
// path, on stdout and stderr, before anything is written.
func TestUnwritableRejectsPathFailsAtOnce(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	g := testgen.CSV(t, dir, "in.csv", testgen.Spec{Rows: 3000, BadEvery: 97})
	// Root writes through permission bits; a parent that is a regular file
	// stops anyone (ENOTDIR).
	blocker := filepath.Join(dir, "blocker")
	if err := os.WriteFile(blocker, []byte("not a directory\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(blocker, "x.rejects.csv")

	before := pgtest.Snapshot(t, conn)
	began := time.Now()
	p, code := runBin(t, cfg, "import", "--rejects", path, "--output", "json", g.Path)
	took := time.Since(began)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, outputs(p))
	}
	if took > 10*time.Second {
		t.Errorf("took %s to fail, want at once", took)
	}
	msg := errorOf(t, p)
	if !strings.Contains(msg, path) || !strings.Contains(msg, "cannot write") {
		t.Errorf("error %q: want it to say it cannot write %s", msg, path)
	}
	if !strings.Contains(p.stderr.String(), path) {
		t.Errorf("the failure is not logged on stderr:\n%s", p.stderr.String())
	}
	if s := p.summary(t); s["status"] != "failed" || s["rows_read"] != float64(0) {
		t.Errorf("summary %v: want failed with nothing read", s)
	}
	if after := pgtest.Snapshot(t, conn); after != before {
		t.Errorf("the failed import wrote:\nbefore %s\nafter  %s", before, after)
	}
	t.Logf("failed in %s: %s", took.Round(time.Millisecond), msg)
}
