//go:build unix

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batchimport/batchimport/internal/pgtest"
)

// The README's cron recipe, run verbatim twice over a drop folder (SPEC
// §16): imported files go to done with their rejects files, files that
// failed on their content to failed; a file still being written, a rejects
// file left behind, a hidden file and a symlink stay where they are; a
// file re-sent under a name already in done goes beside it. Every record of
// every file is once in transactions or in the rejects.
func TestCronRecipeOverADropFolder(t *testing.T) {
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	script := cronRecipe(t)

	// batchimport, as the recipe calls it, is the binary under test in this
	// test's schema.
	bin := t.TempDir()
	wrapper := "#!/bin/sh\nsub=$1; shift\nexec " + binary + " \"$sub\" --schema " + cfg.Schema + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "batchimport"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	in, done, failed, logs := filepath.Join(root, "incoming"), filepath.Join(root, "done"), filepath.Join(root, "failed"), filepath.Join(root, "log")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	const header = "invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price\n"
	files := map[string]string{
		"good.csv":             header + "G-1,2026-11-27,Sysco,S1,Whole Milk,2,gal,3.10\nG-1,2026-11-27,Sysco,S2,Large Eggs,1,cs,40.00\n",
		"sysco.2026-11-28.csv": header + "S-1,2026-11-28,Sysco,S1,Whole Milk,1,gal,3.10\nS-1,2026-02-30,Sysco,S2,Large Eggs,1,cs,40.00\nS-1,2026-11-28,Sysco,S3,Butter,4,lb,2.50\n",
		"bad.csv":              "this is not,an invoice\n1,2\n",
		"allbad.csv":           header + "A-1,someday,Sysco,S1,Whole Milk,1,gal,3.10\n",
		"uploading.csv":        header + "U-1,2026-11-29,Sysco,S1,Whole Milk,5,gal,3.10\n",
		"old.rejects.csv":      header + "O-1,2026-11-20,Sysco,S1,Whole Milk,9,gal,3.10\n",
		".hidden.csv":          header + "H-1,2026-11-20,Sysco,S1,Whole Milk,9,gal,3.10\n",
	}
	long := time.Now().Add(-time.Hour)
	for name, data := range files {
		p := writeCSV(t, in, name, data)
		if name != "uploading.csv" {
			if err := os.Chtimes(p, long, long); err != nil {
				t.Fatal(err)
			}
		}
	}
	secret := writeCSV(t, root, "secret.csv", header+"X-1,2026-11-20,Sysco,S1,Secret,1,gal,1\n")
	if err := os.Symlink(secret, filepath.Join(in, "link.csv")); err != nil {
		t.Fatal(err)
	}

	cron := func() string {
		t.Helper()
		c := exec.Command("sh", "-c", script)
		c.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "INVOICES="+root, "LOGS="+logs,
			"BATCHIMPORT_DATABASE_URL="+cfg.URL)
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("the cron recipe: %v\n%s", err, out)
		}
		return string(out)
	}
	out := cron()
	if !strings.Contains(out, "an import failed") {
		t.Errorf("the recipe's mail: %q; want it to say an import failed", out)
	}
	dirIs(t, in, ".hidden.csv link.csv old.rejects.csv uploading.csv")
	dirIs(t, done, "good.csv sysco.2026-11-28.csv sysco.2026-11-28.rejects.csv")
	dirIs(t, failed, "allbad.csv allbad.rejects.csv bad.csv")
	log, _ := os.ReadFile(filepath.Join(logs, "import.log"))
	if !strings.Contains(string(log), "bad.csv") || !strings.Contains(string(log), "level=ERROR") {
		t.Errorf("import.log does not name the failure:\n%s", log)
	}
	// The summary and the run name the rejects file where it went.
	moved := filepath.Join(done, "sysco.2026-11-28.rejects.csv")
	if sums, _ := os.ReadFile(filepath.Join(logs, "summaries.ndjson")); !strings.Contains(string(sums), `"rejects_file":"`+moved+`"`) {
		t.Errorf("summaries.ndjson does not name %s:\n%s", moved, sums)
	}
	countIs(t, conn, 1, `SELECT count(*) FROM import_runs WHERE rejects_file = $1`, moved)

	// The upload has ended; the supplier sends good.csv again.
	if err := os.Chtimes(filepath.Join(in, "uploading.csv"), long, long); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(writeCSV(t, in, "good.csv", files["good.csv"]), long, long); err != nil {
		t.Fatal(err)
	}
	if out := cron(); out != "" {
		t.Errorf("the second night's mail: %q; want none", out)
	}
	dirIs(t, in, ".hidden.csv link.csv old.rejects.csv")
	entries, _ := os.ReadDir(done)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 5 || !slices.Contains(names, "uploading.csv") || !slices.ContainsFunc(names, func(n string) bool {
		return strings.HasPrefix(n, "good.run-") && strings.HasSuffix(n, ".csv")
	}) {
		t.Errorf("done holds %v; want good.csv, the re-sent good.csv beside it, uploading.csv and sysco's two files", names)
	}
	sums, _ := os.ReadFile(filepath.Join(logs, "summaries.ndjson"))
	if n := strings.Count(string(sums), "\n"); n != 7 {
		t.Errorf("summaries.ndjson holds %d summaries, want 5 of the first night and 2 of the second:\n%s", n, sums)
	}

	key := func(name string) string {
		h := sha256.Sum256([]byte(files[name]))
		return "sha256:" + hex.EncodeToString(h[:])
	}
	accounted(t, conn, map[string][]int{key("good.csv"): {2, 3}, key("sysco.2026-11-28.csv"): {2, 3, 4}, key("bad.csv"): {},
		key("allbad.csv"): {2}, key("uploading.csv"): {2}})
	countIs(t, conn, 0, `SELECT count(*) FROM transactions WHERE description = 'Secret' OR invoice_number IN ('O-1', 'H-1')`)
	if st, err := os.Stat(secret); err != nil || st.Size() == 0 {
		t.Errorf("the symlink's target: %v", err)
	}
}

// cronRecipe is the script of the README's "Running from cron".
func cronRecipe(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "\n## Running from cron\n")
	if ok {
		_, after, ok = strings.Cut(after, "```sh\n")
	}
	script, _, ok2 := strings.Cut(after, "\n```")
	if !ok || !ok2 {
		t.Fatal("README.md has no sh block under ## Running from cron")
	}
	return script
}

func dirIs(t *testing.T, dir, want string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != want {
		t.Errorf("%s holds %q, want %q", filepath.Base(dir), got, want)
	}
}

// A file given twice, under any spelling of its path, is imported once
// and moved once; the second time, moved away by the first, it is skipped
// as already imported, not failed as missing.
func TestFileGivenTwiceIsImportedOnce(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	root := t.TempDir()
	in, done, failed := filepath.Join(root, "in"), filepath.Join(root, "done"), filepath.Join(root, "failed")
	for _, d := range []string{in, done, failed} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p := writeLines(t, in, "dup.csv", "D-1,2026-11-27,Sysco,S1,Whole Milk,2,gal,3.10\n")
	out := bi(t, cfg, 0, "import", "--done-dir", done, "--failed-dir", failed, "--output", "json", p, p, in+"/./dup.csv")
	sums := jsonLines(t, out)
	if len(sums) != 3 || sums[0]["status"] != "success" || sums[1]["status"] != "skipped" || sums[2]["status"] != "skipped" ||
		sums[1]["run_id"] != sums[0]["run_id"] || sums[2]["already_imported"] != true {
		t.Errorf("summaries %v; want success, then skipped twice as imported by its run", sums)
	}
	if _, err := os.Stat(filepath.Join(done, "dup.csv")); err != nil {
		t.Errorf("the file is not in the done folder: %v", err)
	}
	checkStock(t, conn, map[string]string{"Whole Milk gal": "2.000"})
}
