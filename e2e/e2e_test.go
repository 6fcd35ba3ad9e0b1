//go:build unix

// Package e2e runs the built batchimport binary as an operator would, and
// provokes the faults it must survive: kill -9, SIGTERM, connections
// terminated by the server, concurrent imports.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batchimport/batchimport/store"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "batchimport-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "batchimport")
	build := exec.Command("go", "build", "-o", binary, "github.com/batchimport/batchimport")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "build batchimport: %v\n", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running batchimport.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr output
	done           chan struct{} // closed when the process has exited
	code           int
}

// output is what a process writes, which a test may read (to report a
// failure) while the process still writes it.
type output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

func (o *output) Bytes() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return bytes.Clone(o.b.Bytes())
}

func start(t *testing.T, cfg store.Config, args ...string) *proc {
	t.Helper()
	return startWith(t, cfg, nil, args...)
}

// startWith starts batchimport with stdin as its standard input (nil: none).
func startWith(t *testing.T, cfg store.Config, stdin *os.File, args ...string) *proc {
	t.Helper()
	p := &proc{done: make(chan struct{})}
	full := append([]string{args[0], "--schema", cfg.Schema}, args[1:]...)
	p.cmd = exec.Command(binary, full...)
	p.cmd.Env = append(os.Environ(), "BATCHIMPORT_DATABASE_URL="+cfg.URL)
	// What it writes beside its inputs by default (a rejects file of
	// standard input, should the test stop it early) stays out of the tree.
	p.cmd.Dir = t.TempDir()
	if stdin != nil {
		p.cmd.Stdin = stdin
	}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait returns the exit code (-1 when killed by a signal).
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(5 * time.Minute):
		t.Fatalf("batchimport did not end within 5 minutes: %s", p.stderr.String())
		return 0
	}
}

func runBin(t *testing.T, cfg store.Config, args ...string) (*proc, int) {
	t.Helper()
	p := start(t, cfg, args...)
	return p, p.wait(t)
}

func (p *proc) summary(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(p.stdout.Bytes()), &m); err != nil {
		t.Fatalf("summary %q: %v (stderr %s)", p.stdout.String(), err, p.stderr.String())
	}
	return m
}

// waitForCheckpoint polls until the latest run has committed a chunk past
// line after, and returns its id; it fails the test if batchimport ends
// first.
func waitForCheckpoint(t *testing.T, conn *pgx.Conn, p *proc, after int64) int64 {
	t.Helper()
	id, ok := pollCheckpoint(conn, p, after)
	if !ok {
		t.Fatalf("batchimport ended (exit %d) or stalled before a checkpoint past line %d:\n%s\n%s", p.code, after, p.stdout.String(), p.stderr.String())
	}
	return id
}

// waitForProgress is waitForCheckpoint for when batchimport may well have
// finished meanwhile.
func waitForProgress(conn *pgx.Conn, p *proc, after int64) {
	pollCheckpoint(conn, p, after)
}

// pollCheckpoint waits up to a minute for the latest run's checkpoint to
// pass line after; ok is false when batchimport ended first or time ran out.
func pollCheckpoint(conn *pgx.Conn, p *proc, after int64) (id int64, ok bool) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var line int64
		err := conn.QueryRow(context.Background(), `SELECT id, checkpoint_line FROM runs ORDER BY id DESC LIMIT 1`).Scan(&id, &line)
		if err == nil && line > after {
			return id, true
		}
		if p.exited() {
			return 0, false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return 0, false
}

func runStatus(t *testing.T, conn *pgx.Conn, id int64) string {
	t.Helper()
	var s string
	if err := conn.QueryRow(context.Background(), `SELECT status FROM import_runs WHERE id = $1`, id).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func checkpointOf(t *testing.T, conn *pgx.Conn, id int64) int64 {
	t.Helper()
	var line int64
	if err := conn.QueryRow(context.Background(), `SELECT checkpoint_line FROM runs WHERE id = $1`, id).Scan(&line); err != nil {
		t.Fatal(err)
	}
	return line
}
