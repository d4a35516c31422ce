package calls

import (
	"context"
	"database/sql"
)

// Observers tells several observers about each ingest batch, in order,
// inside its transaction: a TxBatchObserver once per batch, others once per
// call. The first error rolls the batch back.
type Observers []TxObserver

// CallChanged tells every observer about one call.
func (o Observers) CallChanged(ctx context.Context, tx *sql.Tx, before, after *Call) error {
	for _, ob := range o {
		if err := ob.CallChanged(ctx, tx, before, after); err != nil {
			return err
		}
	}
	return nil
}

// CallsChangedTx tells every observer about a batch.
func (o Observers) CallsChangedTx(ctx context.Context, tx *sql.Tx, changes []CallChange) error {
	for _, ob := range o {
		if bo, ok := ob.(TxBatchObserver); ok {
			if err := bo.CallsChangedTx(ctx, tx, changes); err != nil {
				return err
			}
			continue
		}
		for _, c := range changes {
			if err := ob.CallChanged(ctx, tx, c.Before, c.After); err != nil {
				return err
			}
		}
	}
	return nil
}

// Publishers tells several publishers, in order, after a commit.
type Publishers []Publisher

// CallsChanged tells every publisher.
func (p Publishers) CallsChanged(ctx context.Context, events []CallEvent) {
	for _, pub := range p {
		pub.CallsChanged(ctx, events)
	}
}
