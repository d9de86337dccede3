package insights

import "strings"

// OS families derived at ingest (SPEC §2); the raw OS stays its own dimension.
const (
	FamilyWindows  = "Windows"
	FamilyMacOS    = "macOS"
	FamilyIOS      = "iOS"
	FamilyAndroid  = "Android"
	FamilyLinux    = "Linux"
	FamilyChromeOS = "ChromeOS"
	FamilyOther    = "other"
)

// Browser families derived at ingest.
const (
	FamilyChrome  = "Chrome"
	FamilyEdge    = "Edge"
	FamilyFirefox = "Firefox"
	FamilySafari  = "Safari"
	FamilyOpera   = "Opera"
	FamilyIE      = "Internet Explorer"
)

// familyRule maps a prefix of the lower-cased, space-free value to a family.
type familyRule struct {
	match  string
	family string
}

// osRules are tried in order on the lower-cased OS without spaces.
var osRules = []familyRule{
	{"windowsphone", FamilyOther}, {"windows", FamilyWindows}, {"win10", FamilyWindows}, {"win11", FamilyWindows},
	{"macos", FamilyMacOS}, {"osx", FamilyMacOS}, {"mac", FamilyMacOS},
	{"ios", FamilyIOS}, {"ipados", FamilyIOS}, {"iphone", FamilyIOS}, {"ipad", FamilyIOS},
	{"android", FamilyAndroid},
	{"chromeos", FamilyChromeOS}, {"cros", FamilyChromeOS},
	{"linux", FamilyLinux}, {"ubuntu", FamilyLinux}, {"debian", FamilyLinux}, {"fedora", FamilyLinux},
}

// browserRules are tried in order; Edge and Opera before Chrome because
// their names contain it in user-agent style strings.
var browserRules = []familyRule{
	{"edge", FamilyEdge}, {"edg", FamilyEdge}, {"microsoftedge", FamilyEdge},
	{"opera", FamilyOpera}, {"opr", FamilyOpera},
	{"chrome", FamilyChrome}, {"chromium", FamilyChrome}, {"mobilechrome", FamilyChrome},
	{"firefox", FamilyFirefox}, {"mobilefirefox", FamilyFirefox},
	{"safari", FamilySafari}, {"mobilesafari", FamilySafari},
	{"internetexplorer", FamilyIE}, {"ie", FamilyIE}, {"msie", FamilyIE},
}

// OSFamily returns the family of a raw OS value: "Windows10", "Windows 10"
// and "Windows" are Windows ("Windows Phone" is other); "MacOs" and
// "Mac OS X" are macOS; the rest is iOS, Android, Linux, ChromeOS or
// "other". An empty OS has an empty family.
func OSFamily(os string) string { return family(os, osRules) }

// BrowserFamily returns the family of a raw browser value ("Chrome 120.0",
// "Edge 119", "Mobile Safari 17" → Chrome, Edge, Safari); unknown browsers
// are "other", empty stays empty.
func BrowserFamily(browser string) string { return family(browser, browserRules) }

func family(raw string, rules []familyRule) string {
	if raw == "" {
		return ""
	}
	for _, r := range rules {
		if foldPrefix(raw, r.match) {
			return r.family
		}
	}
	return FamilyOther
}

// foldPrefix reports whether raw, with spaces dropped and ASCII letters
// lower-cased, starts with the lower-case prefix. It allocates nothing:
// it runs for every event at ingest.
func foldPrefix(raw, prefix string) bool {
	j := 0
	for i := 0; i < len(raw) && j < len(prefix); i++ {
		c := raw[i]
		if c == ' ' {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[j] {
			return false
		}
		j++
	}
	return j == len(prefix)
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), sub)
}
