package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// SQLite copies committed pages from the write-ahead log back into the
// database file in a "checkpoint". Left automatic, the connection whose commit
// crosses the threshold runs it, so every few ingest batches one pays for
// copying and fsyncing megabytes while holding the only write lock (13% of
// the writer's time at a million calls). The checkpointer does that work on a
// connection of its own instead: a passive checkpoint runs beside the writer,
// copying the start of the log while commits append to its end.
//
// The writer starts the log afresh only when a transaction begins with
// everything copied, which a busy writer never sees; so once the log is long,
// the checkpointer holds the writer connection for the moment it takes to
// copy the last batch's pages and restart the log.
type checkpointer struct {
	conn *sql.DB
	// writer reserves the writer connection: while it is held no
	// transaction can begin.
	writer func(context.Context) (*sql.Conn, error)
	// restartFrames is checkpointRestartFrames (smaller in tests).
	restartFrames int
	// retryAt is when a restart that readers held up may be tried again.
	retryAt time.Time
	wake    chan struct{}
	quit    chan struct{}
	done    chan struct{}
	once    sync.Once
}

const (
	// checkpointEvery bounds how long committed pages wait when no commit
	// nudges the checkpointer (writes outside DB.Tx).
	checkpointEvery = time.Second
	// checkpointRestartFrames is the log length (in pages) at which the log
	// is restarted. A longer log makes every page lookup of the writer
	// search more of the log's index; restarting too often stalls the writer.
	checkpointRestartFrames = 32768 // 128 MB of 4 KB pages
	// checkpointBusyTimeout is how long a restart waits for readers of old
	// pages (an export streams for seconds) while it holds the writer, and
	// checkpointRetry how long it then leaves the writer alone: a long read
	// lets the log grow for a while instead of stalling ingest.
	checkpointBusyTimeout = 50 * time.Millisecond
	checkpointRetry       = time.Second
)

func startCheckpointer(conn *sql.DB, writer func(context.Context) (*sql.Conn, error)) *checkpointer {
	c := &checkpointer{conn: conn, writer: writer, restartFrames: checkpointRestartFrames,
		wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

// nudge tells the checkpointer that a commit added pages to the log.
func (c *checkpointer) nudge() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *checkpointer) loop() {
	defer close(c.done)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-c.quit:
			return
		case <-c.wake:
		case <-tick.C:
		}
		// Commits during a checkpoint leave one nudge behind: the next
		// round copies all of them.
		if err := c.checkpoint(context.Background()); err != nil {
			slog.Warn("sqlite checkpoint", "err", err)
		}
	}
}

// checkpoint copies what it can of the log into the database file, and
// restarts a long log.
func (c *checkpointer) checkpoint(ctx context.Context) error {
	var busy, logFrames, copied int
	if err := c.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &copied); err != nil {
		return fmt.Errorf("passive: %w", err)
	}
	if logFrames < c.restartFrames || time.Now().Before(c.retryAt) {
		return nil
	}
	// RESTART waits (up to the connection's busy timeout) for readers of
	// old pages to finish and leaves the log to be overwritten from its
	// start.
	w, err := c.writer(ctx)
	if err != nil {
		return fmt.Errorf("reserve writer: %w", err)
	}
	defer w.Close()
	if err := c.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(RESTART)").Scan(&busy, &logFrames, &copied); err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	if busy != 0 {
		c.retryAt = time.Now().Add(checkpointRetry)
	}
	return nil
}

// stop ends the loop; a checkpoint under way finishes first.
func (c *checkpointer) stop() {
	c.once.Do(func() {
		close(c.quit)
		<-c.done
	})
}

// close stops the loop and closes its connection. Closed after the other
// connections, it is the last one, and SQLite then copies the whole log into
// the database file and removes it: a stopped server leaves one file behind.
func (c *checkpointer) close() error {
	c.stop()
	return c.conn.Close()
}
