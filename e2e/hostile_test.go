//go:build unix

package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/batchimport/batchimport/internal/pgtest"
)

// A 300 MB NDJSON line, sent through standard input, is rejected, cut to
// its first 4 KiB, in bounded memory and time; the lines around it are
// imported (SPEC §16).
func TestHostileNDJSONLine(t *testing.T) {
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	rejects := filepath.Join(t.TempDir(), "huge.rejects.ndjson")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "import", "--schema", cfg.Schema, "--format", "ndjson", "--source-id", "huge",
		"--rejects", rejects, "--output", "json", "-")
	cmd.Env = append(os.Environ(), "BATCHIMPORT_DATABASE_URL="+cfg.URL)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = r, &stdout, &stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	line := func(n string) string {
		return `{"invoice_number":"` + n + `","invoice_date":"2026-05-04","vendor":"V","description":"Milk","quantity":1,"unit_price":2}` + "\n"
	}
	go func() {
		defer w.Close()
		_, _ = w.WriteString(line("A-1") + `{"invoice_number":"H-1","description":"`)
		chunk := []byte(strings.Repeat("a", 1<<20))
		for range 300 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		_, _ = w.WriteString(`"}` + "\n" + line("A-2"))
	}()
	err = cmd.Wait()
	took := time.Since(began)
	if code := cmd.ProcessState.ExitCode(); code != 3 {
		t.Fatalf("exit %d (%v), want 3\n%s%s", code, err, stdout.String(), stderr.String())
	}
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
	t.Logf("300 MB line: %s, peak RSS %d MiB", took.Round(time.Millisecond), rss>>10)
	if took > 30*time.Second || rss > 200<<10 {
		t.Errorf("300 MB line: %s, peak RSS %d MiB; want under 30 s and 200 MiB", took, rss>>10)
	}
	listIs(t, conn, "A-1 A-2", `SELECT invoice_number FROM transactions ORDER BY line_no`)
	got, err := os.ReadFile(rejects)
	if err != nil || len(got) > 8<<10 || !strings.Contains(string(got), "more than --max-record-bytes 1048576") {
		t.Errorf("rejects file (%d bytes, %v):\n%.600s", len(got), err, got)
	}
	pgtest.CheckQuantities(t, conn)
}
