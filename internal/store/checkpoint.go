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
	wake          chan struct{}
	stop          chan struct{}
	done          chan struct{}
	once          sync.Once
}

const (
	// checkpointEvery bounds how long committed pages wait when no commit
	// nudges the checkpointer (writes outside DB.Tx).
	checkpointEvery = time.Second
	// checkpointRestartFrames is the log length (in pages) at which the log
	// is restarted. A longer log makes every page lookup of the writer
	// search more of the log's index; restarting too often stalls the writer.
	checkpointRestartFrames = 32768 // 128 MB of 4 KB pages
)

func startCheckpointer(conn *sql.DB, writer func(context.Context) (*sql.Conn, error)) *checkpointer {
	c := &checkpointer{conn: conn, writer: writer, restartFrames: checkpointRestartFrames,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
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
		case <-c.stop:
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
	if logFrames < c.restartFrames {
		return nil
	}
	// RESTART waits (up to the busy timeout) for readers of old pages to
	// finish and leaves the log to be overwritten from its start.
	w, err := c.writer(ctx)
	if err != nil {
		return fmt.Errorf("reserve writer: %w", err)
	}
	defer w.Close()
	if err := c.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(RESTART)").Scan(&busy, &logFrames, &copied); err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	return nil
}

// close stops the loop and closes its connection. Closed after the other
// connections, it is the last one, and SQLite then copies the whole log into
// the database file and removes it: a stopped server leaves one file behind.
func (c *checkpointer) close() error {
	var err error
	c.once.Do(func() {
		close(c.stop)
		<-c.done
		err = c.conn.Close()
	})
	return err
}
