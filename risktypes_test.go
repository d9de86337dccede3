package insights

import (
	"testing"

	"github.com/insightslab/insights/internal/risk"
)

// TestDetectionTypesNameTheRules: the API's detection types are the rules'
// own names, in SPEC §9's order, so that a detection's Type (converted
// from the rule's) is always one of DetectionTypes.
func TestDetectionTypesNameTheRules(t *testing.T) {
	rules := []risk.Type{risk.PasswordSpray, risk.BruteForce, risk.MFAFatigue, risk.Unfamiliar, risk.AtypicalTravel,
		risk.AnonymizedIP, risk.MaliciousIP, risk.SignUpFlood, risk.FailureSpike}
	got := DetectionTypes()
	if len(got) != len(rules) {
		t.Fatalf("%d detection types, %d rules", len(got), len(rules))
	}
	for i, r := range rules {
		if string(got[i]) != string(r) {
			t.Errorf("detection type %d is %q, the rule is %q", i, got[i], r)
		}
	}
}
