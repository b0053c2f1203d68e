// Package merge is hivemerge's domain: merge tasks, their lifecycle, clusters and the use cases
// over them, with the small interfaces (ports) that adapters implement.
package merge
