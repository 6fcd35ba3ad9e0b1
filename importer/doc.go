// Package importer runs an import: one input, one run, in three stages a
// reader can point at. It knows nothing of cobra or terminals.
//
//   - The source (source.go) is the input opened once. A file is hashed,
//     and exactly the bytes hashed are then read again from the same open
//     file, through a hash that must come out the same; its size and time
//     are checked before every commit. A run thus imports the bytes its
//     source key names, or fails naming the change.
//   - Decode and resolve (produce.go, resolve.go) run on a goroutine of
//     their own: records in file order, validated (package invoice),
//     resolved to items (package mapping) against each account's catalogue
//     (catalogue.go), cut into chunks. The producer has no side effect but
//     the chunks it sends.
//   - Write (write.go) runs on the run's goroutine: it gathers the ready
//     chunks into a batch, writes the batch through a sink, and counts it
//     once the sink says it is committed.
//
// The sink (sink.go) is chosen once per run: long transactions of many
// batches with retries on a new connection (import), where a failed
// transaction sends the run back to its checkpoint to read its input again
// (rewindError), retrying transient failures on a new connection
// (retry.go); the same on N connections at once (--writers, lanes.go),
// whose groups commit in input order; one outer transaction rolled back at the end (dryrun
// --rollback), or nothing written at all (dryrun, and dryrun --offline).
// Claiming a run (claim.go) takes the source's lock and the run's owner
// token, which every commit checks, so a process that lost its lock can
// never commit again; it also holds the account's lock, shared, so that
// corrections of the account wait or are refused while the import runs, and
// every commit checks that no correction changed a catalogue its rows were
// resolved against (store.Batch.Seen). Finishing it (finish.go) records its
// status, reverts it when nothing of it may stay, and writes the rejects
// file from the rejects the run stored in the database, with its chunks
// (rejects.go). Errors reach the summary typed (errors.go).
package importer
