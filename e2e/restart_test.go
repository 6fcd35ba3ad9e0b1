//go:build unix

package e2e

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/internal/testgen"
	"github.com/batchimport/batchimport/store"
)

// privateServer starts a PostgreSQL of the test's own (the shared one must
// not be restarted under other tests) and returns its socket directory.
func privateServer(t *testing.T) string {
	t.Helper()
	script, err := filepath.Abs("../scripts/with-postgres.sh")
	if err != nil {
		t.Fatal(err)
	}
	// The server lives as long as its command, which waits for its standard
	// input to close: when the test ends, or when its process dies.
	cmd := exec.Command(script, "sh", "-c", `echo "$PGHOST"; read _`)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait() // the script stops its server
	})
	host, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("private server did not start: %v", err)
	}
	return strings.TrimSpace(host)
}

// The server restarts in the middle of an import: the run waits for it,
// goes on from its checkpoint and completes with exit 0.
func TestDatabaseRestart(t *testing.T) {
	t.Parallel()
	host := privateServer(t)
	cfg := store.Config{URL: "host=" + host + " port=5432 user=postgres dbname=postgres sslmode=disable", Schema: "restart"}
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	pgtest.Migrate(t, db)
	db.Close(context.Background())
	g := testgen.CSV(t, t.TempDir(), "big.csv", testgen.Spec{Rows: bigRows, BadEvery: 97})
	conn := pgtest.Conn(t, cfg)

	p := start(t, cfg, "import", "--chunks-per-commit", "10", "--output", "json", g.Path)
	waitForCheckpoint(t, conn, p, 0)
	// -l: a server without a log file would hold pg_ctl's output open.
	pgctl := []string{"pg_ctl", "-D", filepath.Join(host, "data"), "-l", filepath.Join(host, "server.log"), "-m", "fast", "-w", "restart"}
	if os.Geteuid() == 0 {
		pgctl = append([]string{"runuser", "-u", "postgres", "--"}, pgctl...)
	}
	began := time.Now()
	if out, err := exec.Command(pgctl[0], pgctl[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("restart: %v\n%s", err, out)
	}
	t.Logf("server restarted in %s", time.Since(began).Round(time.Millisecond))
	code := p.wait(t)
	if code != 3 {
		t.Fatalf("exit %d, want 3 (some rows are invalid)\n%s\n%s", code, p.stdout.String(), p.stderr.String())
	}
	if !strings.Contains(p.stderr.String(), "database connection failed; retrying") {
		t.Errorf("the restart went unnoticed; stderr:\n%s", p.stderr.String())
	}
	conn = pgtest.Conn(t, cfg) // the first connection died with the server
	s := p.summary(t)
	pgtest.CheckInvariant(t, conn, s["source_key"].(string), g.Lines, strings.TrimSuffix(g.Path, ".csv")+".rejects.csv")
}
