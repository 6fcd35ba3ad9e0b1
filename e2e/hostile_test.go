//go:build unix

package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/store"
)

// A 300 MB NDJSON line, sent through standard input, is rejected, cut to
// its first 4 KiB, in bounded memory and time; the lines around it are
// imported (SPEC §16).
func TestHostileNDJSONLine(t *testing.T) {
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	rejects := filepath.Join(t.TempDir(), "huge.rejects.ndjson")
	line := func(n string) string {
		return `{"invoice_number":"` + n + `","invoice_date":"2026-05-04","vendor":"V","description":"Milk","quantity":1,"unit_price":2}` + "\n"
	}
	h := importMeasured(t, cfg, "300 MB NDJSON line", func(w io.Writer) {
		writeHuge(w, line("A-1")+`{"invoice_number":"H-1","description":"`, `"}`+"\n"+line("A-2"))
	}, "--format", "ndjson", "--source-id", "huge", "--rejects", rejects, "-")
	if h.code != 3 {
		t.Fatalf("exit %d, want 3\n%s", h.code, h.out)
	}
	listIs(t, conn, "A-1 A-2", `SELECT invoice_number FROM transactions ORDER BY line_no`)
	got, err := os.ReadFile(rejects)
	if err != nil || len(got) > 8<<10 || !strings.Contains(string(got), "more than --max-record-bytes 1048576") {
		t.Errorf("rejects file (%d bytes, %v):\n%.600s", len(got), err, got)
	}
	pgtest.CheckQuantities(t, conn)
}

// 20,000 empty columns: in a header, the file is refused at once; in
// records, each is rejected, kept cut, and the lines around are imported;
// in bounded memory and time either way (SPEC §16).
func TestHostileWideCSV(t *testing.T) {
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	const header = "invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price"
	empty := strings.Repeat(",", 20000)
	// Written as they are made: the peak RSS of a child counts its
	// parent's memory until the child's exec.
	write := func(name string, wideHeader, wideRows bool) string {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriter(f)
		w.WriteString(header)
		if wideHeader {
			w.WriteString(empty)
		}
		w.WriteString("\n")
		for i := range 3000 {
			w.WriteString("X-" + strconv.Itoa(i) + ",2026-05-04,V,S" + strconv.Itoa(i%10) + ",Milk " + strconv.Itoa(i%10) + ",1,ea,2")
			if wideHeader || wideRows && i%2 == 1 {
				w.WriteString(empty)
			}
			w.WriteString("\n")
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for _, c := range []struct {
		name string
		path string
		exit int
	}{
		{"wide records", write("wide-records.csv", false, true), 3},
		{"wide header", write("wide-header.csv", true, false), 1},
	} {
		h := importMeasured(t, cfg, c.name, nil, c.path)
		if h.code != c.exit {
			t.Errorf("%s: exit %d, want %d\n%.2000s", c.name, h.code, c.exit, h.out)
		}
		if c.exit == 1 && !strings.Contains(h.out, "more than 1000") {
			t.Errorf("%s: the message does not say why:\n%.2000s", c.name, h.out)
		}
	}
	countIs(t, conn, 1500, `SELECT count(*) FROM transactions`)
	countIs(t, conn, 1500, `SELECT count(*) FROM rejects WHERE reason LIKE '%more than 1000%'`)
	pgtest.CheckQuantities(t, conn)
}

// A gzip bomb whose record never ends (an unterminated quote, then 1 GiB)
// rejects that record's line, naming --max-record-bytes, in bounded memory
// and time; the lines before and after it are imported.
func TestHostileUnterminatedQuoteInAGzipBomb(t *testing.T) {
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	path := filepath.Join(t.TempDir(), "bomb.csv.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	// Gzip members, each compressed once: a gzip stream may be several,
	// read one after the other, and compressing 1 GiB would take the test
	// longer than the import.
	member := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(b); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	w := bufio.NewWriter(f)
	w.Write(member([]byte("invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price\n" +
		"B-1,2026-05-04,V,S1,Milk,1,ea,2\n" + `B-2,2026-05-04,V,S1,"Milk`)))
	mib := member(bytes.Repeat([]byte("a"), 1<<20))
	for range 1024 {
		w.Write(mib)
	}
	w.Write(member([]byte("\nB-3,2026-05-04,V,S1,Milk,1,ea,2\n")))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	h := importMeasured(t, cfg, fmt.Sprintf("1 GiB unterminated quote, %d KiB gzipped", fileSize(t, path)>>10), nil, path)
	if h.code != 3 {
		t.Errorf("exit %d; want 3 (a row rejected)\n%.2000s", h.code, h.out)
	}
	listIs(t, conn, "B-1 B-3", `SELECT invoice_number FROM transactions ORDER BY 1`)
	listIs(t, conn, "3", `SELECT line_no::text FROM rejects WHERE reason LIKE '%longer than --max-record-bytes%' AND length(raw) < 5000`)
	pgtest.CheckQuantities(t, conn)
}

func fileSize(t *testing.T, path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// A 300 MB element of a JSON array, through standard input, is rejected
// at its line, naming --max-record-bytes, in bounded memory and time; the
// elements before and after it are imported.
func TestHostileJSONElement(t *testing.T) {
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	h := importMeasured(t, cfg, "300 MB JSON element", func(w io.Writer) {
		writeHuge(w, `[{"invoice_number":"J-1","invoice_date":"2026-05-04","vendor":"V","description":"Milk","quantity":1,"unit_price":2},`+
			"\n"+`{"invoice_number":"J-2","description":"`, `"} ,`+"\n"+
			`{"invoice_number":"J-3","invoice_date":"2026-05-04","vendor":"V","description":"Milk","quantity":1,"unit_price":2}]`)
	}, "--format", "json", "--source-id", "huge-json", "--rejects", filepath.Join(t.TempDir(), "r.ndjson"), "-")
	if h.code != 3 {
		t.Errorf("exit %d; want 3 (a row rejected)\n%.2000s", h.code, h.out)
	}
	listIs(t, conn, "J-1 J-3", `SELECT invoice_number FROM transactions ORDER BY 1`)
	listIs(t, conn, "2", `SELECT line_no::text FROM rejects WHERE reason LIKE '%array element 2 is 3145%, more than --max-record-bytes%' AND length(raw) < 5000`)
	pgtest.CheckQuantities(t, conn)
}

// 200 records of about 1 MB each, just within --max-record-bytes, half of
// them rejected (a description far over its bound, kept whole for the
// rejects) and half imported (the bytes in a column batchimport does not
// read): each is a row or a reject, in bounded memory. Records were held
// in memory by the thousand, whatever their size: 1.5 GiB for 600 such.
func TestHostileLargeRecords(t *testing.T) {
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	rejects := filepath.Join(t.TempDir(), "large.rejects.csv")
	const records = 200
	filler := strings.Repeat("n", 1_000_000)
	var lines []int
	h := importMeasured(t, cfg, "200 records of 1 MB", func(w io.Writer) {
		bw := bufio.NewWriter(w)
		defer bw.Flush()
		bw.WriteString("invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price,notes\n")
		for i := range records {
			if i%2 == 0 {
				fmt.Fprintf(bw, "L-%d,2026-05-04,V,S1,%s,1,ea,2,\n", i, filler)
			} else {
				fmt.Fprintf(bw, "L-%d,2026-05-04,V,S1,Milk,1,ea,2,%s\n", i, filler)
			}
		}
	}, "--format", "csv", "--source-id", "large-records", "--rejects", rejects, "-")
	if h.code != 3 {
		t.Fatalf("exit %d, want 3 (half the rows rejected)\n%.2000s", h.code, h.out)
	}
	for i := range records {
		lines = append(lines, i+2)
	}
	if n := queryInt(t, conn, `SELECT count(*) FROM rejects WHERE reason LIKE 'description: must be at most 500 characters%' AND length(raw) > 1000000`); n != records/2 {
		t.Errorf("%d rejects of a long description kept whole, want %d", n, records/2)
	}
	pgtest.CheckInvariant(t, conn, "large-records", lines, rejects)
	pgtest.CheckQuantities(t, conn)
}

// 300 records of 2 MB, --max-record-bytes at its most, all imported (the
// bytes in a column batchimport does not read), each invoice 50 records
// long, from a file, so that two writers take it: the rows of an invoice
// begun in the group before are held back to their group's end, and
// they were held whatever their size (330 MiB at peak).
func TestHostileLargeRecordsOfOneInvoice(t *testing.T) {
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	const records = 300
	path := filepath.Join(t.TempDir(), "large.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	bw.WriteString("invoice_number,invoice_date,vendor,description,quantity,unit_price,notes\n")
	filler := strings.Repeat("n", 2_080_000)
	var lines []int
	for i := range records {
		fmt.Fprintf(bw, "R2M-%d,2026-01-01,V,Item %d,1,1,%s\n", i/50, i%5, filler)
		lines = append(lines, i+2)
	}
	if err := errors.Join(bw.Flush(), f.Close()); err != nil {
		t.Fatal(err)
	}
	h := importMeasured(t, cfg, "300 records of 2 MB", nil, "--max-record-bytes", "2097152", "--chunk-size", "300", path)
	if h.code != 0 {
		t.Fatalf("exit %d, want 0\n%.2000s", h.code, h.out)
	}
	var key string
	if err := conn.QueryRow(context.Background(), `SELECT source_key FROM import_runs`).Scan(&key); err != nil {
		t.Fatal(err)
	}
	pgtest.CheckInvariant(t, conn, key, lines, "")
}

// measuredImport is an import of hostile input: its output, exit code,
// time and peak RSS.
type measuredImport struct {
	out    string
	code   int
	took   time.Duration
	rssMiB int64
}

// importMeasured runs the built binary's import with args, standard input
// written by feed (nil: none), and fails the test unless it ends within
// 30 s with a peak RSS under 200 MiB. The peak RSS of a child counts its
// parent's memory until its exec: the test keeps its own small.
func importMeasured(t *testing.T, cfg store.Config, what string, feed func(io.Writer), args ...string) measuredImport {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"import", "--schema", cfg.Schema, "--output", "json"}, args...)...)
	cmd.Env = append(os.Environ(), "BATCHIMPORT_DATABASE_URL="+cfg.URL)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	var r, w *os.File
	if feed != nil {
		var err error
		if r, w, err = os.Pipe(); err != nil {
			t.Fatal(err)
		}
		cmd.Stdin = r
	}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if feed != nil {
		r.Close()
		go func() {
			defer w.Close()
			feed(w)
		}()
	}
	_ = cmd.Wait()
	m := measuredImport{out: out.String(), code: cmd.ProcessState.ExitCode(), took: time.Since(began),
		rssMiB: cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss >> 10} // KiB on Linux
	// The bound is on the work done, its CPU time, not on the time taken,
	// which the other tests running at once stretch.
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	t.Logf("%s: %s (CPU %s), peak RSS %d MiB", what, m.took.Round(time.Millisecond), cpu.Round(time.Millisecond), m.rssMiB)
	if cpu > 30*time.Second || m.rssMiB > 200 {
		t.Errorf("%s: CPU %s, peak RSS %d MiB; want under 30 s and 200 MiB", what, cpu, m.rssMiB)
	}
	return m
}

// writeHuge writes before, 300 MiB of "a", and after, stopping at the
// first write that fails (the reader is gone).
func writeHuge(w io.Writer, before, after string) {
	if _, err := io.WriteString(w, before); err != nil {
		return
	}
	chunk := bytes.Repeat([]byte("a"), 1<<20)
	for range 300 {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
	_, _ = io.WriteString(w, after)
}
