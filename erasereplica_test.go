package insights_test

import (
	"testing"

	"github.com/insightslab/insights/internal/replicatest"
	"github.com/insightslab/insights/store"
)

func TestEraseOnReplicas(t *testing.T) {
	replicatest.RunErase(t, store.NewMemory())
}
