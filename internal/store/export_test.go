package store

import "context"

// MigrateTo applies the embedded migrations up to version, so a test can
// write data under the schema a migration finds.
func (db *DB) MigrateTo(ctx context.Context, version int64) error {
	provider, err := db.migrator()
	if err != nil {
		return err
	}
	_, err = provider.UpTo(ctx, version)
	return err
}

// MigrateDownTo undoes the applied migrations newer than version.
func (db *DB) MigrateDownTo(ctx context.Context, version int64) error {
	provider, err := db.migrator()
	if err != nil {
		return err
	}
	_, err = provider.DownTo(ctx, version)
	return err
}
