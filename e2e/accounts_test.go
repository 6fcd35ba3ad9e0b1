//go:build unix

package e2e

import (
	"strconv"
	"strings"
	"testing"

	"github.com/batchimport/batchimport/internal/pgtest"
)

// --account is binding (SPEC §16): an input naming another account has
// that row rejected, saying how to allow it; --allow-account allows one,
// --allow-any-account all. Thousands of accounts in one file are loaded on
// the import's one catalogue connection.
func TestAccountIsBinding(t *testing.T) {
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	const header = "invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price,account\n"
	input := header +
		"A-1,2026-11-27,Sysco,S1,Whole Milk,2,gal,3.10,\n" +
		"A-1,2026-11-27,Sysco,S2,Large Eggs,1,cs,40.00,acme\n" +
		"A-1,2026-11-27,Sysco,S3,Butter,1,lb,2.50,rival\n" +
		"A-1,2026-11-27,Sysco,S4,Cream,1,qt,4.00,north\n"
	path := writeCSV(t, dir, "acme.csv", input)
	p, code := runBin(t, cfg, "import", "--account", "acme", "--output", "json", path)
	if code != 3 {
		t.Fatalf("exit %d, want 3 (two rows of other accounts rejected)\n%s%s", code, p.stdout.String(), p.stderr.String())
	}
	rejects := readFile(t, defaultRejects(path))
	for _, want := range []string{"rival", "north", "--allow-account"} {
		if !strings.Contains(rejects, want) {
			t.Errorf("the rejects file does not say %q:\n%s", want, rejects)
		}
	}
	listIs(t, conn, "acme acme", `SELECT account FROM transactions ORDER BY line_no`)

	// Allowed, the same file's other accounts are imported (a new run of
	// the same bytes: --force).
	p, code = runBin(t, cfg, "import", "--account", "acme", "--allow-account", "north", "--force", "--output", "json", path)
	if code != 3 {
		t.Fatalf("--allow-account north: exit %d\n%s%s", code, p.stdout.String(), p.stderr.String())
	}
	// The first run's rejects file stays; this run's goes beside it.
	second, _ := p.summary(t)["rejects_file"].(string)
	if second == defaultRejects(path) || !strings.Contains(readFile(t, second), "rival") || strings.Contains(readFile(t, second), "north") {
		t.Errorf("--allow-account north: rejects file %s:\n%s", second, readFile(t, second))
	}
	wide := header
	for i := range 2000 {
		wide += "W-1,2026-11-27,Sysco,S1,Whole Milk,1,gal,3.10,tenant-" + strconv.Itoa(i) + "\n"
	}
	p, code = runBin(t, cfg, "import", "--account", "acme", "--allow-any-account", "--output", "json", writeCSV(t, dir, "wide.csv", wide))
	if code != 0 {
		t.Fatalf("--allow-any-account: exit %d\n%s%s", code, p.stdout.String(), p.stderr.String())
	}
	countIs(t, conn, 2000, `SELECT count(DISTINCT account) FROM transactions WHERE invoice_number = 'W-1'`)
	pgtest.CheckQuantities(t, conn)

	if _, code := runBin(t, cfg, "import", "--allow-account", "", path); code != 2 {
		t.Errorf("--allow-account '': exit %d, want 2", code)
	}
}
