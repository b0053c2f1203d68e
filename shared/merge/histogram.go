package merge

// MiB is the unit of the size histogram's bounds. HDFS block sizes are powers of two (128 MiB),
// so binary megabytes put a full-block file at the start of a bucket, not the end of one.
const MiB = 1 << 20

// SizeBounds are the file-size histogram's bucket limits: bucket i holds sizes below
// SizeBounds[i] and at least SizeBounds[i-1]; the last bucket holds everything from 256 MiB up.
var SizeBounds = [...]int64{1 * MiB, 16 * MiB, 64 * MiB, 128 * MiB, 256 * MiB}

// SizeLabels name the histogram's buckets, in order.
var SizeLabels = [...]string{"<1MB", "1-16MB", "16-64MB", "64-128MB", "128-256MB", ">256MB"}

// Histogram counts files per size bucket (see SizeBounds). The scanner and the metrics share
// it, so a listing's histogram is the one a table's metrics show.
type Histogram [len(SizeBounds) + 1]int64

// SizeBucket returns the index of the bucket that holds size.
func SizeBucket(size int64) int {
	for i, b := range SizeBounds {
		if size < b {
			return i
		}
	}
	return len(SizeBounds)
}
