package store

import "context"

// MigrateTo applies the migrations up to version upTo, for tests of what a
// migration does to data made before it.
func (s *Store) MigrateTo(ctx context.Context, upTo int) ([]int, error) {
	return s.migrateTo(ctx, upTo)
}

// CopyFrame is what frames rows of EncodeRow into a binary COPY.
var CopyFrame = [2][]byte{copyHeader, copyTrailer}
