//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/jackc/pgx/v5"
)

// splitHalves writes the first and second halves of the lines of path
// into two files beside it. It streams: the benchmark's own memory is in
// every child's peak RSS (a forked child starts with its parent's).
func splitHalves(path string) ([]string, error) {
	count := func() (int, error) {
		f, err := os.Open(path)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		n, sc := 0, bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			n++
		}
		return n, sc.Err()
	}
	lines, err := count()
	if err != nil {
		return nil, err
	}
	in, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	r := bufio.NewReader(in)
	var out []string
	for i, n := range []int{lines / 2, lines - lines/2} {
		name := fmt.Sprintf("%s.%d", path, i+1)
		f, err := os.Create(name)
		if err != nil {
			return out, err
		}
		out = append(out, name)
		w := bufio.NewWriter(f)
		for range n {
			line, err := r.ReadString('\n')
			if err != nil && (err != io.EOF || line == "") {
				f.Close()
				return out, err
			}
			_, _ = w.WriteString(line)
		}
		if err := w.Flush(); err != nil {
			f.Close()
			return out, err
		}
		if err := f.Close(); err != nil {
			return out, err
		}
	}
	return out, nil
}

// psqlCopyAtOnce runs psql \copy of each file into the table at once, each
// on its own connection, as a parallel loader of resolved rows would: one
// sample, from the first start to the last exit, with the CPU time of all
// and the larger peak RSS.
func psqlCopyAtOnce(ctx context.Context, table, cols string, files []string) (sample, error) {
	var wg sync.WaitGroup
	results := make([]runResult, len(files))
	errs := make([]error, len(files))
	for i, f := range files {
		wg.Go(func() {
			results[i], errs[i] = psql(ctx, `\copy `+table+` (`+cols+`) FROM `+quoteLiteral(f))
		})
	}
	var s sample
	wg.Wait()
	for i, r := range results {
		if errs[i] != nil {
			return s, errs[i]
		}
		s.WallSeconds = max(s.WallSeconds, r.WallSeconds)
		s.UserSeconds += r.UserSeconds
		s.SysSeconds += r.SysSeconds
		s.MaxRSSKiB = max(s.MaxRSSKiB, r.MaxRSSKiB)
	}
	return s, nil
}

// refusedEvery is how often the trigger of (h) refuses a row: the rows of
// lines whose number ends in 007, 0.1% of them.
const refusedEvery = 1000

// refusedIn counts the rows of the warm-up run that the trigger of (h)
// refuses.
func refusedIn(ctx context.Context, conn *pgx.Conn, schema string, runID int64) (int64, error) {
	var n int64
	err := conn.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{schema}.Sanitize()+`.transactions
		WHERE run_id = $1 AND line_no % $2 = 7`, runID, refusedEvery).Scan(&n)
	return n, err
}

// withRefusingTrigger runs f with a trigger on transactions that refuses
// 0.1% of the rows, as an operator's rule would. Its WHEN clause keeps the
// other rows from calling it.
func withRefusingTrigger(ctx context.Context, conn *pgx.Conn, schema string, f func() error) error {
	s := pgx.Identifier{schema}.Sanitize()
	_, err := conn.Exec(ctx, fmt.Sprintf(`
		CREATE OR REPLACE FUNCTION %[1]s.bench_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			RAISE EXCEPTION 'line %% is on hold', NEW.line_no;
		END $$;
		CREATE TRIGGER bench_refuse BEFORE INSERT ON %[1]s.transactions
			FOR EACH ROW WHEN (NEW.line_no %% %[2]d = 7) EXECUTE FUNCTION %[1]s.bench_refuse();`, s, refusedEvery))
	if err != nil {
		return err
	}
	ferr := f()
	if _, err := conn.Exec(context.WithoutCancel(ctx), `DROP TRIGGER bench_refuse ON `+s+`.transactions`); err != nil && ferr == nil {
		ferr = err
	}
	return ferr
}
