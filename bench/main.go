//go:build linux

// Command bench measures batchimport against the physical limit of the
// machine it runs on (SPEC §10, issue 6), and prints the figures as a table.
//
// In one run, against the PostgreSQL server that DATABASE_URL (or libpq's
// PG* variables) points at, it:
//
//  1. generates, from a fixed seed, an invoice CSV of -rows lines (about
//     5,000 items over 50 vendors, ~20% of lines with a description
//     variant) and a file of its first -rows/10 lines;
//  2. runs `batchimport migrate` and a warm-up import of the big file into
//     schema -schema, so that the catalogue (items and mappings) exists:
//     the steady state of a database in daily use is what is measured;
//  3. exports the resolved rows with psql \copy;
//  4. times, -trials times each, interleaved, from the same reset state
//     (the methods the goals compare one after the other in each round):
//     (a) psql \copy of the resolved rows into transactions, the physical
//     limit; (b) batchimport import of the raw file; (c) the per-row
//     SELECT + INSERT + UPDATE round-trip pattern on 20,000 lines; (d)
//     batchimport with chunks of 2,000 rows; (e) a commit per chunk; (f)
//     --writers 1 and 4; (g) two psql \copy of the resolved rows at once,
//     each of half of them: the ceiling of two connections; (h)
//     batchimport with a trigger refusing 0.1% of the rows; and
//     batchimport on the small file, to show that peak memory does not
//     grow with the file;
//  5. prints the medians as a table, with the client's and the server's CPU
//     time and how much CPU other processes took during the trials.
//
// The figures only mean something on an otherwise idle machine: on two
// cores, every CPU second someone else takes is missing from the server or
// the client, and the scheduler's share per process favours the
// two-process importer over the one-backend psql. So each trial waits
// (-settle) for a quiet machine first, and the "other load" column shows
// what interference remained.
//
// Usage (the Makefile's bench target):
//
//	go build -o bin/batchimport . && scripts/with-postgres.sh go run ./bench -bin bin/batchimport
//
// It runs on Linux only: it reads the server's CPU time in /proc.
//
// Run it against a throwaway server with default settings: the schema is
// dropped and re-created, and fsync must stay on for the figures to mean
// anything (never PG_FAST=1).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// benchAccount is the account every benchmark row belongs to.
const benchAccount = "bench"

// roundTripLines is how many lines the per-row pattern (c) imports: it is
// 20 to 50 times slower than the others, so the whole file would dominate
// the run without telling more.
const roundTripLines = 20000

// config holds the command-line flags.
type config struct {
	bin     string
	rows    int
	trials  int
	workdir string
	keep    bool
	schema  string
	jsonOut string
	settle  time.Duration
}

// method is one line of the table: a way of getting the rows in.
type method struct {
	Key     string   `json:"key"`
	Label   string   `json:"label"`
	Rows    int64    `json:"rows"`
	Samples []sample `json:"samples"`
	// HasRSS is false for the in-process round-trip measurement, whose
	// process RSS would be the benchmark's own.
	HasRSS bool `json:"has_rss"`
	// run performs one trial after the tables were reset; it is timed.
	run func(ctx context.Context) (sample, error)
	// check verifies, after the timing, what the trial left behind.
	check func(ctx context.Context) error
}

func (m *method) rowsPerSec() []float64 {
	out := make([]float64, len(m.Samples))
	for i, s := range m.Samples {
		out[i] = float64(m.Rows) / s.WallSeconds
	}
	return out
}

func (m *method) medianRowsPerSec() float64 { return median(m.rowsPerSec()) }

func (m *method) medianWall() float64 {
	xs := make([]float64, len(m.Samples))
	for i, s := range m.Samples {
		xs[i] = s.WallSeconds
	}
	return median(xs)
}

func (m *method) medianCPU() float64 {
	xs := make([]float64, len(m.Samples))
	for i, s := range m.Samples {
		xs[i] = s.cpuSeconds()
	}
	return median(xs)
}

// medianOtherShare is the share of the machine that other processes took
// during the trials.
func (m *method) medianOtherShare(cores int) float64 {
	xs := make([]float64, len(m.Samples))
	for i, s := range m.Samples {
		xs[i] = s.OtherCPUSeconds / (s.WallSeconds * float64(cores))
	}
	return median(xs)
}

func (m *method) medianServerCPU() float64 {
	xs := make([]float64, len(m.Samples))
	for i, s := range m.Samples {
		xs[i] = s.ServerCPUSeconds
	}
	return median(xs)
}

// peakRSSMiB is the highest peak RSS of all trials: the figure that has to
// stay under a memory budget.
func (m *method) peakRSSMiB() float64 {
	var peak int64
	for _, s := range m.Samples {
		peak = max(peak, s.MaxRSSKiB)
	}
	return float64(peak) / 1024
}

// report is what -json writes: the environment and every trial's figures.
type report struct {
	StartedAt        time.Time `json:"started_at"`
	TotalSeconds     float64   `json:"total_seconds"`
	PostgreSQL       string    `json:"postgresql"`
	ServerSettings   string    `json:"server_settings"`
	Cores            int       `json:"cores"`
	GoVersion        string    `json:"go_version"`
	Batchimport      string    `json:"batchimport"`
	Rows             int       `json:"rows"`
	SmallRows        int       `json:"small_rows"`
	Trials           int       `json:"trials"`
	Seed             uint64    `json:"seed"`
	FileBytes        int64     `json:"file_bytes"`
	WarmupSeconds    float64   `json:"warmup_seconds"`
	WarmupSummary    any       `json:"warmup_summary"`
	Methods          []*method `json:"methods"`
	RSSSmallMiB      float64   `json:"rss_small_mib"`
	RSSBigMiB        float64   `json:"rss_big_mib"`
	ImportVsPsql     float64   `json:"import_vs_psql"`
	ImportVsRoundTrp float64   `json:"import_vs_roundtrip"`
	// ServerCPUKnown is false when the server's processes were not visible
	// (a server on another machine or in another container).
	ServerCPUKnown bool `json:"server_cpu_known"`
	// BusyBeforeStart is the share of the machine's CPU in use during the
	// second before the benchmark started: other work skews the figures.
	BusyBeforeStart float64 `json:"busy_before_start"`
}

func main() {
	var cfg config
	flag.StringVar(&cfg.bin, "bin", "bin/batchimport", "path to the batchimport binary to measure")
	flag.IntVar(&cfg.rows, "rows", 1000000, "lines in the generated invoice file")
	flag.IntVar(&cfg.trials, "trials", 3, "trials of each method; the table shows medians")
	flag.StringVar(&cfg.workdir, "workdir", "", "directory for the generated files (default: a new temporary directory, removed at the end)")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the generated files")
	flag.StringVar(&cfg.schema, "schema", "bench", "PostgreSQL schema to benchmark in; it is dropped and re-created")
	flag.StringVar(&cfg.jsonOut, "json", "", "also write the raw figures to this JSON file")
	flag.DurationVar(&cfg.settle, "settle", 30*time.Second, "before each trial, wait up to this long for the machine to be less than 20% busy (0: do not wait)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./bench [flags]\n\n"+
			"Measures batchimport against psql \\copy on the server in DATABASE_URL / PG*.\n"+
			"Run it under scripts/with-postgres.sh (a throwaway server).\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 || cfg.rows < 1000 || cfg.trials < 1 || cfg.schema == "" {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench: FAILED:", err)
		os.Exit(1)
	}
}

// started is when the benchmark started; progress lines and the total time
// count from it.
var started = time.Now()

// logf reports progress on stderr, stamped with the time since start, so
// that stdout carries only the table.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench [%6.1fs] %s\n", time.Since(started).Seconds(), fmt.Sprintf(format, args...))
}

// run does the whole benchmark; see the package comment.
func run(ctx context.Context, cfg config) (err error) {
	bin, err := filepath.Abs(cfg.bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("batchimport binary: %w (build it first: go build -o bin/batchimport .)", err)
	}
	if _, err := exec.LookPath("psql"); err != nil {
		return fmt.Errorf("psql is needed for the \\copy baseline: %w", err)
	}

	// The work directory: a fresh temporary one is removed at the end; a
	// given one is the user's, so only the files made here are removed.
	dir := cfg.workdir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "batchimport-bench-"); err != nil {
			return err
		}
		if !cfg.keep {
			defer os.RemoveAll(dir)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return err
	}
	bigFile := filepath.Join(dir, fmt.Sprintf("invoices-%d.csv", cfg.rows))
	smallRows := cfg.rows / 10
	smallFile := filepath.Join(dir, fmt.Sprintf("invoices-%d.csv", smallRows))
	resolved := filepath.Join(dir, "resolved.tsv")
	if cfg.workdir != "" && !cfg.keep {
		defer func() {
			for _, f := range []string{bigFile, smallFile, resolved} {
				os.Remove(f)
			}
		}()
	}

	conn, err := pgx.Connect(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		return fmt.Errorf("connect (DATABASE_URL or PG*): %w", err)
	}
	defer conn.Close(context.Background())

	rep := &report{StartedAt: started, Cores: runtime.NumCPU(), GoVersion: runtime.Version(),
		Rows: cfg.rows, SmallRows: smallRows, Trials: cfg.trials, Seed: genSeed}
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&rep.PostgreSQL); err != nil {
		return err
	}
	var fsync, syncCommit, sharedBuffers, maxWal string
	if err := conn.QueryRow(ctx, `SELECT current_setting('fsync'), current_setting('synchronous_commit'),
		current_setting('shared_buffers'), current_setting('max_wal_size')`).Scan(&fsync, &syncCommit, &sharedBuffers, &maxWal); err != nil {
		return err
	}
	rep.ServerSettings = fmt.Sprintf("fsync=%s synchronous_commit=%s shared_buffers=%s max_wal_size=%s", fsync, syncCommit, sharedBuffers, maxWal)
	if fsync != "on" {
		logf("WARNING: the server runs with fsync=%s: the figures do not describe a real server (was PG_FAST=1 set?)", fsync)
	}
	if v, err := runCmd(ctx, bin, "version"); err == nil {
		rep.Batchimport = strings.TrimSpace(v.Stdout)
	}
	b0 := takeSnapshot(0)
	time.Sleep(time.Second)
	b1 := takeSnapshot(0)
	rep.BusyBeforeStart = (b1.machine - b0.machine) / float64(rep.Cores)
	logf("%s; %d cores; %s; machine %.0f%% busy before start", rep.PostgreSQL, rep.Cores, rep.ServerSettings, 100*rep.BusyBeforeStart)

	// 1. The data.
	logf("generating %d lines (and the first %d as a second file) in %s", cfg.rows, smallRows, dir)
	if err := generate(bigFile, smallFile, cfg.rows, smallRows); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	if st, err := os.Stat(bigFile); err == nil {
		rep.FileBytes = st.Size()
	}
	logf("generated %.1f MiB", float64(rep.FileBytes)/(1<<20))

	// 2. Schema and steady-state catalogue.
	schemaIdent := pgx.Identifier{cfg.schema}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schemaIdent+" CASCADE"); err != nil {
		return err
	}
	if _, err := runCmd(ctx, bin, "migrate", "--schema", cfg.schema); err != nil {
		return err
	}
	logf("warm-up import (creates the catalogue: items and mappings)")
	warm, warmSum, err := runImport(ctx, bin, cfg.schema, bigFile, int64(cfg.rows), -1)
	if err != nil {
		return fmt.Errorf("warm-up import: %w", err)
	}
	rep.WarmupSeconds = warm.WallSeconds
	rep.WarmupSummary = warmSum
	if warmSum.RunID == nil {
		return errors.New("warm-up import: the summary has no run_id")
	}
	runID := *warmSum.RunID
	// The lines the warm-up rejected are rejected by every import of the
	// file, or of its first lines.
	rejectedUpTo := func(records int64) (int64, error) {
		var n int64
		err := conn.QueryRow(ctx, `SELECT count(*) FROM `+schemaIdent+`.rejects WHERE run_id = $1 AND record_no <= $2`, runID, records).Scan(&n)
		return n, err
	}
	rejected := map[int64]int64{}
	for _, n := range []int64{int64(cfg.rows), int64(cfg.rows / 10)} {
		if rejected[n], err = rejectedUpTo(n); err != nil {
			return err
		}
	}
	var items, skuMaps, descMaps int64
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM `+schemaIdent+`.inventory_items WHERE account = $1),
		(SELECT count(*) FROM `+schemaIdent+`.item_mappings WHERE account = $1 AND key_kind = 'sku'),
		(SELECT count(*) FROM `+schemaIdent+`.item_mappings WHERE account = $1 AND key_kind = 'description')`,
		benchAccount).Scan(&items, &skuMaps, &descMaps); err != nil {
		return err
	}
	logf("warm-up: %.1f s (%.0f rows/s), %d items created, %d fuzzy matches; catalogue: %d items, %d sku and %d description mappings",
		warm.WallSeconds, float64(cfg.rows)/warm.WallSeconds, warmSum.ItemsCreated, warmSum.FuzzyMatches, items, skuMaps, descMaps)

	// 3. The resolved rows, for the physical limit.
	txCols, err := transactionColumns(ctx, conn, cfg.schema)
	if err != nil {
		return err
	}
	cols := columnList(txCols)
	if _, err := psql(ctx, `\copy (SELECT `+cols+` FROM `+schemaIdent+`.transactions ORDER BY line_no) TO `+quoteLiteral(resolved)); err != nil {
		return fmt.Errorf("export resolved rows: %w", err)
	}

	// 4. The methods, each trial from the same reset state.
	rtLines := min(roundTripLines, cfg.rows)
	importMethod := func(key, label, file string, rows int64, extra ...string) *method {
		m := &method{Key: key, Label: label, Rows: rows, HasRSS: true}
		m.run = func(ctx context.Context) (sample, error) {
			res, _, err := runImport(ctx, bin, cfg.schema, file, rows, rejected[rows], extra...)
			return res.sample, err
		}
		m.check = func(ctx context.Context) error { return checkTrial(ctx, conn, cfg.schema, rows-rejected[rows], true) }
		return m
	}
	psqlCopy := &method{Key: "a", Label: `(a) psql \copy, resolved rows`, Rows: int64(cfg.rows), HasRSS: true}
	psqlCopy.run = func(ctx context.Context) (sample, error) {
		// The rows reference the warm-up run; give them one with its id so
		// the foreign key holds, as the importer's own run row would.
		if _, err := conn.Exec(ctx, `INSERT INTO `+schemaIdent+`.import_runs (id, source_key, source_name, account, status)
			VALUES ($1, 'bench:psql-copy', 'resolved.tsv', $2, 'success')`, runID, benchAccount); err != nil {
			return sample{}, err
		}
		res, err := psql(ctx, `\copy `+schemaIdent+`.transactions (`+cols+`) FROM `+quoteLiteral(resolved))
		return res.sample, err
	}
	psqlCopy.check = func(ctx context.Context) error {
		return checkTrial(ctx, conn, cfg.schema, int64(cfg.rows)-rejected[int64(cfg.rows)], false)
	}
	perRow := &method{Key: "c", Label: "(c) per-row SELECT+INSERT+UPDATE", Rows: int64(rtLines)}
	var rtRows int64 // rows the last round trip inserted
	perRow.run = func(ctx context.Context) (sample, error) {
		s, n, err := roundTrip(ctx, conn, cfg.schema, txCols, bigFile, rtLines)
		rtRows = n
		return s, err
	}
	perRow.check = func(ctx context.Context) error {
		if rtRows < int64(rtLines)-rejected[int64(cfg.rows)] {
			return fmt.Errorf("round trip: %d of %d lines found an item", rtRows, rtLines)
		}
		return checkTrial(ctx, conn, cfg.schema, rtRows, true)
	}
	halves, err := splitHalves(resolved)
	if err != nil {
		return err
	}
	defer func() {
		for _, f := range halves {
			os.Remove(f)
		}
	}()
	parallelCopy := &method{Key: "g", Label: `(g) 2 x psql \copy at once`, Rows: int64(cfg.rows), HasRSS: true}
	parallelCopy.run = func(ctx context.Context) (sample, error) {
		if _, err := conn.Exec(ctx, `INSERT INTO `+schemaIdent+`.import_runs (id, source_key, source_name, account, status)
			VALUES ($1, 'bench:psql-copy', 'resolved.tsv', $2, 'success')`, runID, benchAccount); err != nil {
			return sample{}, err
		}
		return psqlCopyAtOnce(ctx, schemaIdent+".transactions", cols, halves)
	}
	parallelCopy.check = psqlCopy.check
	refused, err := refusedIn(ctx, conn, cfg.schema, runID)
	if err != nil {
		return err
	}
	bigRejected := rejected[int64(cfg.rows)]
	withRefused := &method{Key: "h", Label: "(h) batchimport, 0.1% refused", Rows: int64(cfg.rows), HasRSS: true}
	withRefused.run = func(ctx context.Context) (s sample, err error) {
		err = withRefusingTrigger(ctx, conn, cfg.schema, func() error {
			res, _, err := runImport(ctx, bin, cfg.schema, bigFile, int64(cfg.rows), bigRejected+refused)
			s = res.sample
			return err
		})
		return s, err
	}
	withRefused.check = func(ctx context.Context) error {
		return checkTrial(ctx, conn, cfg.schema, int64(cfg.rows)-bigRejected-refused, true)
	}
	defaultImport := importMethod("b", "(b) batchimport import (default)", bigFile, int64(cfg.rows))
	methods := []*method{
		psqlCopy,
		defaultImport,
		perRow,
		importMethod("d2000", "(d) --chunk-size 2000", bigFile, int64(cfg.rows), "--chunk-size", "2000"),
		// What joining ready chunks into one commit buys: a commit per chunk.
		importMethod("e1", "(e) --chunks-per-commit 1", bigFile, int64(cfg.rows), "--chunks-per-commit", "1"),
		importMethod("f1", "(f) --writers 1", bigFile, int64(cfg.rows), "--writers", "1"),
		importMethod("f4", "(f) --writers 4", bigFile, int64(cfg.rows), "--writers", "4"),
		parallelCopy,
		withRefused,
	}
	small := importMethod("small", fmt.Sprintf("batchimport import, %d lines", smallRows), smallFile, int64(smallRows))
	all := append(methods, small)
	// The methods the goals compare run one after the other in each
	// round, (b) between the two it is compared with: a slow minute
	// then falls on both sides of a ratio more often than on one.
	order := []*method{psqlCopy, parallelCopy, defaultImport, withRefused, small}
	for _, m := range methods {
		if !slices.Contains(order, m) {
			order = append(order, m)
		}
	}

	// Trials are interleaved (round 1 of every method, then round 2, ...)
	// so that a slow drift of the machine (page cache, WAL recycling, a
	// noisy neighbour) spreads over all methods instead of favouring one.
	pm := postmasterPID(ctx, conn)
	rep.ServerCPUKnown = pm != 0
	if pm == 0 {
		logf("the server's processes are not visible here: its CPU time is not reported")
	}
	for t := 1; t <= cfg.trials; t++ {
		for _, m := range order {
			if err := resetTables(ctx, conn, cfg.schema); err != nil {
				return err
			}
			busy := 0.0
			if cfg.settle > 0 {
				busy = settle(ctx, cfg.settle, 0.2, rep.Cores)
			}
			before := takeSnapshot(pm)
			s, err := m.run(ctx)
			waitReaped(pm, before, 2*time.Second)
			after := takeSnapshot(pm)
			if err != nil {
				return fmt.Errorf("%s, trial %d: %w", m.Label, t, err)
			}
			if err := m.check(ctx); err != nil {
				return fmt.Errorf("%s, trial %d: %w", m.Label, t, err)
			}
			s.ServerCPUSeconds = after.server - before.server
			client := after.self - before.self
			if m.HasRSS { // a child process: its CPU is not in ours
				client += s.cpuSeconds()
			}
			s.OtherCPUSeconds = max(0, after.machine-before.machine-s.ServerCPUSeconds-client)
			s.BusyBefore = busy
			m.Samples = append(m.Samples, s)
			logf("trial %d/%d %-34s %7.2f s %8.0f rows/s  cpu client %6.2f s server %6.2f s other %5.2f s  rss %6.1f MiB",
				t, cfg.trials, m.Label, s.WallSeconds, float64(m.Rows)/s.WallSeconds, s.cpuSeconds(),
				s.ServerCPUSeconds, s.OtherCPUSeconds, float64(s.MaxRSSKiB)/1024)
		}
	}
	if err := resetTables(ctx, conn, cfg.schema); err != nil {
		return err
	}

	// 5. The table.
	rep.Methods = all
	rep.RSSSmallMiB = small.peakRSSMiB()
	rep.RSSBigMiB = defaultImport.peakRSSMiB()
	limit := psqlCopy.medianRowsPerSec()
	rep.ImportVsPsql = defaultImport.medianRowsPerSec() / limit
	rep.ImportVsRoundTrp = defaultImport.medianRowsPerSec() / perRow.medianRowsPerSec()
	rep.TotalSeconds = time.Since(started).Seconds()
	printTable(os.Stdout, rep, methods, limit, small, defaultImport)

	if cfg.jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(cfg.jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if cfg.keep {
		logf("kept the generated files in %s", dir)
	}
	return nil
}

// printTable writes the results as an aligned plain-text table, followed by
// the memory comparison and the goals of issues 6 and 15.
func printTable(w io.Writer, rep *report, methods []*method, limit float64, small, def *method) {
	fmt.Fprintf(w, "batchimport benchmark: %d-line invoice file (%.1f MiB), median of %d trials\n",
		rep.Rows, float64(rep.FileBytes)/(1<<20), rep.Trials)
	fmt.Fprintf(w, "PostgreSQL: %s\n", rep.PostgreSQL)
	fmt.Fprintf(w, "server:     %s\n", rep.ServerSettings)
	fmt.Fprintf(w, "machine:    %d cores, %s/%s, %s, %.0f%% busy before start\n", rep.Cores, runtime.GOOS, runtime.GOARCH, rep.GoVersion, 100*rep.BusyBeforeStart)
	if rep.Batchimport != "" {
		fmt.Fprintf(w, "binary:     %s\n", strings.ReplaceAll(rep.Batchimport, "\n", "; "))
	}
	fmt.Fprintln(w)

	rows := [][]string{{"method", "rows", "rows/s", "ratio to (a)", "wall s", "client CPU s", "server CPU s", "peak RSS MiB", "other load"}}
	for _, m := range methods {
		serverCPU := "-"
		if rep.ServerCPUKnown {
			serverCPU = fmt.Sprintf("%.2f", m.medianServerCPU())
		}
		rss := "-"
		if m.HasRSS {
			rss = fmt.Sprintf("%.1f", m.peakRSSMiB())
		}
		rows = append(rows, []string{m.Label, fmt.Sprint(m.Rows), fmt.Sprintf("%.0f", m.medianRowsPerSec()),
			fmt.Sprintf("%.3f", m.medianRowsPerSec()/limit), fmt.Sprintf("%.2f", m.medianWall()),
			fmt.Sprintf("%.2f", m.medianCPU()), serverCPU, rss, fmt.Sprintf("%.0f%%", 100*m.medianOtherShare(rep.Cores))})
	}
	writeAligned(w, rows)
	fmt.Fprintln(w)

	rssRatio := def.peakRSSMiB() / small.peakRSSMiB()
	fmt.Fprintf(w, "peak RSS of batchimport import: %d lines %.1f MiB, %d lines %.1f MiB, ratio %.2f\n",
		small.Rows, small.peakRSSMiB(), def.Rows, def.peakRSSMiB(), rssRatio)
	fmt.Fprintln(w)
	goal := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT MET"
	}
	fmt.Fprintf(w, "goal (b) >= 0.80 x (a) rows/s:  %6.3f  %s\n", rep.ImportVsPsql, goal(rep.ImportVsPsql >= 0.8))
	fmt.Fprintf(w, "goal (b) >= 1.20 x (a) rows/s:  %6.3f  %s (parallel writers)\n", rep.ImportVsPsql, goal(rep.ImportVsPsql >= 1.2))
	fmt.Fprintf(w, "goal (b) >= 30 x (c) rows/s:    %6.1f  %s\n", rep.ImportVsRoundTrp, goal(rep.ImportVsRoundTrp >= 30))
	for _, m := range methods {
		switch m.Key {
		case "g":
			r := def.medianRowsPerSec() / m.medianRowsPerSec()
			fmt.Fprintf(w, "goal (b) >= 0.85 x (g) rows/s:  %6.3f  %s\n", r, goal(r >= 0.85))
		case "h":
			r := m.medianRowsPerSec() / def.medianRowsPerSec()
			fmt.Fprintf(w, "goal (h) >= 0.80 x (b) rows/s:  %6.3f  %s\n", r, goal(r >= 0.8))
		}
	}
	peak := max(def.peakRSSMiB(), small.peakRSSMiB())
	fmt.Fprintf(w, "goal peak RSS < 100 MiB:        %6.1f  %s\n", peak, goal(peak < 100))
	fmt.Fprintf(w, "goal peak RSS %d vs %d lines within 20%%:  %.2f  %s\n", small.Rows, def.Rows, rssRatio, goal(rssRatio <= 1.2 && rssRatio >= 1/1.2))
	var wall, other float64
	for _, m := range append(methods, small) {
		for _, s := range m.Samples {
			wall += s.WallSeconds
			other += s.OtherCPUSeconds
		}
	}
	busy := other / (wall * float64(rep.Cores))
	fmt.Fprintf(w, "other processes used %.0f CPU-s during the trials: %.1f%% of the machine", other, 100*busy)
	if busy > 0.05 {
		fmt.Fprint(w, " (a busy machine: the figures are noisy)")
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "total time: %.0f s (of which warm-up import %.1f s)\n", rep.TotalSeconds, rep.WarmupSeconds)
}

// writeAligned prints rows as columns separated by two spaces: the first
// column (names) aligned left, the others (numbers) aligned right.
func writeAligned(w io.Writer, rows [][]string) {
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len(c))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			if i == 0 {
				fmt.Fprintf(&b, "%-*s", width[i], c)
				continue
			}
			fmt.Fprintf(&b, "  %*s", width[i], c)
		}
		fmt.Fprintln(w, b.String())
	}
}
