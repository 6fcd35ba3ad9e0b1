//go:build unix

package e2e

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/batchimport/batchimport/internal/pgtest"
)

// No connection string, in any form, is ever echoed (SPEC §16): not in a
// connection error, a parse error, a log line or a JSON summary, whether
// it comes from the environment or from --database-url, and whether the
// connection fails or works.
func TestConnectionStringsNeverEchoed(t *testing.T) {
	cfg := pgtest.Schema(t)
	pc, err := pgx.ParseConfig(cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	path := writeCSV(t, t.TempDir(), "a.csv", "invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price\n"+
		"A-1,2026-11-27,Sysco,S1,Whole Milk,2,gal,3.10\n")
	const secret = "s3cretPW"
	working := "postgres://" + pc.User + ":" + secret + "@/" + pc.Database + "?host=" + pc.Host + "&port=" + strconv.Itoa(int(pc.Port))
	for _, c := range []struct {
		name, url string
		works     bool
	}{
		{"URL, refused", "postgres://postgres:" + secret + "@127.0.0.1:1/db?connect_timeout=2", false},
		{"key=value, spaces around =", "host=/nonexistent password = " + secret, false},
		{"key=value, quoted, bad port", "host=/nonexistent password='" + secret + "' port=abc", false},
		{"URL that cannot be parsed", "postgres://u:" + secret + "@[bad/db", false},
		{"URL, working", working, true},
	} {
		for _, args := range [][]string{
			{"import", "--schema", cfg.Schema, "--output", "json", "--force", path},
			{"status", "--schema", cfg.Schema, "--output", "json"},
			{"migrate", "--schema", cfg.Schema},
		} {
			for _, viaFlag := range []bool{false, true} {
				cmd := exec.Command(binary, args...)
				cmd.Env = append(cleanEnv(), "BATCHIMPORT_DATABASE_URL="+c.url)
				if viaFlag {
					cmd = exec.Command(binary, append(args, "--database-url", c.url)...)
					cmd.Env = cleanEnv()
				}
				out, err := cmd.CombinedOutput()
				if strings.Contains(string(out), secret) {
					t.Errorf("%s, %s (flag %v): the password was printed:\n%s", c.name, args[0], viaFlag, out)
				}
				if (err == nil) != c.works {
					t.Errorf("%s, %s (flag %v): %v, want it to work: %v\n%s", c.name, args[0], viaFlag, err, c.works, out)
				}
			}
		}
	}
}

// cleanEnv is the environment without libpq's variables and connection
// strings, so that only the one under test is used.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "DATABASE_URL=") || strings.HasPrefix(kv, "BATCHIMPORT_DATABASE_URL=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}
