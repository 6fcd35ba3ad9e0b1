package importer

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// A retry says what failed: a transaction the server rolled back for a
// deadlock is not a lost connection.
func TestRetryNamesWhatFailed(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{&pgconn.PgError{Code: "40P01", Message: "deadlock detected"}, "a deadlock or a serialization failure"},
		{&pgconn.PgError{Code: "40001", Message: "could not serialize access"}, "a deadlock or a serialization failure"},
		{errors.New("read: connection reset by peer"), "database connection failed; retrying"},
	} {
		var log bytes.Buffer
		r := &retrier{policy: RetryPolicy{Attempts: 1, MaxElapsed: time.Minute, Base: time.Millisecond, Max: time.Millisecond},
			log: slog.New(slog.NewTextHandler(&log, nil))}
		if err := r.wait(context.Background(), c.err); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(log.String(), c.want) {
			t.Errorf("%v: logged %q, want it to say %q", c.err, log.String(), c.want)
		}
	}
}
