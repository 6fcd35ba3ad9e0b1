package importer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/internal/testgen"
	"github.com/batchimport/batchimport/store"
)

// brokenReader gives the first n bytes of r, then fails as a pipe whose
// writer died would.
type brokenReader struct {
	r io.Reader
	n int
}

func (b *brokenReader) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, errors.New("read |0: connection reset by peer")
	}
	if len(p) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= n
	return n, err
}

// Standard input cannot be hashed before it is read: a resumed run checks
// that the input starts with the bytes it read before, and refuses other
// content under the same --source-id before writing anything.
func TestResumedStdinMustStartAsBefore(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	g := testgen.CSV(t, dir, "may.csv", testgen.Spec{Rows: 5000, BadEvery: 97})
	other := testgen.CSV(t, dir, "june.csv", testgen.Spec{Rows: 5000, BadEvery: 97, Variant: 1})
	data, err := os.ReadFile(g.Path)
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions(cfg)
	opts.Format, opts.SourceID, opts.ChunkSize, opts.ChunksPerCommit = "csv", "may-stdin", 100, 1
	opts.RejectsPath = dir + "/stdin.rejects.csv"

	first := Import(context.Background(), Input{Name: "-", Stdin: &brokenReader{r: bytes.NewReader(data), n: len(data) / 10}}, opts)
	var ie *InputError
	if first.Status != store.StatusFailed || !errors.As(first.Err, &ie) || first.RowsRead == 0 {
		t.Fatalf("broken stdin: %s, read %d, error %v; want failed after some rows", first.Status, first.RowsRead, first.Err)
	}

	before := pgtest.Snapshot(t, conn)
	june, err := os.Open(other.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer june.Close()
	refused := Import(context.Background(), Input{Name: "-", Stdin: june}, opts)
	var reused *ReusedSourceError
	if refused.Status != store.StatusFailed || !errors.As(refused.Err, &reused) || reused.RunID != *first.RunID {
		t.Fatalf("other content under the same --source-id: %s %v, want it refused naming run %d", refused.Status, refused.Err, *first.RunID)
	}
	if after := pgtest.Snapshot(t, conn); after != before {
		// The run's status and owner change; its rows, rejects and stock do not.
		for _, table := range []string{"transactions", "rejects", "inventory_items", "item_mappings"} {
			if tableLine(before, table) != tableLine(after, table) {
				t.Errorf("%s changed by a refused import", table)
			}
		}
	}

	resumed := Import(context.Background(), Input{Name: "-", Stdin: bytes.NewReader(data)}, opts)
	if resumed.Status != store.StatusPartialSuccess || *resumed.RunID != *first.RunID || resumed.ResumedFromLine == nil || resumed.RowsRead != 5000 {
		t.Fatalf("resume with the same bytes: %+v", resumed)
	}
	pgtest.CheckInvariant(t, conn, resumed.SourceKey, g.Lines, opts.RejectsPath)
}

// tableLine is a table's line of a pgtest.Snapshot.
func tableLine(snapshot, table string) string {
	for _, l := range bytes.Split([]byte(snapshot), []byte("\n")) {
		if bytes.HasPrefix(l, []byte(table+"=")) {
			return string(l)
		}
	}
	return ""
}

// An input from a drop folder that is a symlink when it is opened is not
// read, wherever it points.
func TestNoSymlinkInputIsRefused(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "private.csv")
	if err := os.WriteFile(target, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "b.csv")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := openSource(Input{Name: link, NoSymlink: true}, 0); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("a symlinked drop-folder input: %v; want it refused", err)
	}
	if s, err := openSource(Input{Name: link}, 0); err != nil {
		t.Errorf("a symlink given on the command line: %v; want it read", err)
	} else {
		s.close()
	}
}
