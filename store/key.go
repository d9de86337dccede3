package store

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalidKey is returned by a Store for a key it cannot keep: by a
// DirStore for one that cannot name a file (see Dir for the rules).
var ErrInvalidKey = errors.New("store: invalid key")

const (
	maxKeyLen     = 512
	maxSegmentLen = 255 // NAME_MAX of Linux file systems
	lockName      = "LOCK"
	metaName      = "meta.json" // the insights engine's metadata: its directory is a store
	tempPrefix    = ".tmp-"
)

// checkKey returns nil if key can name a file of a DirStore, or an error
// wrapping ErrInvalidKey that names key and says why not.
func checkKey(key string) error {
	why := pathProblem(key)
	if key == lockName || strings.HasPrefix(key, lockName+"/") {
		why = "LOCK is the lock file"
	}
	if why != "" {
		return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, why)
	}
	return nil
}

// pathProblem says why p is not a slash-separated path of valid
// segments, or returns "" if it is. It allocates only to explain.
func pathProblem(p string) string {
	switch {
	case p == "":
		return "empty"
	case len(p) > maxKeyLen:
		return "longer than " + strconv.Itoa(maxKeyLen) + " bytes"
	}
	for seg := range strings.SplitSeq(p, "/") {
		if why := segmentProblem(seg); why != "" {
			return why
		}
	}
	return ""
}

// segmentProblem says why s cannot be one segment of a key, or returns
// "" if it can. Names starting with a dot are reserved for the store's
// temporary files, and exclude "." and "..".
func segmentProblem(s string) string {
	switch {
	case s == "":
		return "empty segment"
	case s[0] == '.':
		return "segment " + strconv.Quote(s) + " starts with a dot"
	case len(s) > maxSegmentLen:
		return "segment longer than " + strconv.Itoa(maxSegmentLen) + " bytes"
	}
	for i := range len(s) {
		if !keyByte(s[i]) {
			return "byte " + strconv.Quote(s[i:i+1]) + " not in [A-Za-z0-9._-]"
		}
	}
	return ""
}

func keyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '_' || c == '-'
}
