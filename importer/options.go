package importer

import (
	"log/slog"
	"time"

	"github.com/batchimport/batchimport/invoice"
	"github.com/batchimport/batchimport/mapping"
	"github.com/batchimport/batchimport/store"
)

// Options are the knobs of one import, as an operator sets them.
type Options struct {
	DB      store.Config
	Account string
	// AllowAccounts are the other accounts rows may name, or any with
	// AnyAccount; other rows naming one are rejected.
	AllowAccounts []string
	AnyAccount    bool
	// MaxRecordBytes bounds an NDJSON line (invoice.Options); 0: the
	// default.
	MaxRecordBytes int
	Format         invoice.Format // "" = by file name
	ChunkSize      int            // accepted rows per chunk
	// ChunksPerCommit is the most chunks one transaction carries. They come
	// in batches of at most MaxBatchRows rows, each of which waits at most
	// a second for its chunks.
	ChunksPerCommit int
	// Writers is how many connections write at once (--writers); 0 is
	// DefaultWriters. Standard input has one.
	Writers        int
	RejectsPath    string // "" = beside the input
	MaxRejects     int64  // 0 = no limit
	MaxNewItems    int64  // items a run may create (--max-new-items); 0 = no limit
	NoCreate       bool   // --on-new reject
	ReviewFuzzy    bool   // --on-fuzzy review
	ReviewNew      bool   // --on-new review
	FuzzyThreshold float64
	MappingReport  string        // "" = none
	SourceID       string        // "" = content hash
	MinAge         time.Duration // a file modified more recently is deferred
	Force          bool
	Columns        invoice.ColumnMap
	Delimiter      rune
	// Set, SkipLines and Values are how the input is written
	// (invoice.Options).
	Set       map[string]string
	SkipLines int
	Values    invoice.ValueFormat
	Encoding  string
	// SkipNonLines skips records that are no invoice line (a total, a
	// note, a blank row) instead of rejecting them.
	SkipNonLines bool
	// Records is where a nested JSON document's records are
	// (invoice.ParseRecordsPath).
	Records []string
	// Sheet is the sheet of an XLSX input to read; "" is the first.
	Sheet string
	Retry RetryPolicy
	// Reach is shared by the imports of one invocation: once one has given
	// up waiting for the database at its start, the next try it once.
	Reach *Reach
	// Earlier is shared by the dry runs of one invocation of several
	// inputs: what the ones before would have imported. Nil: none kept.
	Earlier  *Earlier
	Progress Progress
	Log      *slog.Logger
	DryRun   DryRun
}

// Reach remembers whether an import gave up reaching the database at its
// start (see Options.Reach).
type Reach struct{ gaveUp bool }

// DryRun says whether, and how, an import only pretends to write.
type DryRun string

// The dry-run modes.
const (
	// Write is a real import.
	Write DryRun = ""
	// ReadOnly decodes, validates and resolves against the database inside a
	// READ ONLY transaction, and writes nothing.
	ReadOnly DryRun = "read_only"
	// Rollback runs the whole import in one transaction and rolls it back,
	// so that constraints and triggers are checked too.
	Rollback DryRun = "rollback"
	// Offline validates the file alone, without a database.
	Offline DryRun = "offline"
)

// RetryPolicy bounds how a chunk is retried after a transient failure.
type RetryPolicy struct {
	Attempts   int           // retries of one chunk
	MaxElapsed time.Duration // time spent retrying one chunk
	Base       time.Duration // first backoff; it doubles up to Max
	Max        time.Duration
}

// DefaultRetry survives a server restart of about a minute.
var DefaultRetry = RetryPolicy{Attempts: 12, MaxElapsed: 2 * time.Minute, Base: 100 * time.Millisecond, Max: 10 * time.Second}

// DefaultChunkSize is the number of rows per COPY chunk.
const DefaultChunkSize = 500

// DefaultChunksPerCommit is the most chunks one transaction carries: enough
// to spare the server most per-transaction work (each transaction locks
// and updates each item it touches once), few enough that what a failure
// makes the run read and write again stays small.
const DefaultChunksPerCommit = 200

// DefaultMaxNewItems is how many items a run may create by default
// (--max-new-items). A file that would create more is far more often read
// wrongly (a lot number or a comment in the description column) than a
// catalogue that large arriving at once, and every item created stays in
// memory to the end of the run, about 1.6 KB each: 50,000 take about 80
// MiB, which keeps a run under 200 MiB.
const DefaultMaxNewItems = 50_000

// DefaultWriters is how many connections write a file by default: on two
// cores, two writers took 1M lines in 15 to 35% less time than one, and
// four no less than two (make bench, columns (b) and (f)).
const DefaultWriters = 2

// MaxWriters bounds --writers: each is a connection, and a group in
// memory.
const MaxWriters = 16

// MaxBatchRows bounds the rows of a batch, whatever the chunk size: a batch
// stays in memory until it is written.
const MaxBatchRows = 7_500

// parallelRows bounds the rows batches hold when several writers write
// (parallelSink): each writer holds a batch queued and one it writes, so
// a batch is at most parallelRows/2N rows (6,000 with two writers), and
// more writers take no more memory. Against 3,000, batches of 6,000 took
// 1M lines with 1.4 s less of the client's CPU and 5 s less of the
// server's (fewer statements per row, and groups of more rows: fewer
// stock updates, and fewer locks the foreign keys take on items again in
// each transaction), for about 20 MiB more at peak.
const parallelRows = 24_000

// batchRows bounds the rows of a batch.
func (o *Options) batchRows() int {
	if o.parallel() {
		return parallelRows / (2 * o.Writers)
	}
	return MaxBatchRows
}

// chunksPerBatch is how many chunks a batch carries.
func (o *Options) chunksPerBatch() int {
	return max(1, min(o.ChunksPerCommit, o.batchRows()/o.ChunkSize))
}

// parallel says whether several writers write, if the input is a file.
func (o *Options) parallel() bool {
	return o.Writers > 1 && o.ChunksPerCommit > 1 && o.DryRun == Write
}

func (o *Options) defaults() {
	if o.ChunkSize <= 0 {
		o.ChunkSize = DefaultChunkSize
	}
	o.ChunkSize = min(o.ChunkSize, MaxBatchRows) // a chunk is all in one batch
	if o.ChunksPerCommit <= 0 {
		o.ChunksPerCommit = DefaultChunksPerCommit
	}
	if o.Writers <= 0 {
		o.Writers = DefaultWriters
	}
	if o.Account == "" {
		o.Account = "default"
	}
	if o.Retry.Attempts == 0 {
		o.Retry = DefaultRetry
	}
	if o.Progress == nil {
		o.Progress = NoProgress{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Columns == nil {
		o.Columns = invoice.ColumnMap{}
	}
}

// resolverOptions are the resolving stage's options, for a run that has
// already created that many items (before a resume or a rewind).
func (o *Options) resolverOptions(created int64) mapping.Options {
	opts := mapping.Options{FuzzyThreshold: o.FuzzyThreshold, NoCreate: o.NoCreate, ReviewFuzzy: o.ReviewFuzzy, ReviewNew: o.ReviewNew}
	if o.MaxNewItems > 0 {
		left := max(o.MaxNewItems-created, 0)
		opts.NewItems = &left
	}
	return opts
}
