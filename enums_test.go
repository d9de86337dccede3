package insights_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/insightslab/insights"
)

// TestUnknownKindListsTheKinds: the error of an unknown enum value says
// which values there are.
func TestUnknownKindListsTheKinds(t *testing.T) {
	_, err := insights.ParseKind("login")
	want := `unknown kind "login"; want one of signIn, signUp, userCreated, userDeleted, mfa, registration, reset`
	if !errors.Is(err, insights.ErrInvalidEvent) || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %s", err, want)
	}
}
