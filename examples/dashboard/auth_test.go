package main

import (
	"net/http/httptest"
	"testing"

	"github.com/insightslab/insights/web"
)

func TestDemoAuthorize(t *testing.T) {
	auth := demoAuthorize("s3cret")
	cases := []struct {
		name  string
		set   func(h func(k, v string))
		basic [2]string
		ok    bool
	}{
		{"bearer token", func(h func(k, v string)) { h("Authorization", "Bearer s3cret") }, [2]string{}, true},
		{"wrong bearer token", func(h func(k, v string)) { h("Authorization", "Bearer s3cre") }, [2]string{}, false},
		{"basic password", nil, [2]string{"anyone", "s3cret"}, true},
		{"wrong basic password", nil, [2]string{"s3cret", "nope"}, false},
		{"nothing", nil, [2]string{}, false},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/users", nil)
		if c.set != nil {
			c.set(r.Header.Set)
		}
		if c.basic[0] != "" {
			r.SetBasicAuth(c.basic[0], c.basic[1])
		}
		p, err := auth(r)
		if ok := err == nil && p == web.ViewAggregates|web.ViewSignIns; ok != c.ok {
			t.Errorf("%s: permissions %v, error %v", c.name, p, err)
		}
	}
}

func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:8080": true, "[::1]:0": true, "localhost:80": true,
		"0.0.0.0:8080": false, ":8080": false, "192.168.1.2:80": false, "example.com:80": false, "nonsense": false} {
		if err := checkLoopback(addr); (err == nil) != ok {
			t.Errorf("%s: %v", addr, err)
		}
	}
}
