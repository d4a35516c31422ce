package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// ErrUnavailable is the cause of requests cancelled because the database
// stopped answering, and is reported for them.
var ErrUnavailable = errors.New("database unavailable")

// Health probes and timeouts of a PostgreSQL database. A database that
// refuses connections fails queries at once; one that is frozen (or cut off
// by the network) would hold every query until TCP gives up, so a prober
// asks it a trivial question every probeInterval on a connection of its own
// (a busy pool does not look like an outage) and, when no answer comes
// within probeTimeout, marks it down: queries in flight are cancelled and
// new requests are refused at once, until a probe succeeds again.
const (
	probeInterval = 150 * time.Millisecond
	probeTimeout  = 500 * time.Millisecond
	// connectTimeout bounds opening a connection, unless the URL says
	// otherwise (connect_timeout).
	connectTimeout = 2 * time.Second
	// statementTimeout bounds every statement on the server, unless the URL
	// says otherwise (statement_timeout): a runaway query is cut off rather
	// than holding a connection.
	statementTimeout = "30s"
)

// health is a database's availability as the prober last saw it.
type health struct {
	down atomic.Bool
	mu   sync.Mutex
	// lost is cancelled when the database goes down; a new one replaces it
	// when it comes back.
	lost       context.Context
	cancelLost context.CancelCauseFunc
	stop       context.CancelFunc
	done       chan struct{}
}

func newHealth() *health {
	h := &health{done: make(chan struct{})}
	h.lost, h.cancelLost = context.WithCancelCause(context.Background())
	return h
}

// watch probes db until Close; each probe has probeTimeout to answer.
func (h *health) watch(probe *sql.DB) {
	ctx, stop := context.WithCancel(context.Background())
	h.stop = stop
	go func() {
		defer close(h.done)
		t := time.NewTicker(probeInterval)
		defer t.Stop()
		for {
			pctx, cancel := context.WithTimeout(ctx, probeTimeout)
			err := probe.PingContext(pctx)
			cancel()
			if ctx.Err() != nil {
				return
			}
			h.set(err == nil)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

func (h *health) set(up bool) {
	if h.down.Load() == !up {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if up {
		h.lost, h.cancelLost = context.WithCancelCause(context.Background())
	} else {
		h.cancelLost(ErrUnavailable)
	}
	h.down.Store(!up)
}

func (h *health) close() {
	if h.stop != nil {
		h.stop()
		<-h.done
	}
}

// Available reports whether the database answered its last probe (always
// true for SQLite, which is in the process).
func (db *DB) Available() bool { return db.health == nil || !db.health.down.Load() }

// Guard returns a context for a request's database work that is cancelled,
// with cause ErrUnavailable, as soon as the database is seen to stop
// answering, so no request waits on a frozen database. Call release when
// the request is done.
func (db *DB) Guard(ctx context.Context) (guarded context.Context, release func()) {
	if db.health == nil {
		return ctx, func() {}
	}
	db.health.mu.Lock()
	lost := db.health.lost
	db.health.mu.Unlock()
	guarded, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(lost, func() { cancel(ErrUnavailable) })
	return guarded, func() {
		stop()
		cancel(nil)
	}
}

// IsUnavailable reports whether err (met by a request with context ctx)
// means the database cannot be reached now, rather than a bug: the guard
// cancelled the request, the database is marked down, or the error is a
// refused or timed-out connection.
func IsUnavailable(ctx context.Context, err error) bool {
	if errors.Is(err, ErrUnavailable) || errors.Is(context.Cause(ctx), ErrUnavailable) {
		return true
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exceptions; 57P01–57P03: the server is
		// shutting down, crashed, or not accepting connections yet.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	// A connection that ends mid-answer (unexpected EOF) is a lost server.
	return errors.As(err, &connectErr) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		(errors.As(err, &netErr) && netErr.Timeout()) || errors.Is(err, driver.ErrBadConn)
}

// validatingConnector hands database/sql connections that report whether
// they are still usable (driver.Validator). pgx closes a connection whose
// query was cancelled; without the check database/sql returned such a
// connection to the pool, or straight to a waiting request, whose query then
// failed with "driver: bad connection" after its retries were used up on
// other closed connections.
type validatingConnector struct{ driver.Connector }

func (c validatingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if pc, ok := conn.(*stdlib.Conn); ok {
		return validatingConn{pc}, nil
	}
	return conn, nil
}

// validatingConn is a pgx connection with IsValid; every other method is
// pgx's own.
type validatingConn struct{ *stdlib.Conn }

// IsValid implements driver.Validator: a closed connection goes back to no
// pool.
func (c validatingConn) IsValid() bool { return !c.Conn.Conn().IsClosed() }
