//go:build unix

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/internal/testgen"
)

// Behind PgBouncer (SPEC §16), Debian's package, which `make test` installs:
// in session pooling an import works and loses nothing; in transaction
// pooling, where session locks and settings do not survive a transaction,
// it refuses at start, saying why, and writes nothing.
func TestThroughPgBouncer(t *testing.T) {
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	g := testgen.CSV(t, t.TempDir(), "g.csv", testgen.Spec{Rows: 3000, BadEvery: 97})

	session := cfg
	session.URL = startPgBouncer(t, cfg.URL, "session", 4)
	p, code := runBin(t, session, "import", "--output", "json", "--chunk-size", "100", g.Path)
	if code != 3 {
		t.Fatalf("import through PgBouncer in session pooling: exit %d\n%s%s", code, p.stdout.String(), p.stderr.String())
	}
	s := p.summary(t)
	pgtest.CheckInvariant(t, conn, s["source_key"].(string), g.Lines, s["rejects_file"].(string))
	pgtest.CheckQuantities(t, conn)
	if p, code := runBin(t, session, "status", "--output", "json"); code != 0 || !strings.Contains(p.stdout.String(), "partial_success") {
		t.Errorf("status through PgBouncer: exit %d\n%s%s", code, p.stdout.String(), p.stderr.String())
	}

	transaction := cfg
	transaction.URL = startPgBouncer(t, cfg.URL, "transaction", 4)
	before := pgtest.Snapshot(t, conn)
	h := testgen.CSV(t, t.TempDir(), "h.csv", testgen.Spec{Rows: 500})
	p, code = runBin(t, transaction, "import", "--output", "json", h.Path)
	if code != 1 || !strings.Contains(p.stderr.String(), "session pooling") {
		t.Errorf("import through PgBouncer in transaction pooling: exit %d; want 1, saying it needs session pooling\n%s", code, p.stderr.String())
	}
	if after := pgtest.Snapshot(t, conn); after != before {
		t.Errorf("the refused import wrote to the database")
	}
	// The other commands refuse too, saying why, rather than failing on
	// prepared statements another client's session holds.
	for _, args := range [][]string{{"status"}, {"migrate"}, {"mappings", "list"}, {"rejects", "1"}} {
		if p, code := runBin(t, transaction, args...); code == 0 || !strings.Contains(p.stderr.String(), "session pooling") {
			t.Errorf("%v through PgBouncer in transaction pooling: exit %d; want a failure saying it needs session pooling\n%s", args, code, p.stderr.String())
		}
	}
}

// A pool with no room for every writer: PgBouncer holds a client it has
// no server session for until one frees, two minutes by default, where a
// server would refuse it. The run goes on with the writers it got, after
// a few seconds, and loses nothing.
func TestPgBouncerPoolFullFewerWriters(t *testing.T) {
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	g := testgen.CSV(t, t.TempDir(), "g.csv", testgen.Spec{Rows: 3000, BadEvery: 97})
	pooled := cfg
	pooled.URL = startPgBouncer(t, cfg.URL, "session", 2) // the run's connection and the catalogue's
	started := time.Now()
	p, code := runBin(t, pooled, "import", "--output", "json", "--chunk-size", "100", "--writers", "3", g.Path)
	if code != 3 {
		t.Fatalf("import, --writers 3, through a pool of 2: exit %d, want 3\n%s", code, outputs(p))
	}
	if took := time.Since(started); took > 60*time.Second {
		t.Errorf("import took %v: it waited for the pool", took)
	}
	if !strings.Contains(p.stderr.String(), "fewer writers") || !strings.Contains(p.stderr.String(), "pool full") {
		t.Errorf("no warning of fewer writers for want of a pooled connection\n%s", outputs(p))
	}
	s := p.summary(t)
	pgtest.CheckInvariant(t, conn, s["source_key"].(string), g.Lines, s["rejects_file"].(string))
	pgtest.CheckQuantities(t, conn)
}

// startPgBouncer runs PgBouncer in front of the server of dbURL, in a pool
// mode with pool server sessions, on a unix socket of its own, until the
// test ends; it returns the connection string through it.
func startPgBouncer(t *testing.T, dbURL, mode string, pool int) string {
	t.Helper()
	bin := os.Getenv("BATCHIMPORT_TEST_PGBOUNCER")
	if bin == "" {
		t.Fatal("BATCHIMPORT_TEST_PGBOUNCER is not set: run the tests with `make test`, which installs Debian's pgbouncer package and names it")
	}
	pc, err := pgx.ParseConfig(dbURL) // with libpq's PG* defaults
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{"host": pc.Host, "port": strconv.Itoa(int(pc.Port)), "user": pc.User, "dbname": pc.Database}
	dir, err := os.MkdirTemp("", "batchimport-pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// PgBouncer refuses to run as root: as root it runs as postgres, as
	// the server does.
	var asUser []string
	if os.Geteuid() == 0 {
		asUser = []string{"runuser", "-u", "postgres", "--"}
		pg, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	ini := fmt.Sprintf(`[databases]
* = host=%s port=%s user=%s
[pgbouncer]
listen_addr =
listen_port = 6432
unix_socket_dir = %s
auth_type = any
pool_mode = %s
default_pool_size = %d
ignore_startup_parameters = extra_float_digits
logfile = %s
pidfile = %s
`, params["host"], params["port"], params["user"], dir, mode, pool, filepath.Join(dir, "pgbouncer.log"), filepath.Join(dir, "pgbouncer.pid"))
	config := filepath.Join(dir, "pgbouncer.ini")
	if err := os.WriteFile(config, []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append(asUser, bin, config)
	cmd := exec.Command(args[0], args[1:]...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pgbouncer: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		// PgBouncer itself, which runuser may not pass a signal to, then
		// runuser.
		if b, err := os.ReadFile(filepath.Join(dir, "pgbouncer.pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				_ = syscall.Kill(pid, syscall.SIGTERM)
			}
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	socket := filepath.Join(dir, ".s.PGSQL.6432")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(socket); err == nil {
			break
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
			t.Fatalf("pgbouncer exited: %s\n%s", out.String(), log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgbouncer did not listen within 10 s: %s", out.String())
		}
	}
	return fmt.Sprintf("host=%s port=6432 user=%s dbname=%s sslmode=disable", dir, params["user"], params["dbname"])
}
