package insights

import "testing"

func TestFamilies(t *testing.T) {
	for _, tc := range []struct{ raw, os, browser string }{
		{"Windows10", FamilyWindows, FamilyOther}, {"Windows 10", FamilyWindows, FamilyOther},
		{"windows phone", FamilyOther, FamilyOther}, {"MacOs", FamilyMacOS, FamilyOther},
		{"Mac OS X", FamilyMacOS, FamilyOther}, {"iOS 17", FamilyIOS, FamilyOther},
		{"Mobile Safari 17.1", FamilyOther, FamilySafari}, {"Microsoft Edge", FamilyOther, FamilyEdge},
		{"Chrome 120.0", FamilyOther, FamilyChrome}, {"", "", ""}, {"W", FamilyOther, FamilyOther},
	} {
		if got := OSFamily(tc.raw); got != tc.os {
			t.Errorf("OSFamily(%q) = %q, want %q", tc.raw, got, tc.os)
		}
		if got := BrowserFamily(tc.raw); got != tc.browser {
			t.Errorf("BrowserFamily(%q) = %q, want %q", tc.raw, got, tc.browser)
		}
	}
}
