package importer

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/internal/testgen"
	"github.com/batchimport/batchimport/store"
)

// statementCounter counts the statements batchimport sends.
type statementCounter struct {
	mu  sync.Mutex
	all int
	by  map[string]int // statements that read the catalogue, by table
}

func (c *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.all++
	sql := strings.Join(strings.Fields(data.SQL), " ")
	for _, table := range []string{"FROM inventory_items", "FROM item_mappings"} {
		if strings.HasPrefix(sql, "SELECT") && strings.Contains(sql, table) {
			c.by[table]++
		}
	}
	return ctx
}

func (c *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// Resolution never costs a round trip per line: the statements an import
// sends grow with its transactions and accounts, not with its lines.
func TestNoRoundTripPerLine(t *testing.T) {
	t.Parallel()
	for _, perCommit := range []int{DefaultChunksPerCommit, 1} {
		cfg := pgtest.Schema(t)
		counter := &statementCounter{by: map[string]int{}}
		opts := testOptions(cfg)
		opts.DB.Tracer = counter
		opts.ChunksPerCommit = perCommit
		const lines = 20_000
		g := testgen.CSV(t, t.TempDir(), "g.csv", testgen.Spec{Rows: lines})
		sum := Import(context.Background(), Input{Name: g.Path}, opts)
		if sum.Status != store.StatusSuccess {
			t.Fatalf("import: %s %v", sum.Status, sum.Error)
		}
		// One account: its catalogue is read once, items and mappings once each.
		for table, n := range counter.by {
			if n != 1 {
				t.Errorf("chunks per commit %d: %d reads of the catalogue %s, want 1", perCommit, n, table)
			}
		}
		// A chunk-by-chunk import sends a handful of statements per chunk
		// (its transaction, the new items and mappings, the COPY, the
		// invoices, the stock update, the checkpoint); never one per line.
		perChunk := float64(counter.all) / float64(sum.Chunks)
		t.Logf("chunks per commit %d: %d statements for %d lines in %d chunks (%.1f per chunk)",
			perCommit, counter.all, lines, sum.Chunks, perChunk)
		if perChunk > 8 || counter.all > lines/50 {
			t.Errorf("chunks per commit %d: %d statements for %d lines: resolution is not in memory", perCommit, counter.all, lines)
		}
	}
}
