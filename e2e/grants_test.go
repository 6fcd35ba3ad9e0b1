//go:build unix

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/internal/testgen"
	"github.com/batchimport/batchimport/store"
)

// The README's least-privilege grants are enough for the built binary's
// dry run, an import with two writers whose rows the database partly
// refuses, and --max-rejects reverting a run: run them as a role that has
// nothing else.
func TestReadmeGrantsAreEnough(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	admin := pgtest.Conn(t, cfg)
	role, as := readmeRole(t, cfg, admin)
	// A constraint that refuses some rows makes the run replay chunks too.
	if _, err := admin.Exec(context.Background(), `ALTER TABLE transactions ADD CONSTRAINT no_big CHECK (quantity < 17)`); err != nil {
		t.Fatal(err)
	}
	g := testgen.CSV(t, t.TempDir(), "g.csv", testgen.Spec{Rows: 3000, BadEvery: 101})
	if p, code := runBin(t, as, "dryrun", g.Path); code != 3 {
		t.Fatalf("dryrun as %s: exit %d, want 3\n%s", role, code, outputs(p))
	}
	// Two writers in groups of 1,000 rows: several groups, and their slot
	// locks.
	p, code := runBin(t, as, "import", "--writers", "2", "--chunk-size", "100", "--chunks-per-commit", "10", "--output", "json", g.Path)
	if code != 3 {
		t.Fatalf("import as %s: exit %d, want 3\n%s", role, code, outputs(p))
	}
	s := p.summary(t)
	if s["chunks_replayed"] == float64(0) || s["rows_imported"] == float64(0) {
		t.Errorf("import as %s: summary %v, want rows imported and chunks replayed", role, s)
	}
	pgtest.CheckInvariant(t, admin, s["source_key"].(string), g.Lines, defaultRejects(g.Path))

	// --max-rejects reverts a run: deletes its rows, restocks, frees its
	// invoices.
	h := testgen.CSV(t, t.TempDir(), "h.csv", testgen.Spec{Rows: 3000, BadEvery: 7, Variant: 3})
	p, code = runBin(t, as, "import", "--max-rejects", "1", "--chunks-per-commit", "1", "--output", "json", h.Path)
	if s := p.summary(t); code != 1 || s["status"] != "failed" || s["reverted"] != true {
		t.Fatalf("--max-rejects as %s: exit %d, summary %v, want failed and reverted\n%s", role, code, s, outputs(p))
	}
	pgtest.CheckQuantities(t, admin)
}

// A server that takes no more connections for a run's writers (the role's
// CONNECTION LIMIT here; max_connections alike, SQLSTATE 53300) gets fewer
// writers, down to the run's own connection alone, with a warning: the
// import does not fail for it.
func TestFewerWritersWhenTheServerTakesNoMore(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	admin := pgtest.Conn(t, cfg)
	role, as := readmeRole(t, cfg, admin)
	// A run holds its own connection and one it loads catalogues on; the
	// rest are its other writers'.
	for i, c := range []struct{ limit, writers string }{{"3", "4"}, {"2", "2"}} {
		if _, err := admin.Exec(context.Background(), "ALTER ROLE "+role+" CONNECTION LIMIT "+c.limit); err != nil {
			t.Fatal(err)
		}
		g := testgen.CSV(t, t.TempDir(), "g.csv", testgen.Spec{Rows: 3000, BadEvery: 101, Variant: i + 1})
		p, code := runBin(t, as, "import", "--writers", c.writers, "--chunk-size", "100", "--chunks-per-commit", "10", "--output", "json", g.Path)
		if code != 3 {
			t.Fatalf("--writers %s, CONNECTION LIMIT %s: exit %d, want 3\n%s", c.writers, c.limit, code, outputs(p))
		}
		if !strings.Contains(p.stderr.String(), "the server takes no more connections: fewer writers") {
			t.Errorf("--writers %s, CONNECTION LIMIT %s: no warning of fewer writers\n%s", c.writers, c.limit, outputs(p))
		}
		pgtest.CheckInvariant(t, admin, p.summary(t)["source_key"].(string), g.Lines, defaultRejects(g.Path))
	}
}

// A writer whose connection is lost while the server takes no more (the
// role's CONNECTION LIMIT lowered meanwhile) stops, with a warning, and
// the run goes on with the others: every group sent to it would fail.
func TestWriterLostToAFullServerStops(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := pgtest.Schema(t)
	admin := pgtest.Conn(t, cfg)
	role, as := readmeRole(t, cfg, admin)
	// The items exist, so that no group holds its rows back for the one
	// before it (lanes.go).
	imported(t, as, 3, testgen.CSV(t, t.TempDir(), "items.csv", testgen.Spec{Rows: 3000, BadEvery: 101, Variant: 1}).Path)
	// Each row waits for lock 4242, which hold keeps until the writers
	// have begun: then the newest connection, a writer's (the run's own
	// and the catalogue's come first), is ended, with no room left for it.
	if _, err := admin.Exec(ctx, `ALTER ROLE `+role+` CONNECTION LIMIT 3;
		CREATE FUNCTION gate() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN PERFORM pg_advisory_lock_shared(4242); PERFORM pg_advisory_unlock_shared(4242); RETURN NEW; END $$;
		CREATE TRIGGER gate BEFORE INSERT ON transactions FOR EACH ROW EXECUTE FUNCTION gate()`); err != nil {
		t.Fatal(err)
	}
	hold := pgtest.Conn(t, cfg)
	if _, err := hold.Exec(ctx, `SELECT pg_advisory_lock(4242)`); err != nil {
		t.Fatal(err)
	}
	g := testgen.CSV(t, t.TempDir(), "g.csv", testgen.Spec{Rows: 3000, BadEvery: 101})
	p := start(t, as, "import", "--writers", "2", "--chunk-size", "100", "--chunks-per-commit", "10", "--output", "json", g.Path)
	var writer int
	for range 600 {
		err := admin.QueryRow(ctx, `SELECT pid FROM pg_stat_activity WHERE usename = $1 AND wait_event = 'advisory'
			AND (SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND wait_event = 'advisory') = 2
			ORDER BY backend_start DESC LIMIT 1`, role).Scan(&writer)
		if err == nil || p.exited() {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if writer == 0 {
		t.Fatalf("two writers never waited at the gate\n%s", outputs(p))
	}
	if _, err := admin.Exec(ctx, `ALTER ROLE `+role+` CONNECTION LIMIT 2`); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend($1)`, writer); err != nil {
		t.Fatal(err)
	}
	if _, err := hold.Exec(ctx, `SELECT pg_advisory_unlock(4242)`); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != 3 {
		t.Fatalf("exit %d, want 3\n%s", code, outputs(p))
	}
	if !strings.Contains(p.stderr.String(), "the server takes no more connections: one writer fewer") {
		t.Errorf("no warning of a writer stopped\n%s", outputs(p))
	}
	pgtest.CheckInvariant(t, admin, p.summary(t)["source_key"].(string), g.Lines, defaultRejects(g.Path))
}

// readmeRole creates a role with the README's grants on cfg's schema,
// dropped at the test's end, and returns it and a configuration that
// connects as it.
func readmeRole(t *testing.T, cfg store.Config, admin *pgx.Conn) (string, store.Config) {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	role := "importer_" + hex.EncodeToString(b[:])
	schema := pgx.Identifier{cfg.Schema}.Sanitize()
	grants := strings.NewReplacer("importer", role, "batchimport.", schema+".", "batchimport ", schema+" ").Replace(readmeGrants(t))
	if _, err := admin.Exec(context.Background(), grants); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), `DROP OWNED BY `+role+`; DROP ROLE `+role)
	})
	as := cfg
	as.URL += " user=" + role
	return role, as
}

// readmeGrants is the README's block of SQL that creates the importer role.
func readmeGrants(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(b), "```sql\nCREATE ROLE importer LOGIN;")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("README.md has no ```sql block starting with CREATE ROLE importer LOGIN;")
	}
	return "CREATE ROLE importer LOGIN;" + block
}

// In a LATIN1 database, the built binary's text arrives intact (no
// mojibake), and a row with a character LATIN1 cannot hold is that row's
// reject, with the SQLSTATE.
func TestLatin1Database(t *testing.T) {
	t.Parallel()
	admin := pgtest.Conn(t, pgtest.EmptySchema(t))
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "latin1_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+name+` ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(context.Background(), `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop database: %v", err)
		}
	})
	cfg := store.Config{URL: pgtest.URL(t) + " dbname=" + name, Schema: "latin"}
	if p, code := runBin(t, cfg, "migrate"); code != 0 {
		t.Fatalf("migrate: exit %d\n%s", code, outputs(p))
	}
	path := filepath.Join(t.TempDir(), "latin.csv")
	csv := "invoice_number,invoice_date,vendor,description,quantity,unit_price\n" +
		"A1,2026-05-04,Sysco,Jalapeño Peppers,2,1.50\n" +
		"A1,2026-05-04,Sysco,日本酒 Sake,1,20\n" +
		"A1,2026-05-04,Sysco,Crème Fraîche,3,4.25\n"
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	p, code := runBin(t, cfg, "import", "--output", "json", path)
	if s := p.summary(t); code != 3 || s["rows_imported"] != float64(2) || s["rows_rejected"] != float64(1) {
		t.Fatalf("import into LATIN1: exit %d, summary %v\n%s", code, s, outputs(p))
	}
	pc, err := pgx.ParseConfig(cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	pc.RuntimeParams["client_encoding"] = "UTF8"
	conn, err := pgx.ConnectConfig(ctx, pc)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var names string
	if err := conn.QueryRow(ctx, `SELECT string_agg(description, '|' ORDER BY line_no) FROM latin.transactions`).Scan(&names); err != nil {
		t.Fatal(err)
	}
	if names != "Jalapeño Peppers|Crème Fraîche" {
		t.Errorf("stored %q, want the two LATIN1 descriptions intact", names)
	}
	rejects, err := os.ReadFile(strings.TrimSuffix(path, ".csv") + ".rejects.csv")
	if err != nil || !strings.Contains(string(rejects), "SQLSTATE 22P05") {
		t.Errorf("the Japanese line's reject does not name SQLSTATE 22P05 (%v):\n%s", err, rejects)
	}
}
