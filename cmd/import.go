package cmd

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/batchimport/batchimport/importer"
	"github.com/batchimport/batchimport/invoice"
	"github.com/batchimport/batchimport/mapping"
	"github.com/batchimport/batchimport/store"
)

// importOptions are the flags of import (and dryrun).
type importOptions struct {
	account        string
	doneDir        string
	failedDir      string
	allowAccounts  []string
	maxRecordBytes int
	anyAccount     bool
	format         string
	chunkSize      int
	perCommit      int
	writers        int
	rejects        string
	maxRejects     int64
	maxNewItems    int64
	noCreate       bool
	onFuzzy        string
	onNew          string
	fuzzyThreshold float64
	mappingReport  string
	sourceID       string
	minAge         time.Duration
	force          bool
	output         string
	quiet          bool
	noProgress     bool
	columns        []string
	delimiter      string
	set            []string
	skipLines      int
	dateFormat     string
	decimalSep     string
	thousandsSep   string
	encoding       string
	skipNonLines   bool
	records        string
	sheet          string
	config         string
	profile        string
}

func newImportCmd(g *globalOptions) *cobra.Command {
	o := &importOptions{}
	c := &cobra.Command{
		Use:   "import FILE|DIR...",
		Short: "Import invoice files (- is standard input; a directory is the inputs in it), each as its own run",
		Long: `Import each FILE as its own run. Lines are validated and resolved to
inventory items in file order, written in COPY chunks together with their
inventory changes, and rejected lines go to a rejects file that can be fixed
and imported again. An interrupted run resumes where it stopped; a file that
was already imported is skipped unless --force.`,
		Example: `  batchimport import invoices.csv
  batchimport import --account acme --output json in/*.csv.gz
  zcat may.ndjson.gz | batchimport import --format ndjson --source-id may-2026 -
  batchimport import --min-age 5m --done-dir done --failed-dir failed incoming/`,
		Args: minArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return runImport(c, g, o, args, nil)
		},
	}
	o.addFlags(c)
	return c
}

func (o *importOptions) addFlags(c *cobra.Command) {
	o.addFlagsTo(c.Flags())
}

// addFlagsTo defines the flags of import (and dryrun) in f: once on the
// command, and again per input when a config applies (optionsFor).
func (o *importOptions) addFlagsTo(f *pflag.FlagSet) {
	f.StringVar(&o.config, "config", "", "config file of defaults and supplier profiles (default: $"+configEnv+", else batchimport/config.toml in the user config directory)")
	f.StringVar(&o.profile, "profile", "", "the config's profile for every input (default: the profile whose match patterns match the file's name)")
	f.StringVar(&o.account, "account", "default", "account (tenant) of the run: rows without an account value are its, rows naming another are rejected")
	f.StringArrayVar(&o.allowAccounts, "allow-account", nil, "another account rows may name (repeatable)")
	f.IntVar(&o.maxRecordBytes, "max-record-bytes", invoice.DefaultMaxRecordBytes, "reject a record longer than this many bytes (an NDJSON line, a JSON array element, a CSV record's first line), keeping its first 4 KiB, and read on after it")
	f.BoolVar(&o.anyAccount, "allow-any-account", false, "rows may name any account (the file chooses the tenant: for trusted inputs only)")
	f.StringVar(&o.doneDir, "done-dir", "", "move each input whose run succeeded, partly succeeded or was skipped into this directory, with its rejects file")
	f.StringVar(&o.failedDir, "failed-dir", "", "move each input whose run failed on the file (not on the database) or rejected every row into this directory")
	f.StringVar(&o.format, "format", "", "input format: csv, json, ndjson or xlsx (default: by extension; required for stdin)")
	f.IntVar(&o.chunkSize, "chunk-size", importer.DefaultChunkSize, "rows per COPY chunk")
	f.IntVar(&o.perCommit, "chunks-per-commit", importer.DefaultChunksPerCommit, "most chunks one transaction carries (1 = a commit per chunk); a transaction also lasts at most 5 seconds")
	f.IntVar(&o.writers, "writers", importer.DefaultWriters, "connections that write a file's rows at once; a run's groups still commit in file order (standard input: always 1)")
	f.StringVar(&o.rejects, "rejects", "", "rejects file (default: beside the input, NAME.rejects.csv or NAME.rejects.ndjson)")
	f.Int64Var(&o.maxRejects, "max-rejects", 0, "stop the run (failed) once more than N rows were rejected; 0 = no limit")
	f.Int64Var(&o.maxNewItems, "max-new-items", importer.DefaultMaxNewItems, "most items a run creates; a line that would create one more is rejected (0 = no limit)")
	f.BoolVar(&o.noCreate, "no-create", false, "reject lines whose item cannot be resolved instead of creating an item (= --on-new reject)")
	f.StringVar(&o.onFuzzy, "on-fuzzy", "apply", "a fuzzy match: apply it, or review it (reject the line, propose the match: batchimport mappings pending)")
	f.StringVar(&o.onNew, "on-new", "create", "a line no item matches: create an item, review it (reject the line, propose the item), or reject it")
	f.Float64Var(&o.fuzzyThreshold, "fuzzy-threshold", mapping.DefaultFuzzyThreshold, "minimum trigram similarity in [0,1] for a fuzzy match; 0 disables fuzzy matching")
	f.StringVar(&o.mappingReport, "mapping-report", "", "write a CSV of each distinct vendor key resolved in the run")
	f.StringVar(&o.sourceID, "source-id", "", "idempotency key of the input (default: sha256 of the file)")
	f.BoolVar(&o.force, "force", false, "import again a source that already completed")
	f.Var(durationFlag{&o.minAge}, "min-age", "leave a file modified more recently than this for later (status deferred), e.g. 2m: an upload may be in progress")
	f.StringVar(&o.output, "output", "text", "summary format on stdout: text or json")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress bar and only warnings in the log")
	f.BoolVar(&o.noProgress, "no-progress", false, "no progress bar (it only shows when stderr is a terminal)")
	f.StringArrayVar(&o.columns, "column", nil, "map an input column to a field, FIELD=HEADER (repeatable)")
	f.StringVar(&o.delimiter, "delimiter", "", "CSV delimiter, one character (default: a tab for .tsv files, else a comma)")
	f.StringArrayVar(&o.set, "set", nil, "give every record FIELD the value VALUE, FIELD=VALUE, e.g. vendor=Sysco (repeatable)")
	f.IntVar(&o.skipLines, "skip-lines", 0, "lines above the CSV header to skip, at most (report titles)")
	f.StringVar(&o.dateFormat, "date-format", "YYYY-MM-DD", "how invoice dates are written, e.g. MM/DD/YYYY or DD.MM.YYYY")
	f.StringVar(&o.decimalSep, "decimal-separator", ".", "decimal separator of quantities and prices: . or ,")
	f.StringVar(&o.thousandsSep, "thousands-separator", "NONE", "thousands separator: NONE, a comma, a point, an apostrophe or a space")
	f.BoolVar(&o.skipNonLines, "skip-non-lines", false, "skip rows with no quantity and no invoice number or date (totals, notes, blank rows) instead of rejecting them")
	f.StringVar(&o.sheet, "sheet", "", "the sheet of an .xlsx input to read (default: the first)")
	f.StringVar(&o.records, "records", "", "where the records of a nested JSON document are: nested arrays, e.g. invoices[].lines[]; members of the objects around a record are its fields too")
	f.StringVar(&o.encoding, "encoding", "utf-8", "text encoding of the input: utf-8, utf-16, windows-1252, iso-8859-1 or iso-8859-15 (a byte order mark wins)")
}

// importerOptions checks the flags and turns them into importer options.
func (o *importOptions) importerOptions(g *globalOptions) (importer.Options, error) {
	opts := importer.Options{
		DB: g.dbConfig(), Account: o.account, AllowAccounts: o.allowAccounts, AnyAccount: o.anyAccount, MaxRecordBytes: o.maxRecordBytes, ChunkSize: o.chunkSize, ChunksPerCommit: o.perCommit, Writers: o.writers, RejectsPath: o.rejects,
		MaxRejects: o.maxRejects, MaxNewItems: o.maxNewItems, NoCreate: o.noCreate, FuzzyThreshold: o.fuzzyThreshold,
		MappingReport: o.mappingReport, SourceID: o.sourceID, Force: o.force, MinAge: o.minAge,
		Columns: invoice.ColumnMap{}, Log: g.log,
	}
	if o.format != "" {
		f, err := invoice.ParseFormat(o.format)
		if err != nil {
			return opts, usagef("--format: %v", err)
		}
		opts.Format = f
	}
	if o.chunkSize < 1 || o.chunkSize > importer.MaxBatchRows {
		return opts, usagef("--chunk-size must be from 1 to %d (the most rows a batch holds)", importer.MaxBatchRows)
	}
	if o.perCommit < 1 {
		return opts, usagef("--chunks-per-commit must be at least 1")
	}
	if o.writers < 1 || o.writers > importer.MaxWriters {
		return opts, usagef("--writers must be from 1 to %d", importer.MaxWriters)
	}
	if o.maxRejects < 0 {
		return opts, usagef("--max-rejects must not be negative")
	}
	if o.maxNewItems < 0 {
		return opts, usagef("--max-new-items must not be negative")
	}
	if o.fuzzyThreshold < 0 || o.fuzzyThreshold > 1 {
		return opts, usagef("--fuzzy-threshold must be in [0,1]")
	}
	if o.output != "text" && o.output != "json" {
		return opts, usagef("--output %q: want text or json", o.output)
	}
	switch o.onFuzzy {
	case "apply":
	case "review":
		opts.ReviewFuzzy = true
	default:
		return opts, usagef("--on-fuzzy %q: want apply or review", o.onFuzzy)
	}
	switch {
	case o.noCreate && o.onNew != "create" && o.onNew != "reject":
		return opts, usagef("--no-create is --on-new reject: give one of them")
	case o.onNew == "create":
	case o.onNew == "review":
		opts.ReviewNew = true
	case o.onNew == "reject":
		opts.NoCreate = true
	default:
		return opts, usagef("--on-new %q: want create, review or reject", o.onNew)
	}
	if !validAccount(o.account) {
		return opts, usagef("--account %q: want an account name of 1 to %d characters, without spaces around it or control characters", o.account, invoice.MaxAccount)
	}
	for _, a := range o.allowAccounts {
		if !validAccount(a) {
			return opts, usagef("--allow-account %q: want an account name of 1 to %d characters, without spaces around it or control characters", a, invoice.MaxAccount)
		}
	}
	if o.maxRecordBytes < 1 || o.maxRecordBytes > invoice.MaxMaxRecordBytes {
		return opts, usagef("--max-record-bytes must be from 1 to %d (2 MiB): a record is held whole in memory, several times over", invoice.MaxMaxRecordBytes)
	}
	if o.minAge < 0 {
		return opts, usagef("--min-age must not be negative")
	}
	for _, spec := range o.columns {
		if err := opts.Columns.Parse(spec); err != nil {
			return opts, &usageError{err: err}
		}
	}
	if strings.EqualFold(o.format, "tsv") && o.delimiter == "" {
		opts.Delimiter = '\t' // standard input, or a .txt file, of tab-separated values
	}
	if d := o.delimiter; d != "" {
		if d == `\t` || d == "tab" {
			d = "\t"
		}
		if utf8.RuneCountInString(d) != 1 || d == "\n" || d == "\r" || d == `"` {
			return opts, usagef("--delimiter %q: want one character other than a quote or newline", o.delimiter)
		}
		opts.Delimiter, _ = utf8.DecodeRuneInString(d)
	}
	for _, spec := range o.set {
		field, value, ok := strings.Cut(spec, "=")
		field = strings.ToLower(strings.TrimSpace(field))
		if !ok || !slices.Contains(invoice.Fields, field) || strings.HasPrefix(field, "_") {
			return opts, usagef("--set %q: want FIELD=VALUE with FIELD one of %s", spec, strings.Join(invoice.Fields[:10], ", "))
		}
		if opts.Set == nil {
			opts.Set = map[string]string{}
		}
		opts.Set[field] = value
	}
	if o.skipLines < 0 || o.skipLines > 1000 {
		return opts, usagef("--skip-lines %d: want 0 to 1000", o.skipLines)
	}
	opts.SkipLines, opts.SkipNonLines, opts.Sheet = o.skipLines, o.skipNonLines, o.sheet
	var err error
	if opts.Records, err = invoice.ParseRecordsPath(o.records); err != nil {
		return opts, &usageError{err: err}
	}
	if opts.Encoding, err = invoice.CheckEncoding(o.encoding); err != nil {
		return opts, &usageError{err: err}
	}
	if opts.Values, err = invoice.NewValueFormat(o.dateFormat, o.decimalSep, o.thousandsSep); err != nil {
		return opts, &usageError{err: err}
	}
	if o.quiet {
		opts.Log = slog.New(levelHandler{slog.LevelWarn, g.log.Handler()})
	}
	return opts, nil
}

// validAccount says whether an account name given on the command line is
// one a row could name: what a row's value becomes once trimmed, without
// control characters.
func validAccount(a string) bool {
	return a != "" && utf8.RuneCountInString(a) <= invoice.MaxAccount && strings.TrimSpace(a) == a &&
		!strings.ContainsFunc(a, unicode.IsControl)
}

// runImport imports each file in turn, with its options (optionsFor: the
// flags, the config's defaults and the file's profile) as mode adjusts
// them, prints a summary per file, and decides the exit code from them all.
func runImport(c *cobra.Command, g *globalOptions, o *importOptions, files []string, mode func(*importer.Options) error) error {
	ctx := c.Context()
	for _, f := range files {
		if looksLikeConnString(f) {
			// Named as a file, it would be echoed in every message.
			return usagef("an input looks like a connection string (not shown, it may hold a password): give it with --database-url=URL")
		}
	}
	// The command line's own mistakes, and the config's, are usage errors
	// (exit 2), even when there is nothing to import. A file that two
	// profiles match fails alone, and the other files go on.
	if _, err := o.importerOptions(g); err != nil {
		return err
	}
	cfg, err := checkConfig(c, g, o)
	if err != nil {
		return err
	}
	files, fromDir, err := expandDirs(g, files, o.format != "")
	if err != nil {
		return err
	}
	drop := dropDirs{done: o.doneDir, failed: o.failedDir}
	if err := drop.check(files); err != nil {
		return err
	}
	if len(files) == 0 {
		if !o.quiet {
			g.log.Info("no input to import")
		}
		return nil
	}
	stdin := 0
	for _, f := range files {
		if f == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return usagef("standard input (-) can be given only once")
	}
	if o.sourceID != "" && len(files) > 1 {
		return usagef("--source-id names one input; give one file with it")
	}
	if o.rejects != "" && len(files) > 1 {
		return usagef("--rejects names one file; give one input with it, or use the default beside each input")
	}
	if o.mappingReport != "" && len(files) > 1 {
		return usagef("--mapping-report names one file; give one input with it")
	}
	if o.mappingReport != "" {
		if _, err := os.Lstat(o.mappingReport); err == nil {
			return usagef("--mapping-report %s exists, and batchimport never overwrites a file it did not create for the run: remove it, or choose another name", o.mappingReport)
		}
	}
	var sums []importer.Summary
	reach := &importer.Reach{} // a database given up on at one file's start is tried once for the next
	var earlier *importer.Earlier
	if len(files) > 1 {
		earlier = importer.NewEarlier() // what a dry run's files before would import
	}
	done := map[string]importer.Summary{} // by absolute path: a file given twice
	for i, f := range files {
		fo, profile, err := optionsFor(c, o, cfg, f)
		var opts importer.Options
		if err == nil {
			opts, err = fo.importerOptions(g)
			opts.Reach, opts.Earlier = reach, earlier
		}
		if err != nil {
			msg := err.Error()
			sum := importer.Summary{Status: store.StatusFailed, Source: f, Error: &msg, Err: err}
			if perr := printSummary(g.io.Out, outputFor(c, o, cfg, f), &sum); perr != nil {
				return perr
			}
			g.log.Error("import failed", "source", f, "status", sum.Status, "error", msg)
			sums = append(sums, sum)
			continue
		}
		if mode != nil {
			if err := mode(&opts); err != nil {
				return err
			}
		}
		if f == "-" && opts.Format == "" {
			return usagef("reading standard input needs --format csv|json|ndjson|xlsx")
		}
		if profile != "" {
			g.log.Info("reading with a profile", "source", f, "profile", profile, "account", fo.account)
		}
		opts.Progress = newProgressBar(g.io.ErrOut, g.io.ErrTTY && !fo.quiet && !fo.noProgress)
		sum := importer.Import(ctx, importer.Input{Name: f, Stdin: g.io.In, NoSymlink: fromDir[f]}, opts)
		if fromDir[f] && errors.Is(sum.Err, fs.ErrNotExist) {
			// Gone since the folder was listed: another job took it.
			opts.Log.Info("gone from its folder before it was read; another import took it", "source", f)
			continue
		}
		if first, ok := done[absOrSelf(f)]; ok && errors.Is(sum.Err, fs.ErrNotExist) && first.RunID != nil {
			// Given twice, and moved to --done-dir or --failed-dir the
			// first time: as already imported.
			sum = importer.Summary{Status: store.StatusSkipped, AlreadyImported: true, Source: sum.Source, SourceKey: first.SourceKey, RunID: first.RunID}
		} else if f != "-" {
			done[absOrSelf(f)] = sum
		}
		interrupted := sum.Status == store.StatusInterrupted || ctx.Err() != nil
		if !interrupted {
			from, err := drop.move(opts.Log, &sum)
			if err != nil {
				// The run is recorded: the file stays, and the next run
				// skips it as imported and tries the move again.
				msg := "the run is recorded, but the input cannot be moved: " + err.Error()
				sum.Status, sum.Error, sum.Err = store.StatusFailed, &msg, err
			}
			if from != "" && sum.RunID != nil {
				recordMovedRejects(ctx, g, opts.Log, *sum.RunID, from, *sum.RejectsFile)
			}
		}
		if err := printSummary(g.io.Out, fo.output, &sum); err != nil {
			return err
		}
		if sum.Error != nil {
			// Cron keeps stderr: a failure is said there too.
			g.log.Error("import failed", "source", sum.Source, "status", sum.Status, "error", *sum.Error)
		}
		sums = append(sums, sum)
		if interrupted {
			// One summary a file: those not started are interrupted too.
			for _, rest := range files[i+1:] {
				later := importer.Summary{Status: store.StatusInterrupted, Source: rest}
				if err := printSummary(g.io.Out, outputFor(c, o, cfg, rest), &later); err != nil {
					return err
				}
			}
			break
		}
	}
	if code := summaryExitCode(sums); code != ExitOK {
		return &exitError{code: code}
	}
	return nil
}

// looksLikeConnString says whether an argument is a PostgreSQL URL or
// key=value connection string rather than a file: "--database-url= URL"
// leaves the URL as an input.
func looksLikeConnString(arg string) bool {
	lower := strings.ToLower(arg)
	return strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://") ||
		strings.Contains(lower, "password=")
}
