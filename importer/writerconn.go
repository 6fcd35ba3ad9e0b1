package importer

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgerrcode"

	"github.com/batchimport/batchimport/store"
)

// writerWait bounds the wait for a writer's connection beyond the run's
// own. A pooler with no room left in its pool (PgBouncer in session mode)
// does not refuse a new client: it holds it until a session frees, or
// until its query_wait_timeout, two minutes by default, fails it; the run
// goes on with the writers it has instead.
const writerWait = 5 * time.Second

// errNoConnectionSoon is a writer's connection that did not come within
// writerWait.
var errNoConnectionSoon = errors.New("no connection within " + writerWait.String() + " (a pooler's pool full?)")

// sibling opens another connection like db's, or fails with
// errNoConnectionSoon after writerWait.
func sibling(ctx context.Context, db *store.Store) (t *store.Store, err error) {
	return t, soon(ctx, func(ctx context.Context) error {
		t, err = db.Sibling(ctx)
		return err
	})
}

// reconnect opens db's connection again, or fails with
// errNoConnectionSoon after writerWait.
func reconnect(ctx context.Context, db *store.Store) error {
	return soon(ctx, db.Reconnect)
}

// soon runs connect with writerWait to do it in.
func soon(ctx context.Context, connect func(context.Context) error) error {
	wctx, cancel := context.WithTimeout(ctx, writerWait)
	defer cancel()
	err := connect(wctx)
	if err != nil && ctx.Err() == nil && errors.Is(wctx.Err(), context.DeadlineExceeded) {
		return errNoConnectionSoon
	}
	return err
}

// noRoom says that a writer's connection failed for want of room: the
// server's (SQLSTATE 53300: max_connections, or the role's CONNECTION
// LIMIT), or a pooler's (errNoConnectionSoon).
func noRoom(err error) bool {
	return store.SQLState(err) == pgerrcode.TooManyConnections || errors.Is(err, errNoConnectionSoon)
}
