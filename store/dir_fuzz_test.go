package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/insightslab/insights/store"
)

// validKey is the key rule of Dir, written independently of the store.
var validKey = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$`)

func wantValidKey(key string) bool {
	if len(key) > 512 || !validKey.MatchString(key) || strings.Split(key, "/")[0] == "LOCK" {
		return false
	}
	for seg := range strings.SplitSeq(key, "/") {
		if len(seg) > 255 {
			return false
		}
	}
	return true
}

// FuzzDirKey checks that a DirStore takes exactly the valid keys, keeps
// each as the file its path names, and rejects the others naming them.
func FuzzDirKey(f *testing.F) {
	for _, seed := range []string{"days/2024-01-01.v3", "a/../b", ".tmp-1", "LOCK", "a//b", "/abs", "x."} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, key string) {
		ctx := context.Background()
		dir := t.TempDir()
		s, err := store.Dir(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		err = s.Put(ctx, key, []byte(key))
		if !wantValidKey(key) {
			if !errors.Is(err, store.ErrInvalidKey) || !strings.Contains(err.Error(), strconv.Quote(key)) {
				t.Fatalf("Put(%q): %v; want ErrInvalidKey naming the key", key, err)
			}
			if keys, err := s.List(ctx, ""); err != nil || len(keys) != 0 {
				t.Fatalf("List after a rejected Put = %q, %v", keys, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Put(%q): %v", key, err)
		}
		if b, err := os.ReadFile(filepath.Join(dir, key)); err != nil || string(b) != key {
			t.Fatalf("the file of %q holds %q, %v", key, b, err)
		}
		if keys, err := s.List(ctx, ""); err != nil || !slices.Equal(keys, []string{key}) {
			t.Fatalf("List = %q, %v; want [%q]", keys, err, key)
		}
	})
}
