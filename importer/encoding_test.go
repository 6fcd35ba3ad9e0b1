package importer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/store"
)

// In a LATIN1 database, text arrives intact (no mojibake), and a row with a
// character LATIN1 cannot hold is that row's reject, with the SQLSTATE.
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
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	pgtest.Migrate(t, db)
	db.Close(ctx)

	dir := t.TempDir()
	path := filepath.Join(dir, "latin.csv")
	csv := "invoice_number,invoice_date,vendor,description,quantity,unit_price\n" +
		"A1,2026-05-04,Sysco,Jalapeño Peppers,2,1.50\n" +
		"A1,2026-05-04,Sysco,日本酒 Sake,1,20\n" +
		"A1,2026-05-04,Sysco,Crème Fraîche,3,4.25\n"
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := Import(ctx, Input{Name: path}, testOptions(cfg))
	if sum.Status != store.StatusPartialSuccess || sum.RowsImported != 2 || sum.RowsRejected != 1 {
		t.Fatalf("import into LATIN1: %s, %d imported, %d rejected (%v)", sum.Status, sum.RowsImported, sum.RowsRejected, sum.Err)
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
	rejects, err := os.ReadFile(*sum.RejectsFile)
	if err != nil || !strings.Contains(string(rejects), "SQLSTATE 22P05") {
		t.Errorf("the Japanese line's reject does not name SQLSTATE 22P05 (%v):\n%s", err, rejects)
	}
}
