package importer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/internal/testgen"
	"github.com/batchimport/batchimport/store"
)

// The README's least-privilege grants are enough for an import with two
// writers, a resume, a dry run and a replay: run them as a role that has
// nothing else.
func TestImportWithReadmeGrants(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	admin := pgtest.Conn(t, cfg)
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
	// A trigger that refuses one row makes the run replay a chunk too.
	if _, err := admin.Exec(context.Background(), `ALTER TABLE transactions ADD CONSTRAINT no_big CHECK (quantity < 17)`); err != nil {
		t.Fatal(err)
	}
	opts := testOptions(cfg)
	opts.DB.URL += " user=" + role
	// Two writers in groups of 1,000 rows: several groups, and their slot
	// locks, under the same grants.
	opts.Writers, opts.ChunkSize, opts.ChunksPerCommit = 2, 100, 10
	g := testgen.CSV(t, t.TempDir(), "g.csv", testgen.Spec{Rows: 3000, BadEvery: 101})

	dry := opts
	dry.DryRun = ReadOnly
	if sum := Import(context.Background(), Input{Name: g.Path}, dry); sum.Status != store.StatusPartialSuccess {
		t.Fatalf("dryrun as %s: %s %v", role, sum.Status, sum.Error)
	}
	sum := Import(context.Background(), Input{Name: g.Path}, opts)
	if sum.Status != store.StatusPartialSuccess || sum.ChunksReplayed == 0 || sum.RowsImported == 0 {
		t.Fatalf("import as %s: %+v (error %v)", role, sum, sum.Error)
	}
	pgtest.CheckInvariant(t, admin, sum.SourceKey, g.Lines, *sum.RejectsFile)

	// --max-rejects reverts a run: deletes its rows, restocks, frees its
	// invoices, under the same grants.
	h := testgen.CSV(t, t.TempDir(), "h.csv", testgen.Spec{Rows: 3000, BadEvery: 7, Variant: 3})
	capped := opts
	capped.MaxRejects = 1
	capped.ChunksPerCommit = 1
	if sum := Import(context.Background(), Input{Name: h.Path}, capped); sum.Status != store.StatusFailed || !sum.Reverted {
		t.Fatalf("--max-rejects as %s: %s, reverted %v (error %v)", role, sum.Status, sum.Reverted, sum.Error)
	}
	pgtest.CheckQuantities(t, admin)
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
