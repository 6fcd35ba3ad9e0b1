package store

import (
	"context"
	"strings"
	"testing"
)

// A connection string that cannot be parsed is never quoted, whatever its
// form: pgx hides the password of well-formed strings only.
func TestParseErrorsHidePasswords(t *testing.T) {
	for _, url := range []string{
		"host=/tmp password = 's3cret",
		"password =s3cret host=/tmp port=abc",
		"host=/tmp password=s3cret connect_timeout=x",
		"postgres://u:s3cret@[bad/db",
	} {
		_, err := Open(context.Background(), Config{URL: url})
		if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "cannot parse") {
			t.Errorf("Open(%q): %v; want a parse error without the password", url, err)
		}
	}
}
