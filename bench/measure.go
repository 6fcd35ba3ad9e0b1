//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batchimport/batchimport/importer"
)

// sample is one timed trial of a method.
type sample struct {
	WallSeconds float64 `json:"wall_seconds"`
	UserSeconds float64 `json:"user_seconds"`
	SysSeconds  float64 `json:"sys_seconds"`
	// MaxRSSKiB is the child's peak resident set size (ru_maxrss, KiB on
	// Linux); 0 when not applicable (an in-process measurement).
	MaxRSSKiB int64 `json:"max_rss_kib"`
	// ServerCPUSeconds is the CPU time of every PostgreSQL server process
	// during the trial; OtherCPUSeconds is what the rest of the machine
	// (neither client nor server) used meanwhile: interference.
	ServerCPUSeconds float64 `json:"server_cpu_seconds"`
	OtherCPUSeconds  float64 `json:"other_cpu_seconds"`
	// BusyBefore is the share of the machine's CPU in use just before the
	// trial started (after settling).
	BusyBefore float64 `json:"busy_before"`
}

// cpuSeconds is the client's CPU time, user plus system.
func (s sample) cpuSeconds() float64 { return s.UserSeconds + s.SysSeconds }

// runResult is what runCmd observed.
type runResult struct {
	sample
	Stdout string
	Stderr string
}

// runCmd runs a command to completion and measures it from process start to
// exit. The timer wraps Start and Wait only, so setting up the command is
// not counted but process creation and teardown are, as an operator timing
// the command from a shell would see. Output is captured in memory: the
// commands measured print a summary, not data.
func runCmd(ctx context.Context, name string, args ...string) (runResult, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.Stdin = nil
	start := time.Now()
	err := cmd.Start()
	if err == nil {
		err = cmd.Wait()
	}
	wall := time.Since(start)
	res := runResult{Stdout: stdout.String(), Stderr: stderr.String()}
	res.WallSeconds = wall.Seconds()
	if ps := cmd.ProcessState; ps != nil {
		res.UserSeconds = ps.UserTime().Seconds()
		res.SysSeconds = ps.SystemTime().Seconds()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			res.MaxRSSKiB = ru.Maxrss
		}
	}
	if err != nil {
		return res, fmt.Errorf("%s %s: %w\nstderr:\n%s", name, strings.Join(args, " "), err, tail(res.Stderr, 40))
	}
	return res, nil
}

// selfCPU returns this process's user and system CPU time so far, for
// measuring in-process work (the round-trip pattern).
func selfCPU() (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// tail returns the last n lines of s, for error messages.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// psql runs psql with the settings every call here wants: no psqlrc (-X),
// no chatter (-q), and stop with a failing exit status on the first error.
func psql(ctx context.Context, command string) (runResult, error) {
	return runCmd(ctx, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", command)
}

// quoteLiteral quotes s as an SQL (and psql \copy) string literal.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// importSummary is batchimport's JSON summary, as the command prints it.
type importSummary = importer.Summary

// runImport runs batchimport import on one file and insists on the same
// work every time: every line read, and exactly wantRejected of them
// rejected (< 0: as many as the import rejects, for the warm-up). The
// generated file holds a few lines that fuzzy matching gives an item of
// another unit, which the import rejects rather than add to that item's
// stock; a benchmark of an import that rejected other rows would measure
// something else.
func runImport(ctx context.Context, bin, schema, file string, wantRows, wantRejected int64, extra ...string) (runResult, importSummary, error) {
	args := append([]string{"import", "--schema", schema, "--account", benchAccount,
		"--no-progress", "--output", "json"}, extra...)
	args = append(args, file)
	res, err := runCmd(ctx, bin, args...)
	var sum importSummary
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	if jerr := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); jerr != nil {
		if err != nil {
			return res, sum, err
		}
		return res, sum, fmt.Errorf("batchimport printed no JSON summary (%v); stdout:\n%s\nstderr:\n%s", jerr, tail(res.Stdout, 10), tail(res.Stderr, 40))
	}
	// Exit 3 is the exit of an import with rows rejected.
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 3 && sum.RowsRejected > 0) {
		return res, sum, fmt.Errorf("%w\nsummary: %s", err, lines[len(lines)-1])
	}
	rejected := sum.RowsRejected
	if wantRejected >= 0 {
		rejected = wantRejected
	}
	want := "success"
	if rejected > 0 {
		want = "partial_success"
	}
	if string(sum.Status) != want || sum.RowsImported != wantRows-rejected || sum.RowsRejected != rejected {
		return res, sum, fmt.Errorf("batchimport import %s: want status %s with %d rows imported, %d rejected, got: %s\nstderr:\n%s",
			file, want, wantRows-rejected, rejected, lines[len(lines)-1], tail(res.Stderr, 40))
	}
	return res, sum, nil
}

// resetTables puts the bench schema back in the state every trial starts
// from: no transactions, rejects, invoices or runs, every item's quantity zero, but the
// catalogue (items and mappings) kept, as on a database in daily use.
// VACUUM ANALYZE leaves the same visibility map and statistics behind each
// time, and the CHECKPOINT after it writes the previous trial's dirty pages
// now rather than in the middle of the next trial's timing. Autovacuum is
// off on the schema's tables, for the same reason: the reset does what it
// would, and a run of it in a trial (a VACUUM ANALYZE of transactions, as
// soon as its launcher woke after the first 1,000 rows: 5 s of a trial,
// sampled in pg_stat_activity) landed in one trial or another at random.
func resetTables(ctx context.Context, conn *pgx.Conn, schema string) error {
	s := pgx.Identifier{schema}.Sanitize()
	stmts := []string{
		`DO $$DECLARE t regclass; BEGIN
			FOR t IN SELECT c.oid FROM pg_class c WHERE c.relnamespace = ` + quoteLiteral(s) + `::regnamespace AND c.relkind = 'r' LOOP
				EXECUTE format('ALTER TABLE %s SET (autovacuum_enabled = off)', t);
			END LOOP; END$$`,
		"TRUNCATE " + s + ".transactions, " + s + ".rejects, " + s + ".invoices",
		"DELETE FROM " + s + ".import_runs",
		"UPDATE " + s + ".inventory_items SET quantity = 0 WHERE quantity <> 0",
		// VACUUM refuses to run in a transaction block, so each is its own
		// statement rather than one multi-statement string.
		"VACUUM ANALYZE " + s + ".transactions",
		"VACUUM ANALYZE " + s + ".import_runs",
		"VACUUM ANALYZE " + s + ".inventory_items",
		"VACUUM ANALYZE " + s + ".item_mappings",
		"CHECKPOINT",
	}
	for _, q := range stmts {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("reset: %s: %w", q, err)
		}
	}
	return nil
}

// checkTrial verifies what a trial left behind: wantRows transactions and,
// where the trial maintains inventory, quantities equal to the sum of the
// transactions (the invariant of SPEC §5, cheap to check here and a guard
// against timing an import that silently did less work).
func checkTrial(ctx context.Context, conn *pgx.Conn, schema string, wantRows int64, inventory bool) error {
	s := pgx.Identifier{schema}.Sanitize()
	var n int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+s+".transactions").Scan(&n); err != nil {
		return err
	}
	if n != wantRows {
		return fmt.Errorf("transactions holds %d rows after the trial, want %d", n, wantRows)
	}
	if !inventory {
		return nil
	}
	var ok bool
	err := conn.QueryRow(ctx, `SELECT coalesce((SELECT sum(base_quantity) FROM `+s+`.transactions), 0)
		= (SELECT sum(quantity) FROM `+s+`.inventory_items)`).Scan(&ok)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("inventory quantities do not add up to the transactions' quantities")
	}
	return nil
}

// median of the values (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// clockTicks is USER_HZ, the unit of the CPU times in /proc: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// cpuSnapshot is the CPU time used so far by the whole machine, by the
// PostgreSQL server (postmaster and every backend and helper process) and
// by this process. The difference of two snapshots tells how the CPU was
// spent during a trial: on a machine shared with other work, CPU time that
// is neither the client's nor the server's is interference, and the table
// says how much there was.
type cpuSnapshot struct {
	machine, server, self float64 // seconds
	children              map[int]bool
}

// takeSnapshot reads /proc. postmaster is the server's main process id;
// 0 (unknown) leaves the server's share at zero.
func takeSnapshot(postmaster int) cpuSnapshot {
	var s cpuSnapshot
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		// cpu  user nice system idle iowait irq softirq steal guest guest_nice
		f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0])
		for i, v := range f {
			if i == 0 || i == 4 || i == 5 || i > 8 { // name, idle, iowait, guest (already in user)
				continue
			}
			n, _ := strconv.ParseFloat(v, 64)
			s.machine += n / clockTicks
		}
	}
	if postmaster > 0 {
		// A backend that exits during the trial has its time moved into
		// the postmaster's cutime/cstime when it is reaped, so summing the
		// live children with the postmaster's own and reaped-children time
		// counts every backend exactly once.
		if st, ok := procStat(postmaster); ok {
			s.server += st.utime + st.stime + st.cutime + st.cstime
		}
		s.children = map[int]bool{}
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == postmaster {
				continue
			}
			if st, ok := procStat(pid); ok && st.ppid == postmaster {
				s.server += st.utime + st.stime
				s.children[pid] = true
			}
		}
	}
	u, sys := selfCPU()
	s.self = (u + sys).Seconds()
	return s
}

// waitReaped waits, up to maxWait, until the server has reaped every
// process it started since the snapshot before: a backend goes on exiting
// after its client has, and its CPU time only moves to the postmaster's
// when it is reaped, so a snapshot taken in between would lose it.
func waitReaped(postmaster int, before cpuSnapshot, maxWait time.Duration) {
	if postmaster == 0 {
		return
	}
	deadline := time.Now().Add(maxWait)
	for time.Now().Before(deadline) {
		s := takeSnapshot(postmaster)
		fresh := false
		for pid := range s.children {
			if !before.children[pid] {
				fresh = true
				break
			}
		}
		if !fresh {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// procStatFields are the parts of /proc/PID/stat used here, CPU in seconds.
type procStatFields struct {
	ppid                         int
	utime, stime, cutime, cstime float64
}

func procStat(pid int) (procStatFields, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStatFields{}, false
	}
	// The command name is in parentheses and may contain anything; the
	// fields that follow it start with the state (field 3).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStatFields{}, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return procStatFields{}, false
	}
	num := func(k int) float64 { // k is the field number of proc(5)
		n, _ := strconv.ParseFloat(f[k-3], 64)
		return n / clockTicks
	}
	ppid, _ := strconv.Atoi(f[4-3])
	return procStatFields{ppid: ppid, utime: num(14), stime: num(15), cutime: num(16), cstime: num(17)}, true
}

// postmasterPID finds the server's main process: the parent of this
// connection's backend. It returns 0 when the server is not on this machine
// or not visible (then the server's CPU time is not reported).
func postmasterPID(ctx context.Context, conn *pgx.Conn) int {
	var backend int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		return 0
	}
	st, ok := procStat(backend)
	if !ok || st.ppid <= 1 {
		return 0
	}
	return st.ppid
}

// settle waits, up to maxWait, for a quiet machine: until the CPU in use
// over half a second falls below threshold (a share of all cores). On a
// machine shared with other work (builds, tests, another benchmark) this
// keeps a burst of someone else's work from landing in one trial; on a
// dedicated machine it returns after the first half second. It returns the
// last share measured.
func settle(ctx context.Context, maxWait time.Duration, threshold float64, cores int) float64 {
	deadline := time.Now().Add(maxWait)
	for {
		a := takeSnapshot(0)
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(500 * time.Millisecond):
		}
		b := takeSnapshot(0)
		busy := (b.machine - a.machine) / (0.5 * float64(cores))
		if busy < threshold || time.Now().After(deadline) {
			return busy
		}
	}
}

// column is a column of the transactions table.
type column struct {
	name     string
	required bool // NOT NULL without a default: an INSERT must supply it
}

// transactionColumns lists the columns of transactions that a load
// supplies: all but identity and generated ones, in table order. The
// baseline copies exactly these, so it writes the same columns, indexes and
// constraints as the importer even as the schema evolves.
func transactionColumns(ctx context.Context, conn *pgx.Conn, schema string) ([]column, error) {
	rows, err := conn.Query(ctx, `SELECT a.attname, a.attnotnull AND NOT a.atthasdef
		FROM pg_attribute a
		WHERE a.attrelid = (quote_ident($1) || '.transactions')::regclass
		  AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity = '' AND a.attgenerated = ''
		ORDER BY a.attnum`, schema)
	if err != nil {
		return nil, err
	}
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (column, error) {
		var c column
		err := r.Scan(&c.name, &c.required)
		return c, err
	})
	if err == nil && len(cols) == 0 {
		err = fmt.Errorf("%s.transactions has no columns: was it migrated?", schema)
	}
	return cols, err
}

// columnList joins the columns' quoted names with commas.
func columnList(cols []column) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = pgx.Identifier{c.name}.Sanitize()
	}
	return strings.Join(names, ", ")
}
