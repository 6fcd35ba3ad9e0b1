package store

import (
	"context"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
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

func TestAppendDecimal(t *testing.T) {
	for _, s := range []string{"0", "1", "-1", "12.5", "-0.001", "0.0001", "1234567.8901", "-999999999999999.999",
		"123456789012345678901234", "1e3", "1.50", "0.000000000000000000001"} {
		d := decimal.RequireFromString(s)
		got, err := decimal.NewFromString(string(appendDecimal(nil, d)))
		if err != nil || !got.Equal(d) {
			t.Errorf("appendDecimal(%s) = %q, %v", s, appendDecimal(nil, d), err)
		}
	}
}
